// Kill-at-each-step: the BFF that runs an instance workflow is SIGKILLed at each step in turn — right after the step's
// effect happened but before its result was checkpointed, the nastiest moment — and a restarted process (same
// replica id: DBOS recovers that executor's pending workflows at launch) finishes the job. Create, delete and the
// create's rollback are each killed at every one of their steps. Every run must end with the instance running (create)
// or cleanly gone / failed and rolled back, with no leaked storage volume, target, address, port, agent object or node.
// The workers are real separate processes (test/instance-worker.ts) sharing this test's Postgres and lab; this process
// only enqueues (engine-client.ts), as a web-only replica would. Last, a replica that dies and never returns has its
// pending create taken over by another one through the replica heartbeats (replicas.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { getStorage } from "@/server/storage/backend";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { agentFaults, type InstanceLab, startInstanceLab, systemVolumesOf, waitOperation } from "@/test/instance-lab";
import { startEngine, stopEngine } from "./engine";
import { workflows } from "./registry";
import { startEngineClient, stopEngineClient } from "./engine-client";
import { agentFor } from "./instances";

let fx: Fixtures;
let L: InstanceLab;
const db = useTestDb();
const workers = new Set<ChildProcess>();

beforeAll(async () => {
  fx = await makeFixtures(db);
  // Setup (enrolling and inspecting the lab) runs workflows here; then this process stops running any.
  await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: `crash-setup-${uniq()}`, schedules: false });
  L = await startInstanceLab(fx, { hosts: 2 });
  await stopEngine();
  await startEngineClient({ databaseUrl: process.env.DATABASE_URL! });
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.kill("SIGKILL");
  await stopEngineClient();
  await L?.close();
});

