// Test helper: worker processes for a test file — each a second Anvil process running the workflow engine
// (test/instance-worker.ts) under its own replica id, optionally SIGKILLing itself at a step (ANVIL_CRASH_AT), as
// a crashing BFF would. Whatever is still running after the file's tests is killed.
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll } from "vitest";
import { workerArgs } from "./worker-bundle";

export interface Worker {
  proc: ChildProcess;
  /** The exit signal or code. */
  exited: Promise<NodeJS.Signals | number | null>;
}

/** Call after the hooks that set up what the workers use (the lab, the engine client): their teardown runs after this kill. */
export function useWorkers() {
  const running = new Set<ChildProcess>();
  afterAll(() => {
    for (const w of running) w.kill("SIGKILL");
  });

  /** Starts a worker process; resolves once its engine is up. `crashAt` makes it SIGKILL itself at that step. */
  async function start(replicaId: string, crashAt?: string, env: Record<string, string> = {}): Promise<Worker> {
    const proc = spawn(process.execPath, await workerArgs(), {
      env: { ...process.env, ANVIL_REPLICA_ID: replicaId, ANVIL_CRASH_AT: crashAt ?? "", ANVIL_STOP_GRACE_MS: "2000", DBOS_LOG_LEVEL: "error", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(proc);
    let err = "";
    proc.stderr!.on("data", (d) => {
      err += String(d);
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      proc.once("exit", (code, signal) => {
        running.delete(proc);
        resolve(signal ?? code);
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker ${replicaId} did not start: ${err}`)), 60_000);
      proc.stdout!.on("data", (d) => {
        if (String(d).includes("ready")) {
          clearTimeout(t);
          resolve();
        }
      });
      proc.once("exit", () => reject(new Error(`worker ${replicaId} exited before it was ready: ${err}`)));
    });
    return { proc, exited };
  }

  /** Asks a worker to stop (SIGTERM) unless it has already ended, and waits for it to exit. */
  async function stop(w: Worker) {
    if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill("SIGTERM");
    await w.exited;
  }

  return { start, stop, running };
}
