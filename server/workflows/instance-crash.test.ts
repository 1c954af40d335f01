// Kill-at-each-step: the BFF that runs an instance workflow is SIGKILLed at each step in turn — right after the step's
// effect happened but before its result was checkpointed, the nastiest moment — and a restarted process (same
// replica id: DBOS recovers that executor's pending workflows at launch) finishes the job. The steps come from the
// workflows themselves, not from a list here: the catalog's operation workflows are each run once to the end (and the
// create once into its rollback), the durable steps the engine recorded are read back, and each run is then killed
// after every one of them — a step added to a workflow is a new kill point without touching this file. Create, delete
// and the create's undos (its rollback) are killed at every step; the catalog's other operation workflows are listed
// below as not yet driven here, and a workflow added to the catalog fails this file until it is one or the other. Every run must end with the instance running (create)
// or cleanly gone / failed and rolled back, with no leaked storage volume, target, address, port, agent object or node.
// The workers are real separate processes (test/instance-worker.ts) sharing this test's Postgres and lab; this process
// only enqueues (engine-client.ts), as a web-only replica would. Last, a replica that dies and never returns has its
// pending create taken over by another one through the replica heartbeats (replicas.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { getStorage } from "@/server/storage/backend";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { agentFaults, type InstanceLab, startInstanceLab, systemVolumesOf, waitOperation } from "@/test/instance-lab";
import { startEngine, stopEngine } from "./engine";
import { workflows } from "./registry";
import { startEngineClient, stopEngineClient } from "./engine-client";
import { catalog, type OperationEntry } from "./catalog";
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
async function worker(
  replicaId: string,
  crashAt?: string,
  env: Record<string, string> = {},
): Promise<{ proc: ChildProcess; exited: Promise<NodeJS.Signals | number | null> }> {
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
    const [dpu] = await db
      .select()
      .from(s.nodes)
      .where(and(eq(s.nodes.parentNodeId, hostId), eq(s.nodes.kind, "dpu")));
    const a = agentFor(dpu!);
    const [d, c, n] = await Promise.all([a.listDisks(), a.listCidata(), a.listNics()]);
    agentObjects += [...d, ...c, ...n].filter((o) => o.name.includes(instanceId)).length;
  }
  const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, instanceId));
  const ports = await db.select().from(s.ports).where(eq(s.ports.tenantId, fx.tenant.id));
  const addrs = await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.tenantId, fx.tenant.id));
  const sysRows = await db
    .select()
    .from(s.volumes)
    .where(and(eq(s.volumes.tenantId, fx.tenant.id), eq(s.volumes.kind, "system")));
  const busyNodes = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.poolId, L.poolId), eq(s.nodes.kind, "host")));
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

/** The durable steps the engine recorded for a run, in the order they started (its own bookkeeping left out). */
async function recordedSteps(workflowId: string): Promise<string[]> {
  const r = await db.execute<{ function_name: string }>(
    sql`select function_name from dbos.operation_outputs where workflow_uuid = ${workflowId} order by function_id`,
  );
  return [...new Set(r.rows.map((x) => x.function_name).filter((n) => !n.startsWith("DBOS.")))];
}

// The operation workflows this file drives, and those it does not drive yet (each has its own recovery tests). Every
// operation workflow of the catalog is in exactly one of the two: a new one fails "covers the catalog" below.
const operationEntries = Object.values(catalog).filter((e): e is typeof e & OperationEntry<never> => "target" in e);
const driven = [catalog.instanceCreate.name, catalog.instanceDelete.name];
const notYetDriven = [
  catalog.instancePower.name,
  catalog.instanceAttachVolume.name,
  catalog.instanceDetachVolume.name,
  catalog.instanceBackup.name,
  catalog.instanceRebuild.name,
  catalog.instanceRecover.name,
  catalog.nodeEnrollBulk.name,
  catalog.nodeInspect.name,
  catalog.nodePower.name,
  catalog.dpuFirmwareUpdate.name,
];

/** What the reference runs recorded: every durable step of create and delete, and of the create's rollback. */
let steps: { create: string[]; delete: string[]; undo: string[] };

const create = () => tenant().instances.create({ tenant: fx.tenant.slug, name: uniq("srv"), poolId: L.poolId, imageId: L.imageId, subnetId: L.subnetId });

