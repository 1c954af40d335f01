// The durable workflow engine: DBOS Transact, keeping its state in the same Postgres (schema "dbos").
// Workflows are declared in the catalog (./catalog.ts: name, queue, arguments, steps) and defined with
// defineWorkflow(catalog.x, fn) in their modules; the process that runs them hands startEngine the registry of those
// definitions (./registry.ts), so this module imports no workflow module. Callers — tRPC routers, which Next bundles
// separately — start them through ./start.ts (startOperation / enqueue) and the engine on globalThis, never by
// importing workflow modules. Queues carry the work, so any replica sharing the database can run any workflow.
import { AsyncLocalStorage } from "node:async_hooks";
import os from "node:os";
import { DBOS, Error as DBOSErrors } from "@dbos-inc/dbos-sdk";
import { logger } from "@/server/lib/log";
import { stepEnded, workflowEnded, workflowStarted } from "@/server/lib/metrics";
import { catalog, QUEUES, type QueueName, type ScheduleEntry, type WorkflowEntry } from "./catalog";

export { QUEUES, type QueueName };

export interface EnqueueOptions {
  /** Idempotency: starting the same id twice returns the first run. Use the operation id. */
  workflowID?: string;
  queue?: QueueName;
}

export interface Engine {
  executorId: string;
  /** By name: only ./start.ts calls this, with a catalog entry's name, queue and checked arguments. */
  enqueue(name: string, args: unknown[], opts?: EnqueueOptions): Promise<string>;
  result<T = unknown>(workflowID: string): Promise<T>;
  cancel(workflowID: string): Promise<void>;
}

type AnyFn = (...args: never[]) => Promise<unknown>;

/** A workflow defined in this process: its catalog entry and the DBOS-registered body. */
export interface DefinedWorkflow<A extends unknown[] = never[], R = unknown> {
  readonly entry: WorkflowEntry<A>;
  readonly fn: (...args: A) => Promise<R>;
}
/** A periodic workflow defined in this process (registered as workflow `schedule.<name>`). */
export interface DefinedSchedule {
  readonly name: string;
  readonly schedule: string;
  readonly fn: (t: Date, ctx: unknown) => Promise<void>;
}
/** What a process runs: handed to startEngine by its caller (./registry.ts has Anvil's). */
export interface WorkflowRegistry {
  readonly workflows: readonly { readonly entry: { readonly name: string }; readonly fn: AnyFn }[];
  readonly schedules: readonly DefinedSchedule[];
  /** Run once the engine is launched, before any schedule (housekeeping of the engine's own tables). */
  readonly onLaunch?: readonly (() => Promise<unknown>)[];
}

// Definitions survive a second load of a workflow module (Next bundles routers separately): DBOS registers a name once.
const g = globalThis as unknown as {
  __anvilEngine?: Engine;
  __anvilWorkflows?: Map<string, DefinedWorkflow<never[], unknown>>;
  __anvilSchedules?: Map<string, DefinedSchedule>;
};
g.__anvilWorkflows ??= new Map();
g.__anvilSchedules ??= new Map();
const defined = g.__anvilWorkflows;
const definedSchedules = g.__anvilSchedules;

/**
 * Registers the durable workflow of a catalog entry (must run before startEngine launches DBOS). The body's parameters
 * are checked against the entry's argument tuple.
 */
export function defineWorkflow<A extends unknown[], R>(entry: WorkflowEntry<A>, fn: (...args: NoInfer<A>) => Promise<R>): DefinedWorkflow<A, R> {
  const had = defined.get(entry.name);
  if (had) return had as unknown as DefinedWorkflow<A, R>;
  const wf = DBOS.registerWorkflow(measured(entry.name, fn), { name: entry.name });
  const d: DefinedWorkflow<A, R> = { entry, fn: wf };
  defined.set(entry.name, d as unknown as DefinedWorkflow<never[], unknown>);
  return d;
}

/** A periodic workflow (cron with seconds: "*\/30 * * * * *"); DBOS runs each tick once across replicas. */
export function defineSchedule(entry: ScheduleEntry, schedule: string, fn: (t: Date) => Promise<void>): DefinedSchedule {
  const name = entry.schedule;
  const had = definedSchedules.get(name);
  if (had) return had;
  const wf = DBOS.registerWorkflow(
    measured(`schedule.${name}`, async (t: Date, _ctx: unknown) => fn(t)),
    { name: `schedule.${name}` },
  );
  const d = { name, fn: wf, schedule };
  definedSchedules.set(name, d);
  return d;
}

/** The workflow a step runs in, for the step metrics' label. */
const currentWorkflow = new AsyncLocalStorage<string>();

/**
 * A workflow body that counts its runs for /metrics (server/lib/metrics.ts): started, and ended by outcome. A run
 * recovered after a crash counts again: these are runs of the body in this process, not distinct workflows.
 * The wrapper shows the body's source as its own: DBOS derives the application version from the source of every
 * registered workflow (a changed body must not be recovered by old code), and that must not be the wrapper's.
 */
function measured<A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  const wrapper = (...args: A) =>
    currentWorkflow.run(name, async () => {
      workflowStarted(name);
      try {
        const r = await fn(...args);
        workflowEnded(name, "success");
        return r;
      } catch (e) {
        workflowEnded(name, e instanceof DBOSErrors.DBOSWorkflowCancelledError ? "cancelled" : "failure");
        throw e;
      }
    });
  Object.defineProperty(wrapper, "toString", { value: () => fn.toString() });
  return wrapper;
}

