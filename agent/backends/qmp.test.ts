// QMP client against a real QEMU (a paused q35 VM: starts in well under a second) and, for the one case QEMU will not
// produce on demand (a command that never gets an answer), a unix socket that speaks only the greeting.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QmpClient, QmpError } from "./qmp";

const QEMU = "/usr/bin/qemu-system-x86_64";

/** The QmpError a promise rejects with; fails the test if it resolves or rejects with something else. */
async function rejection(p: Promise<unknown>): Promise<QmpError> {
  const err = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (!(err instanceof QmpError)) throw err;
  return err;
}

function kvmUsable(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

describe("QmpClient", () => {
  let dir: string;
  let qemu: ChildProcess;
  let qmp: QmpClient;
  let exited: Promise<number | null>;

  beforeAll(async () => {
    accessSync(QEMU, constants.X_OK); // qemu-system-x86 (scripts/system-deps.sh) is required, not optional
    dir = mkdtempSync(join(tmpdir(), "anvil-qmp-"));
    const sock = join(dir, "qmp.sock");
    qemu = spawn(
      QEMU,
      [
        ...["-machine", "q35", "-accel", kvmUsable() ? "kvm" : "tcg", "-m", "128", "-nodefaults", "-display", "none", "-S"],
        ...["-device", "pcie-root-port,id=rp1,chassis=1,slot=1", "-qmp", `unix:${sock},server=on,wait=off`],
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    exited = new Promise((r) => qemu.once("exit", (code) => r(code)));
    qmp = await QmpClient.connect(sock, { connectTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    qmp?.close();
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the greeting and runs commands after negotiating capabilities", async () => {
    expect(qmp.greeting.QMP.version.qemu.major).toBeGreaterThanOrEqual(7);
    const status = await qmp.execute<{ status: string; running: boolean }>("query-status");
    expect(status).toEqual(expect.objectContaining({ status: "prelaunch", running: false }));
  });

  it("turns QEMU errors into QmpError with QEMU's class and description", async () => {
    const err = await rejection(qmp.execute("device_del", { id: "no-such-device" }));
    expect(err).toBeInstanceOf(QmpError);
    expect(err.errorClass).toBe("DeviceNotFound");
    expect(err.message).toContain("device_del");
    expect(err.message).toContain("no-such-device");
    const unknown = await rejection(qmp.execute("no-such-command"));
    expect(unknown.errorClass).toBe("CommandNotFound");
    // the connection is still usable after errors
    expect(await qmp.execute("query-name")).toEqual({});
  });

  it("delivers events to waitEvent, filtered by name and data", async () => {
    const resumed = qmp.waitEvent("RESUME", undefined, 10_000);
    await qmp.execute("cont");
    const ev = await resumed;
    expect(ev.event).toBe("RESUME");
    expect(ev.timestamp?.seconds).toBeGreaterThan(0);

    const stopped = qmp.waitEvent("STOP", undefined, 10_000);
    await qmp.execute("stop");
    await stopped;

    // a filter sees the event's data: wait for one job's "concluded" status, not another job's or another status
    const otherJob = rejection(qmp.waitEvent("JOB_STATUS_CHANGE", (d) => d.id === "other-job", 1500));
    const concluded = qmp.waitEvent("JOB_STATUS_CHANGE", (d) => d.id === "j1" && d.status === "concluded", 10_000);
    await qmp.execute("blockdev-create", { "job-id": "j1", options: { driver: "file", filename: join(dir, "disk.raw"), size: 1 << 20 } });
    expect((await concluded).data).toEqual({ id: "j1", status: "concluded" });
    await qmp.execute("job-dismiss", { id: "j1" });
    const err = await otherJob;
    expect(err).toBeInstanceOf(QmpError);
    expect(err.errorClass).toBe("Timeout");
  });

  it("abandons a wait when its signal aborts", async () => {
    const ac = new AbortController();
    const wait = qmp.waitEvent("SHUTDOWN", undefined, 60_000, ac.signal);
    ac.abort();
    expect((await rejection(wait)).errorClass).toBe("Aborted");
  });

  it("rejects waits and later commands once QEMU quits", async () => {
    const shutdown = qmp.waitEvent("SHUTDOWN", undefined, 10_000);
    const never = qmp.waitEvent("NEVER", undefined, 60_000);
    await qmp.execute("quit");
    expect((await shutdown).data?.reason).toBe("host-qmp-quit");
    const err = await rejection(never);
    expect(err.errorClass).toBe("Transport");
    expect(await exited).toBe(0);
    const after = await rejection(qmp.execute("query-status"));
    expect(after).toBeInstanceOf(QmpError);
    expect(qmp.closed).toBe(true);
  });
});

describe("QmpClient timeouts", () => {
  let server: Server;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "anvil-qmp-silent-"));
    // Answers the greeting and capabilities like QEMU, then never answers anything else.
    server = createServer((s) => {
      s.write(`${JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: "" }, capabilities: [] } })}\n`);
      s.on("data", (d) => {
        const msg = JSON.parse(String(d).trim().split("\n")[0]);
        if (msg.execute === "qmp_capabilities") s.write(`${JSON.stringify({ return: {}, id: msg.id })}\n`);
      });
    });
    await new Promise<void>((r) => server.listen(join(dir, "qmp.sock"), r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("rejects a command that gets no answer within its timeout", async () => {
    const qmp = await QmpClient.connect(join(dir, "qmp.sock"));
    try {
      const err = await rejection(qmp.execute("query-status", undefined, { timeoutMs: 300 }));
      expect(err).toBeInstanceOf(QmpError);
      expect(err.errorClass).toBe("Timeout");
      expect(err.message).toContain("query-status");
    } finally {
      qmp.close();
    }
  });

  it("fails to connect to a socket that does not exist, after its connect timeout", async () => {
    const err = await rejection(QmpClient.connect(join(dir, "missing.sock"), { connectTimeoutMs: 200 }));
    expect(err).toBeInstanceOf(QmpError);
    expect(err.message).toContain("missing.sock");
  });
});