describe("a BFF killed at each step of an instance workflow", () => {
  it("covers the catalog: every operation workflow is driven here or listed as not yet", () => {
    expect(operationEntries.map((e) => e.name).sort()).toEqual([...driven, ...notYetDriven].sort());
  });

  it("learns each workflow's durable steps from a reference run of it", async () => {
    const replica = `crash-ref-${uniq()}`;
    const w = await worker(replica);
    try {
      const r = await create();
      expect((await waitOperation(db, r.operationId, 60_000)).status).toBe("succeeded");
      const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
      expect((await waitOperation(db, d.operationId, 60_000)).status).toBe("succeeded");
      await agentFaults(L, { failAlways: ["createNic"] });
      let f: { id: string; operationId: string };
      let failed: Awaited<ReturnType<typeof waitOperation>>;
      try {
        f = await create();
        failed = await waitOperation(db, f.operationId, 60_000);
      } finally {
        await agentFaults(L, { failAlways: [] });
      }
      expect(failed.status).toBe("failed");
      const rolledBack = await recordedSteps(f.operationId);
      steps = {
        create: await recordedSteps(r.operationId),
        delete: await recordedSteps(d.operationId),
        undo: rolledBack.slice(rolledBack.indexOf("mark failing")),
      };
      const cleanup = await tenant().instances.delete({ tenant: fx.tenant.slug, id: f.id });
      expect((await waitOperation(db, cleanup.operationId, 30_000)).status).toBe("succeeded");
    } finally {
      await stopWorker(w);
    }
    // Sanity: the steps users see are among them, and the rollback undoes the create's pieces in reverse.
    expect(steps.create).toEqual(expect.arrayContaining(["reserve node", "network", "system disk", "data volumes", "power on", "wait for OS", "mark running"]));
    expect(steps.delete.at(-1)).toBe("mark deleted");
    expect(steps.undo[0]).toBe("mark failing");
    expect(steps.undo.at(-1)).toBe("mark failed");
    expect(steps.undo.filter((x) => x.startsWith("rollback: ")).length).toBeGreaterThan(0);
  }, 240_000);

  // Pairs each create step with a delete step, so one instance per round covers both (the restarted worker is itself
  // set to die in the delete, and a third process finishes that).
  it("create killed after each of its steps, delete after each of its: both finish, nothing leaks", async () => {
    expect(steps?.create.length, "the reference run must have recorded the steps").toBeGreaterThan(0);
    const rounds = steps.create.map((c, i) => [c, steps.delete[i % steps.delete.length]!] as const);
    // Every delete step is killed at too, even if the create had fewer steps.
    for (let i = rounds.length; i < steps.delete.length; i++) rounds.push([steps.create[i % steps.create.length]!, steps.delete[i]!]);
    for (const [createStep, deleteStep] of rounds) {
      const at = `create killed after '${createStep}', delete after '${deleteStep}'`;
      const replica = `crash-${uniq()}`;
      const w1 = await worker(replica, `after:${createStep}`);
      const r = await create();
      expect(await w1.exited, at).toBe("SIGKILL");
      const w2 = await worker(replica, `after:${deleteStep}`);
      const created = await waitOperation(db, r.operationId, 60_000);
      expect(created.error, at).toBeNull();
      expect(created.status, at).toBe("succeeded");
      const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, r.id));
      expect(inst!.state, at).toBe("running");
      const [host] = await db.select().from(s.nodes).where(eq(s.nodes.id, inst!.nodeId!));
      expect(host!.provisionState, at).toBe("active");
      // Exactly one of each, even though the killed step ran twice.
      expect(await systemVolumesOf(r.id), at).toHaveLength(1);
      expect(await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.tenantId, fx.tenant.id)), at).toHaveLength(1);

      const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
      expect(await w2.exited, at).toBe("SIGKILL");
      const w3 = await worker(replica);
      try {
        const deleted = await waitOperation(db, d.operationId, 60_000);
        expect(deleted.error, at).toBeNull();
        expect(deleted.status, at).toBe("succeeded");
        expect(await leftovers(r.id), at).toEqual(clean);
      } finally {
        await stopWorker(w3);
      }
    }
  }, 1_800_000);

  it("a create rolling back after a NIC failure, killed after each of its undo steps: ends failed with nothing leaked", async () => {
    expect(steps?.undo.length, "the reference run must have recorded the steps").toBeGreaterThan(0);
    await agentFaults(L, { failAlways: ["createNic"] });
    try {
      for (const undoStep of steps.undo) {
        const at = `rollback killed after '${undoStep}'`;
        const replica = `crash-${uniq()}`;
        const w1 = await worker(replica, `after:${undoStep}`);
        const r = await create();
        expect(await w1.exited, at).toBe("SIGKILL");
        const w2 = await worker(replica);
        try {
          const op = await waitOperation(db, r.operationId, 60_000);
          expect(op.status, at).toBe("failed");
          expect(op.error, at).toMatch(/DPU agent/);
          const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, r.id));
          expect(inst!.state, at).toBe("failed");
          expect(await leftovers(r.id), at).toEqual(clean);
          // The failed instance is deleted without fuss (it holds nothing).
          const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
          expect((await waitOperation(db, d.operationId, 30_000)).status, at).toBe("succeeded");
        } finally {
          await stopWorker(w2);
        }
      }
    } finally {
      await agentFaults(L, { failAlways: [] });
    }
  }, 1_800_000);

  it("a second BFF takes over the pending create of one that died and never came back", async () => {
    // Fast heartbeats so the test need not wait 20 s: a replica silent for 1.5 s is dead.
    const fast = { ANVIL_REPLICA_HEARTBEAT_MS: "200", ANVIL_REPLICA_DEAD_MS: "1500" };
    const a = `crash-a-${uniq()}`;
    const b = `crash-b-${uniq()}`;
    const wa = await worker(a, "before:power on", fast);
    const r = await create();
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