/**
 * Test hook for the kill-at-each-step tests: ANVIL_CRASH_AT="before:<step>" SIGKILLs this process right before the
 * n-th run of that step's body (default the first; "before:<step>#2" the second), "after:<step>" right after the body
 * resolved but before DBOS checkpoints its result — the nastiest moment, when the effect happened and the record of
 * it did not. Unset (always, outside those tests) it costs one comparison per step.
 */
const crashAt = (() => {
  const v = process.env.ANVIL_CRASH_AT?.trim();
  if (!v) return null;
  const m = /^(before|after):(.+?)(?:#(\d+))?$/.exec(v);
  if (!m) throw new Error(`ANVIL_CRASH_AT must be before:<step>[#n] or after:<step>[#n], got ${v}`);
  return { when: m[1] as "before" | "after", name: m[2]!, nth: Number(m[3] ?? 1), seen: 0 };
})();
function crashHere(when: "before" | "after", name: string) {
  if (!crashAt || crashAt.when !== when || crashAt.name !== name) return;
  if (++crashAt.seen !== crashAt.nth) return;
  process.stderr.write(`ANVIL_CRASH_AT: killing process ${process.pid} ${when} step "${name}"\n`);
  process.kill(process.pid, "SIGKILL");
}

/** A checkpointed step: on recovery a finished step returns its recorded result instead of running again. */
export function step<R>(name: string, fn: () => Promise<R>, opts: { retries?: number; intervalMs?: number } = {}): Promise<R> {
  const run = crashAt
    ? async () => {
        crashHere("before", name);
        const r = await fn();
        crashHere("after", name);
        return r;
      }
    : fn;
  // Each attempt of the body is timed for /metrics; a step replayed from its checkpoint runs no body and is not.
  const workflow = currentWorkflow.getStore() ?? "none";
  const body = async () => {
    const t0 = performance.now();
    try {
      const r = await run();
      stepEnded(workflow, name, true, (performance.now() - t0) / 1000);
      return r;
    } catch (e) {
      stepEnded(workflow, name, false, (performance.now() - t0) / 1000);
      throw e;
    }
  };
  return DBOS.runStep(body, {
    name,
    retriesAllowed: (opts.retries ?? 0) > 0,
    maxAttempts: (opts.retries ?? 0) + 1,
    intervalSeconds: (opts.intervalMs ?? 500) / 1000,
    backoffRate: 2,
    // An error that says a retry cannot help (a BmcError with transient false: refused, unsupported, bad credentials)
    // fails the step at once with its own message, instead of a retry and "exceeded its maximum of N retries".
    shouldRetry: (e: unknown) => (e as { transient?: unknown } | null)?.transient !== false,
  });
}

export const sleep = (ms: number) => DBOS.sleepms(ms);

export function getEngine(): Engine {
  if (!g.__anvilEngine) throw new Error("The workflow engine is not running in this process.");
  return g.__anvilEngine;
}

export function engineRunning(): boolean {
  return !!g.__anvilEngine;
}

export async function startEngine(registry: WorkflowRegistry, opts: { databaseUrl: string; executorId?: string; schedules?: boolean }): Promise<Engine> {
  if (g.__anvilEngine) return g.__anvilEngine;
  const byName = new Map(registry.workflows.map((w) => [w.entry.name, w.fn]));
  // Every catalog entry runs somewhere: a catalog entry without its definition here is a registry that forgot a module.
  const missing = Object.values(catalog)
    .filter((e) => !byName.has(e.name))
    .map((e) => e.name);
  if (missing.length) throw new Error(`The workflow registry lacks catalog workflows: ${missing.join(", ")}.`);
  const executorId = opts.executorId ?? process.env.ANVIL_REPLICA_ID ?? `anvil-${os.hostname()}-${process.env.PORT ?? 3000}`;
  DBOS.setConfig({
    name: "anvil",
    systemDatabaseUrl: opts.databaseUrl,
    systemDatabaseSchemaName: "dbos",
    systemDatabasePoolSize: Number(process.env.ANVIL_ENGINE_POOL ?? 20),
    executorID: executorId,
    logLevel: process.env.DBOS_LOG_LEVEL ?? "warn",
  });
  await DBOS.launch();
  for (const [name, o] of Object.entries(QUEUES)) await DBOS.registerQueue(name, o);
  for (const hook of registry.onLaunch ?? []) await hook().catch((e: Error) => logger.warn({ error: e.message }, "engine launch housekeeping failed"));
  if (opts.schedules !== false && registry.schedules.length)
    await DBOS.applySchedules(registry.schedules.map((s) => ({ scheduleName: s.name, workflowFn: s.fn, schedule: s.schedule, queueName: "sync" })));

  const engine: Engine = {
    executorId,
    async enqueue(name, args, o = {}) {
      const fn = byName.get(name);
      if (!fn) throw new Error(`No workflow named ${name} is registered.`);
      const h = await DBOS.startWorkflow(fn as (...a: unknown[]) => Promise<unknown>, {
        workflowID: o.workflowID,
        queueName: o.queue ?? "nodes",
      })(...args);
      return h.workflowID;
    },
    async result<T>(id: string) {
      return (await DBOS.retrieveWorkflow<T>(id).getResult()) as T;
    },
    async cancel(id) {
      await DBOS.cancelWorkflow(id);
    },
  };
  g.__anvilEngine = engine;
  // Heartbeat + takeover of dead replicas' pending workflows (replicas.ts).
  const { startHeartbeat } = await import("./replicas");
  startHeartbeat(executorId);
  logger.info({ executorId, workflows: byName.size }, "workflow engine started");
  return engine;
}

export async function stopEngine(): Promise<void> {
  if (!g.__anvilEngine) return;
  const { stopHeartbeat } = await import("./replicas");
  await stopHeartbeat();
  g.__anvilEngine = undefined;
  await DBOS.shutdown();
}