/** Starts a worker process; resolves once its engine is up. `crashAt` makes it SIGKILL itself at that step. */
async function worker(replicaId: string, crashAt?: string, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; exited: Promise<NodeJS.Signals | number | null> }> {
  const proc = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "test/instance-worker.ts"], {
    env: { ...process.env, ANVIL_REPLICA_ID: replicaId, ANVIL_CRASH_AT: crashAt ?? "", ANVIL_STOP_GRACE_MS: "2000", DBOS_LOG_LEVEL: "error", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  workers.add(proc);
  let err = "";
  proc.stderr!.on("data", (d) => {
    err += String(d);
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    proc.once("exit", (code, signal) => {
      workers.delete(proc);
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

async function stopWorker(w: { proc: ChildProcess; exited: Promise<unknown> }) {
  if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill("SIGTERM");
  await w.exited;
}

const tenant = () => callerAs(fx, "tenantMember");


/** What an instance that is gone (or rolled back) must not hold anywhere. */
async function leftovers(instanceId: string) {
  const storage = getStorage();
  const vols = await systemVolumesOf(instanceId);
  let targets = 0;
  for (const v of vols) targets += (await storage.listTargets({ volumeId: v.id })).items.length;
  let agentObjects = 0;
  for (const hostId of L.hosts.values()) {
    const [dpu] = await db.select().from(s.nodes).where(and(eq(s.nodes.parentNodeId, hostId), eq(s.nodes.kind, "dpu")));
    const a = agentFor(dpu!);
    const [d, c, n] = await Promise.all([a.listDisks(), a.listCidata(), a.listNics()]);
    agentObjects += [...d, ...c, ...n].filter((o) => o.name.includes(instanceId)).length;
  }
  const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, instanceId));
  const ports = await db.select().from(s.ports).where(eq(s.ports.tenantId, fx.tenant.id));
  const addrs = await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.tenantId, fx.tenant.id));
  const sysRows = await db.select().from(s.volumes).where(and(eq(s.volumes.tenantId, fx.tenant.id), eq(s.volumes.kind, "system")));
  const busyNodes = await db.select().from(s.nodes).where(and(eq(s.nodes.poolId, L.poolId), eq(s.nodes.kind, "host")));
  return {
    storageVolumes: vols.length,
    targets,
    agentObjects,
    held: [inst!.nodeId, inst!.portId, inst!.storageVolumeId, inst!.storageTargetId].filter(Boolean).length,
    ports: ports.length,
    addresses: addrs.length,
    systemVolumeRows: sysRows.length,
    hostsNotAvailable: busyNodes.filter((n) => n.provisionState !== "available").map((n) => `${n.name}:${n.provisionState}`),
  };
}
const clean = { storageVolumes: 0, targets: 0, agentObjects: 0, held: 0, ports: 0, addresses: 0, systemVolumeRows: 0, hostsNotAvailable: [] };

const CREATE_STEPS = ["reserve node", "network", "system disk", "data volumes", "boot override to disk", "power on", "wait for OS", "mark running"];
const DELETE_STEPS = ["power off", "detach from DPU", "delete exports and system volume", "release address and port", "clean node", "mark deleted"];
const ROLLBACK_STEPS = ["mark failing", ...DELETE_STEPS.slice(0, 5).map((x) => `rollback: ${x}`), "mark failed"];

describe("a BFF killed at each step of an instance workflow", () => {
  // Pairs a create step with a delete step, so one instance per round covers both (the restarted worker is itself
  // set to die in the delete, and a third process finishes that).
  const rounds = CREATE_STEPS.map((c, i) => [c, DELETE_STEPS[i % DELETE_STEPS.length]!] as const);

  it.each(rounds)("create killed after '%s', delete killed after '%s': both finish, nothing leaks", async (createStep, deleteStep) => {
    const replica = `crash-${uniq()}`;
    const w1 = await worker(replica, `after:${createStep}`);
    const r = await tenant().instances.create({ tenant: fx.tenant.slug, name: uniq("srv"), poolId: L.poolId, imageId: L.imageId, subnetId: L.subnetId });
    expect(await w1.exited).toBe("SIGKILL");
    const w2 = await worker(replica, `after:${deleteStep}`);
    const created = await waitOperation(db, r.operationId, 60_000);
    expect(created.error).toBeNull();
    expect(created.status).toBe("succeeded");
    const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, r.id));
    expect(inst!.state).toBe("running");
    const [host] = await db.select().from(s.nodes).where(eq(s.nodes.id, inst!.nodeId!));
    expect(host!.provisionState).toBe("active");
    // Exactly one of each, even though the killed step ran twice.
    expect(await systemVolumesOf(r.id)).toHaveLength(1);
    expect(await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.tenantId, fx.tenant.id))).toHaveLength(1);

    const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
    expect(await w2.exited).toBe("SIGKILL");
    const w3 = await worker(replica);
    try {
      const deleted = await waitOperation(db, d.operationId, 60_000);
      expect(deleted.error).toBeNull();
      expect(deleted.status).toBe("succeeded");
      expect(await leftovers(r.id)).toEqual(clean);
    } finally {
      await stopWorker(w3);
    }
  }, 150_000);

  it.each(ROLLBACK_STEPS)("a create rolling back after a NIC failure, killed after '%s': ends failed with nothing leaked", async (rollbackStep) => {
    const replica = `crash-${uniq()}`;
    await agentFaults(L, { failAlways: ["createNic"] });
    try {
      const w1 = await worker(replica, `after:${rollbackStep}`);
      const r = await tenant().instances.create({ tenant: fx.tenant.slug, name: uniq("srv"), poolId: L.poolId, imageId: L.imageId, subnetId: L.subnetId });
      expect(await w1.exited).toBe("SIGKILL");
      const w2 = await worker(replica);
      try {
        const op = await waitOperation(db, r.operationId, 60_000);
        expect(op.status).toBe("failed");
        expect(op.error).toMatch(/DPU agent/);
        const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, r.id));
        expect(inst!.state).toBe("failed");
        expect(await leftovers(r.id)).toEqual(clean);
        // The failed instance is deleted without fuss (it holds nothing).
        const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
        expect((await waitOperation(db, d.operationId, 30_000)).status).toBe("succeeded");
      } finally {
        await stopWorker(w2);
      }
    } finally {
      await agentFaults(L, { failAlways: [] });
    }
  }, 150_000);

  it("a second BFF takes over the pending create of one that died and never came back", async () => {
    // Fast heartbeats so the test need not wait 20 s: a replica silent for 1.5 s is dead.
    const fast = { ANVIL_REPLICA_HEARTBEAT_MS: "200", ANVIL_REPLICA_DEAD_MS: "1500" };
    const a = `crash-a-${uniq()}`;
    const b = `crash-b-${uniq()}`;
    const wa = await worker(a, "before:power on", fast);
    const r = await tenant().instances.create({ tenant: fx.tenant.slug, name: uniq("srv"), poolId: L.poolId, imageId: L.imageId, subnetId: L.subnetId });
    expect(await wa.exited).toBe("SIGKILL");
    expect((await db.select().from(s.replicas).where(eq(s.replicas.executorId, a))).length).toBe(1); // it left no goodbye
    const wb = await worker(b, undefined, fast);
    try {
      const op = await waitOperation(db, r.operationId, 60_000);
      expect(op.error).toBeNull();
      expect(op.status).toBe("succeeded");
      expect((await db.select().from(s.instances).where(eq(s.instances.id, r.id)))[0]!.state).toBe("running");
      expect(await db.select().from(s.replicas).where(eq(s.replicas.executorId, a))).toHaveLength(0);
      expect(await db.select().from(s.replicas).where(eq(s.replicas.executorId, b))).toHaveLength(1);
      expect(await systemVolumesOf(r.id)).toHaveLength(1);
      const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
      expect((await waitOperation(db, d.operationId, 60_000)).status).toBe("succeeded");
      expect(await leftovers(r.id)).toEqual(clean);
    } finally {
      await stopWorker(wb);
    }
    // A clean stop removes the replica's row: nobody will "take over" a replica that said goodbye.
    expect(await db.select().from(s.replicas).where(eq(s.replicas.executorId, b))).toHaveLength(0);
  }, 150_000);
});
