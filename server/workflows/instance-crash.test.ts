// Kill-at-each-step: the BFF that runs a workflow is SIGKILLed at each step in turn — right after the step's effect
// happened but before its result was checkpointed, the nastiest moment — and a restarted process (same replica id:
// DBOS recovers that executor's pending workflows at launch) finishes the job. Every operation workflow of the catalog
// is driven here: `runs` below says, per workflow (and per variant: power stop/start/reboot, a host off, a DPU on),
// how to start it through the real API and what "finished cleanly" means — the operation's end, the end state, and
// nothing leaked or doubled (storage volume, target, address, port, agent object, node, image, snapshot). The steps
// come from the workflows themselves, not from a list here: each run is done once to the end, the durable steps the
// engine recorded are read back, and the run is then repeated, killed after every one of them — a step added to a
// workflow is a new kill point without touching this file; a catalog entry with no run here fails "covers the
// catalog". Where a failure can be injected (DPU agent faults), a run that fails on purpose (create, attach, rebuild, recover)
// is killed after each step of its rollback (the saga's undos, from "mark failing" on).
// Runs are grouped into segments that start and end in the same state (an instance created and deleted, with the
// actions on a running instance in between; a lab host enrolled, inspected, powered, updated, booted from an ISO and deleted), repeated
// until each run was killed at each of its steps. The workers are real separate processes (test/instance-worker.ts)
// sharing this test's Postgres and lab; this process only enqueues (engine-client.ts), as a web-only replica would.
// One worker process is spent per kill: the one restarted to finish a killed run is already set to die in the next.
// Last, a replica that dies and never returns has its pending create taken over by another one through the replica
// heartbeats (replicas.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { dpuHostNqn } from "@/server/drivers/dpu-agent/cidata";
import { getStorage } from "@/server/storage/backend";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { bmcAdmin } from "@/test/bmc-admin";
import { uniq, useTestDb } from "@/test/db";
import { sharedImageServer } from "@/test/image-server";
import { workerArgs } from "@/test/worker-bundle";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { agentFaults, type InstanceLab, startInstanceLab, systemVolumesOf, waitOperation } from "@/test/instance-lab";
import { startEngine, stopEngine } from "./engine";
import { workflows } from "./registry";
import { startEngineClient, stopEngineClient } from "./engine-client";
import { catalog, type OperationEntry } from "./catalog";
import { agentFor, placement } from "./instances";

let fx: Fixtures;
let L: InstanceLab;
/** A lone Redfish host with its DPU, for the node workflows: enrolled afresh each round, never given instances. */
let rack: RedfishSim;
const db = useTestDb();
const workers = new Set<ChildProcess>();

/** How a worker starts (test/worker-bundle.ts). */
let bundle: string[];

beforeAll(async () => {
  bundle = await workerArgs();
  fx = await makeFixtures(db);
  // Setup (enrolling and inspecting the lab) runs workflows here; then this process stops running any.
  await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: `crash-setup-${uniq()}`, schedules: false });
  [L, rack] = await Promise.all([startInstanceLab(fx, { hosts: 2 }), startRedfishSim({ hosts: 1, powerTransitionMs: 60, bootMs: 50, updateMs: 300 })]);
  await stopEngine();
  await startEngineClient({ databaseUrl: process.env.DATABASE_URL! });
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.kill("SIGKILL");
  await stopEngineClient();
  await Promise.all([L?.close(), rack?.close()]);
});

type Worker = { proc: ChildProcess; exited: Promise<NodeJS.Signals | number | null> };

/** Resolves when the process prints `word` on a line; rejects if it exits first or takes over a minute. */
function printed(proc: ChildProcess, word: string, what: string, err: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not print ${word}: ${err()}`)), 60_000);
    const seen = (d: unknown) => {
      if (!String(d).split("\n").includes(word)) return;
      clearTimeout(t);
      proc.stdout!.off("data", seen);
      resolve();
    };
    proc.stdout!.on("data", seen);
    proc.once("exit", () => reject(new Error(`${what} exited before it printed ${word}: ${err()}`)));
  });
}

/** A worker process that loaded its dependencies and waits to be told its replica id and crash point (one line). */
function warmWorker(): { proc: ChildProcess; exited: Worker["exited"]; warm: Promise<void>; err: () => string } {
  const proc = spawn(process.execPath, bundle, {
    env: { ...process.env, ANVIL_WORKER_WARM: "1", ANVIL_STOP_GRACE_MS: "2000", DBOS_LOG_LEVEL: "error" },
    stdio: ["pipe", "pipe", "pipe"],
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
  const warm = printed(proc, "warm", "a worker", () => err);
  warm.catch(() => {}); // awaited when the worker is taken; a spare never taken may die quietly
  return { proc, exited, warm, err: () => err };
}
/** One worker kept warm, so a restart after a kill does not wait for the modules to load. */
let spare: ReturnType<typeof warmWorker> | null = null;

/** Starts a worker process; resolves once its engine is up. `crashAt` makes it SIGKILL itself at that step. */
async function worker(replicaId: string, crashAt?: string, env: Record<string, string> = {}): Promise<Worker> {
  const w = spare ?? warmWorker();
  spare = warmWorker();
  await w.warm;
  w.proc.stdin!.end(`${JSON.stringify({ ANVIL_REPLICA_ID: replicaId, ANVIL_CRASH_AT: crashAt ?? "", ...env })}\n`);
  await printed(w.proc, "ready", `worker ${replicaId}`, w.err);
  return { proc: w.proc, exited: w.exited };
}

async function stopWorker(w: Worker) {
  if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill("SIGTERM");
  await w.exited;
}

const tenant = () => callerAs(fx, "tenantMember");
const admin = () => callerAs(fx, "operatorAdmin");
const T = () => fx.tenant.slug;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const instanceRow = async (id: string) => (await db.select().from(s.instances).where(eq(s.instances.id, id)))[0]!;
const nodeRow = async (id: string) => (await db.select().from(s.nodes).where(eq(s.nodes.id, id)))[0]!;

/** The DPU agent objects named after an instance or a volume, by the lab host whose DPU holds them. */
async function agentObjects(...ids: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const dpus = await db
    .select()
    .from(s.nodes)
    .where(and(inArray(s.nodes.parentNodeId, [...L.hosts.values()]), eq(s.nodes.kind, "dpu")));
  for (const [name, hostId] of L.hosts) {
    const a = agentFor(dpus.find((d) => d.parentNodeId === hostId)!);
    const [d, c, n] = await Promise.all([a.listDisks(), a.listCidata(), a.listNics()]);
    const mine = [...d, ...c, ...n].map((o) => o.name).filter((o) => ids.some((id) => o.includes(id)));
    if (mine.length) out[name] = mine.sort();
  }
  return out;
}
const labNameOf = (hostId: string) => [...L.hosts.entries()].find(([, id]) => id === hostId)![0];

/** What an instance that is gone (or rolled back) must not hold anywhere. */
async function leftovers(instanceId: string) {
  const storage = getStorage();
  const vols = await systemVolumesOf(instanceId);
  let targets = 0;
  for (const v of vols) targets += (await storage.listTargets({ volumeId: v.id })).items.length;
  const inst = await instanceRow(instanceId);
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
    agentObjects: Object.values(await agentObjects(instanceId)).flat().length,
    held: [inst.nodeId, inst.portId, inst.storageVolumeId, inst.storageTargetId].filter(Boolean).length,
    ports: ports.length,
    addresses: addrs.length,
    systemVolumeRows: sysRows.length,
    hostsNotAvailable: busyNodes.filter((n) => n.provisionState !== "available").map((n) => `${n.name}:${n.provisionState}`),
  };
}
const clean = { storageVolumes: 0, targets: 0, agentObjects: 0, held: 0, ports: 0, addresses: 0, systemVolumeRows: 0, hostsNotAvailable: [] };

/** The storage targets of a storage volume, by initiator. */
async function initiatorsOf(storageVolumeId: string) {
  return (await getStorage().listTargets({ volumeId: storageVolumeId })).items.map((t) => t.initiator).sort();
}

/**
 * A live instance holds exactly one of each piece, all on its host's DPU: one system volume exported to that DPU only,
 * its boot disk, seed and NIC there and nowhere else, each attached data volume exported there and plugged in; one
 * address and one port; its host active, the other lab hosts available.
 */
async function expectLive(instanceId: string, state: "running" | "stopped", at: string, dataVolumeIds: string[] = []) {
  const inst = await instanceRow(instanceId);
  expect(inst.state, at).toBe(state);
  const { host, dpu } = (await placement(inst))!;
  const sys = await systemVolumesOf(instanceId);
  expect(
    sys.map((v) => v.id),
    at,
  ).toEqual([inst.storageVolumeId]);
  expect(await initiatorsOf(inst.storageVolumeId!), at).toEqual([dpuHostNqn(dpu.id)]);
  const data = dataVolumeIds.length ? await db.select().from(s.volumes).where(inArray(s.volumes.id, dataVolumeIds)) : [];
  for (const v of data) expect(await initiatorsOf(v.storageVolumeId!), at).toEqual([dpuHostNqn(dpu.id)]);
  const want = [`i-${instanceId}-boot`, `i-${instanceId}-nic0`, `i-${instanceId}-seed`, ...dataVolumeIds.map((v) => `v-${v}`)].sort();
  expect(await agentObjects(instanceId, ...dataVolumeIds), at).toEqual({ [labNameOf(host.id)]: want });
  expect(await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.tenantId, fx.tenant.id)), at).toHaveLength(1);
  expect(await db.select().from(s.ports).where(eq(s.ports.tenantId, fx.tenant.id)), at).toHaveLength(1);
  const systemRows = await db
    .select()
    .from(s.volumes)
    .where(and(eq(s.volumes.tenantId, fx.tenant.id), eq(s.volumes.kind, "system")));
  expect(systemRows, at).toHaveLength(1);
  const hosts = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.poolId, L.poolId), eq(s.nodes.kind, "host")));
  expect(hosts.map((n) => `${n.id === host.id ? "its host" : "other"}:${n.provisionState}`).sort(), at).toEqual(["its host:active", "other:available"]);
}

/** A data volume that is attached nowhere: no attachment, no export, no disk on any DPU. */
async function expectDetached(volumeId: string, at: string) {
  const [v] = await db.select().from(s.volumes).where(eq(s.volumes.id, volumeId));
  expect(v!.state, at).toBe("available");
  expect(await db.select().from(s.volumeAttachments).where(eq(s.volumeAttachments.volumeId, volumeId)), at).toHaveLength(0);
  expect(await initiatorsOf(v!.storageVolumeId!), at).toEqual([]);
  expect(await agentObjects(volumeId), at).toEqual({});
}

type Operation = Awaited<ReturnType<typeof waitOperation>>;

/** One way to run a catalog workflow, and what its clean end looks like. */
interface Run {
  /** The workflow it runs (every operation workflow of the catalog needs at least one run). */
  entry: Pick<OperationEntry, "name">;
  /** Names the run in messages and keys its recorded steps (a workflow's variants have one each). */
  label: string;
  /** DPU agent operations that fail while it runs: it fails on purpose, and is killed after each step of its rollback
   * (from "mark failing" on), not of the rest. */
  fault?: string[];
  /** Not killed (it repeats another run's steps, e.g. the delete of a create that failed). */
  noKills?: boolean;
  /** Starts it through the API as a person would; returns its operation id. */
  start(): Promise<string>;
  /** Finished cleanly: the operation's end, the end state, nothing leaked or doubled. */
  check(op: Operation, at: string): Promise<void>;
}

/** What the runs act on: the instance of the current round, its data volumes, the node of the current round. */
const cur = {
  instanceId: "",
  address: "" as string | null,
  mac: "" as string | null,
  hostId: "",
  volumeId: "",
  spareVolumeId: "",
  nodeName: "",
  nodeId: "",
  dpuId: "",
  firmware: 0,
  /** The hot-added NIC of the NIC runs (eth1), and the second subnet it is moved to. */
  nicPortId: "",
  otherSubnetId: "",
};
const succeeded = (op: Operation, at: string) => {
  expect(op.error, at).toBeNull();
  expect(op.status, at).toBe("succeeded");
};
/** A run that was made to fail by a DPU agent fault ended failed, with the agent's error. */
const failedOnTheDpu = (op: Operation, at: string) => {
  expect(op.status, at).toBe("failed");
  expect(op.error, at).toMatch(/DPU agent/);
};
async function remember(instanceId: string) {
  const got = await tenant().instances.get({ tenant: T(), id: instanceId });
  Object.assign(cur, { instanceId, address: got.address, mac: got.mac, hostId: (await instanceRow(instanceId)).nodeId! });
}
async function sameNetworkIdentity(at: string) {
  const got = await tenant().instances.get({ tenant: T(), id: cur.instanceId });
  expect([got.address, got.mac], at).toEqual([cur.address, cur.mac]);
}
const createInstance = async () => {
  const r = await tenant().instances.create({ tenant: T(), name: uniq("srv"), poolId: L.poolId, imageId: L.imageId, subnetId: L.subnetId });
  cur.instanceId = r.id;
  return r.operationId;
};
const dataVolume = async () => (await tenant().volumes.create({ tenant: T(), name: uniq("data"), sizeGiB: 1 })).id;
const DPU_OS = "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS";
/** A rebuild from the lab's image: running again with the same address and MAC, whether it worked or (with a DPU
 * fault detaching the old disk) was rolled back onto the old disk. */
const rebuildRun = (fault?: string[]): Run => ({
  entry: catalog.instanceRebuild,
  label: fault ? "instance.rebuild failing to detach the old disk" : "instance.rebuild",
  fault,
  start: async () => (await tenant().instances.rebuild({ tenant: T(), id: cur.instanceId, imageId: L.imageId })).operationId,
  async check(op, at) {
    if (fault) failedOnTheDpu(op, at);
    else succeeded(op, at);
    await sameNetworkIdentity(at);
    await expectLive(cur.instanceId, "running", at);
  },
});
/** The operation a node verb started for its one node. */
const firstOperation = async (results: Promise<{ operationId?: string }[]>) => (await results)[0]!.operationId!;
/** An operator's power action on the current lab node or its DPU: both end powered as the action says. */
const nodePowerRun = (action: "on" | "off", what: string, id: () => string, then?: (at: string) => Promise<void>): Run => ({
  entry: catalog.nodePower,
  label: `node.power ${action} ${what}`,
  start: () => firstOperation(admin().nodes.power({ ids: [id()], action })),
  async check(op, at) {
    succeeded(op, at);
    expect([(await nodeRow(cur.nodeId)).powerState, (await nodeRow(cur.dpuId)).powerState], at).toEqual([action, action]);
    await then?.(at);
  },
});
/** A tenant's power action on the current instance; a stop leaves its host off. */
const powerRun = (action: "stop" | "start" | "reboot", state: "running" | "stopped"): Run => ({
  entry: catalog.instancePower,
  label: `instance.power ${action}`,
  start: async () => (await tenant().instances[action]({ tenant: T(), id: cur.instanceId })).operationId,
  async check(op, at) {
    succeeded(op, at);
    if (action === "stop") expect((await nodeRow(cur.hostId)).powerState, at).toBe("off");
    await expectLive(cur.instanceId, state, at);
  },
});

const startRecover = async () => (await admin().instances.recover({ id: cur.instanceId, reason: "crash test" })).operationId;
/** An operator's recover onto the other lab host: running there with the same address and MAC; the old host stays
 * fenced until an operator deals with it (here the check puts it back in the pool). */
const recoverRun = (label: string, noKills = false): Run => ({
  entry: catalog.instanceRecover,
  label,
  noKills,
  start: startRecover,
  async check(op, at) {
    succeeded(op, at);
    const from = cur.hostId;
    const inst = await instanceRow(cur.instanceId);
    expect(inst.nodeId, at).not.toBe(from);
    expect((await nodeRow(from)).provisionState, at).toBe("error");
    await db.update(s.nodes).set({ fault: null, provisionState: "available", lastError: null }).where(eq(s.nodes.id, from));
    await sameNetworkIdentity(at);
    await expectLive(cur.instanceId, "running", at);
    cur.hostId = inst.nodeId!;
  },
});

/** The instance's NICs: its ports by NIC index, and the NIC names on its DPU. */
async function nicsOf(instanceId: string) {
  const ports = await db.select().from(s.ports).where(eq(s.ports.instanceId, instanceId));
  const onDpu = Object.values(await agentObjects(instanceId))
    .flat()
    .filter((n) => n.includes("-nic"));
  return { ports: ports.sort((a, b) => a.nicIndex! - b.nicIndex!), onDpu: onDpu.sort() };
}
/** A tenant's NIC change on the current instance; `check` says where eth1 is afterwards (null: gone). */
const nicRun = (entry: Pick<OperationEntry, "name">, label: string, start: () => Promise<string>, eth1: null | (() => string), fault?: string[]): Run => ({
  entry,
  label,
  fault,
  start,
  async check(op, at) {
    if (fault) failedOnTheDpu(op, at);
    else succeeded(op, at);
    if (!eth1) {
      await expectLive(cur.instanceId, "running", at);
      return;
    }
    const n = await nicsOf(cur.instanceId);
    expect(
      n.ports.map((p) => [p.nicIndex, p.id === cur.nicPortId ? "eth1" : "primary"]),
      at,
    ).toEqual([
      [0, "primary"],
      [1, "eth1"],
    ]);
    expect(n.ports[1]!.subnetId, at).toBe(eth1());
    expect(n.onDpu, at).toEqual([`i-${cur.instanceId}-nic0`, `i-${cur.instanceId}-nic1`]);
    expect(await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.tenantId, fx.tenant.id)), at).toHaveLength(2);
  },
});
async function addNic() {
  const r = await tenant().instances.addNic({ tenant: T(), id: cur.instanceId, subnetId: L.subnetId });
  const [p] = await db
    .select()
    .from(s.ports)
    .where(and(eq(s.ports.instanceId, cur.instanceId), eq(s.ports.nicIndex, 1)));
  cur.nicPortId = p?.id ?? "";
  return r.operationId;
}
async function otherSubnet() {
  cur.otherSubnetId ||= (
    await callerAs(fx, "tenantAdmin").subnets.create({ tenant: T(), vpcId: L.vpcId, name: uniq("nic-move"), cidr: "10.1.32.0/24" } as never)
  ).id;
  return cur.otherSubnetId;
}

/** The rescue volumes of an instance on storage (instance.rescue names them rescue-<instance id>-<operation>). */
async function rescueVolumesOf(instanceId: string) {
  const storage = getStorage();
  const out = [];
  for await (const v of storage.listAll(storage.listVolumes)) if (v.name.startsWith(`rescue-${instanceId}`)) out.push(v);
  return out;
}
/** A tenant's rescue: the host boots one rescue clone, its own system disk attached beside it; unrescue: back to it. */
const rescueRuns = {
  rescue: {
    entry: catalog.instanceRescue,
    label: "instance.rescue",
    start: async () => (await tenant().instances.rescue({ tenant: T(), id: cur.instanceId })).operationId,
    async check(op, at) {
      succeeded(op, at);
      const inst = await instanceRow(cur.instanceId);
      expect(inst.state, at).toBe("rescue");
      expect((await nodeRow(inst.nodeId!)).provisionState, at).toBe("rescue");
      expect(
        (await rescueVolumesOf(cur.instanceId)).map((v) => v.id),
        at,
      ).toEqual([inst.rescueStorageVolumeId]);
      const { dpu } = (await placement(inst))!;
      expect(await initiatorsOf(inst.rescueStorageVolumeId!), at).toEqual([dpuHostNqn(dpu.id)]);
      expect(await initiatorsOf(inst.storageVolumeId!), at).toEqual([dpuHostNqn(dpu.id)]);
    },
  },
  unrescue: {
    entry: catalog.instanceUnrescue,
    label: "instance.unrescue",
    start: async () => (await tenant().instances.unrescue({ tenant: T(), id: cur.instanceId })).operationId,
    async check(op, at) {
      succeeded(op, at);
      expect((await instanceRow(cur.instanceId)).rescueStorageVolumeId, at).toBeNull();
      expect(await rescueVolumesOf(cur.instanceId), at).toEqual([]);
      await expectLive(cur.instanceId, "running", at);
    },
  },
} satisfies Record<string, Run>;

const runs = {
  ...rescueRuns,
  create: {
    entry: catalog.instanceCreate,
    label: "instance.create",
    start: createInstance,
    async check(op, at) {
      succeeded(op, at);
      await remember(cur.instanceId);
      await expectLive(cur.instanceId, "running", at);
    },
  },
  delete: {
    entry: catalog.instanceDelete,
    label: "instance.delete",
    start: async () => (await tenant().instances.delete({ tenant: T(), id: cur.instanceId })).operationId,
    async check(op, at) {
      succeeded(op, at);
      expect(await leftovers(cur.instanceId), at).toEqual(clean);
    },
  },
  createFailing: {
    entry: catalog.instanceCreate,
    label: "instance.create failing on the NIC",
    fault: ["createNic"],
    start: createInstance,
    async check(op, at) {
      failedOnTheDpu(op, at);
      expect((await instanceRow(cur.instanceId)).state, at).toBe("failed");
      expect(await leftovers(cur.instanceId), at).toEqual(clean);
    },
  },
  deleteFailed: {
    entry: catalog.instanceDelete,
    label: "instance.delete of a failed create",
    noKills: true,
    start: async () => (await tenant().instances.delete({ tenant: T(), id: cur.instanceId })).operationId,
    async check(op, at) {
      succeeded(op, at);
      expect(await leftovers(cur.instanceId), at).toEqual(clean);
    },
  },
  stop: powerRun("stop", "stopped"),
  start: powerRun("start", "running"),
  reboot: powerRun("reboot", "running"),
  attach: {
    entry: catalog.instanceAttachVolume,
    label: "instance.attach_volume",
    async start() {
      cur.volumeId ||= await dataVolume();
      return (await tenant().instances.attachVolume({ tenant: T(), id: cur.instanceId, volumeId: cur.volumeId })).operationId;
    },
    async check(op, at) {
      succeeded(op, at);
      const [v] = await db.select().from(s.volumes).where(eq(s.volumes.id, cur.volumeId));
      expect(v!.state, at).toBe("attached");
      expect(await db.select().from(s.volumeAttachments).where(eq(s.volumeAttachments.volumeId, cur.volumeId)), at).toHaveLength(1);
      await expectLive(cur.instanceId, "running", at, [cur.volumeId]);
    },
  },
  attachFailing: {
    entry: catalog.instanceAttachVolume,
    label: "instance.attach_volume refused by the DPU",
    fault: ["attachDisk"],
    async start() {
      cur.spareVolumeId ||= await dataVolume();
      return (await tenant().instances.attachVolume({ tenant: T(), id: cur.instanceId, volumeId: cur.spareVolumeId })).operationId;
    },
    async check(op, at) {
      failedOnTheDpu(op, at);
      await expectDetached(cur.spareVolumeId, at);
      await expectLive(cur.instanceId, "running", at);
    },
  },
  backup: {
    entry: catalog.instanceBackup,
    label: "instance.backup",
    start: async () => (await tenant().instances.backup({ tenant: T(), id: cur.instanceId, imageName: uniq("backup"), includeDataVolumes: true })).operationId,
    async check(op, at) {
      succeeded(op, at);
      const result = op.result as { imageId: string; imageName: string; snapshots: string[] };
      const imgs = await db
        .select()
        .from(s.images)
        .where(and(eq(s.images.tenantId, fx.tenant.id), eq(s.images.name, result.imageName)));
      expect(
        imgs.map((i) => [i.id, i.state]),
        at,
      ).toEqual([[result.imageId, "available"]]);
      // One tenant snapshot of the data volume, and the temporary snapshot of the system disk dropped.
      expect(result.snapshots, at).toHaveLength(1);
      expect(await db.select().from(s.snapshots).where(eq(s.snapshots.name, result.snapshots[0]!)), at).toHaveLength(1);
      const inst = await instanceRow(cur.instanceId);
      const storage = getStorage();
      const temporary = [];
      for await (const x of storage.listAll(storage.listSnapshots, { volumeId: inst.storageVolumeId! })) temporary.push(x.name);
      expect(temporary, at).toEqual([]);
      await expectLive(cur.instanceId, "running", at, [cur.volumeId]);
    },
  },
  detach: {
    entry: catalog.instanceDetachVolume,
    label: "instance.detach_volume",
    start: async () => (await tenant().instances.detachVolume({ tenant: T(), id: cur.instanceId, volumeId: cur.volumeId })).operationId,
    async check(op, at) {
      succeeded(op, at);
      await expectDetached(cur.volumeId, at);
      await expectLive(cur.instanceId, "running", at);
    },
  },
  rebuild: rebuildRun(),
  rebuildFailing: rebuildRun(["detachDisk"]),
  recover: recoverRun("instance.recover"),
  // The spare's DPU refuses the NIC: the spare goes back to the pool (the undo of "reserve spare host"), the old host
  // stays fenced, and the instance is failed with no host, keeping its volumes, port and address for a retry.
  recoverFailing: {
    entry: catalog.instanceRecover,
    label: "instance.recover failing on the spare's NIC",
    fault: ["createNic"],
    start: startRecover,
    async check(op, at) {
      failedOnTheDpu(op, at);
      const inst = await instanceRow(cur.instanceId);
      expect([inst.state, inst.nodeId], at).toEqual(["failed", null]);
      expect(await agentObjects(cur.instanceId), at).toEqual({});
      expect(await initiatorsOf(inst.storageVolumeId!), at).toEqual([]);
      const hosts = await db
        .select()
        .from(s.nodes)
        .where(and(eq(s.nodes.poolId, L.poolId), eq(s.nodes.kind, "host")));
      expect(hosts.map((n) => `${n.id === cur.hostId ? "old host" : "spare"}:${n.provisionState}`).sort(), at).toEqual(["old host:error", "spare:available"]);
      await sameNetworkIdentity(at);
    },
  },
  // NICs: eth1 hot-added, moved to another subnet, removed (back to one NIC); an add the DPU refuses, undone.
  nicAttach: nicRun(catalog.instanceNicAttach, "instance.nic_attach", addNic, () => L.subnetId),
  nicMove: nicRun(
    catalog.instanceNicMove,
    "instance.nic_move",
    async () => (await tenant().instances.moveNic({ tenant: T(), id: cur.instanceId, portId: cur.nicPortId, subnetId: await otherSubnet() })).operationId,
    () => cur.otherSubnetId,
  ),
  nicDetach: nicRun(
    catalog.instanceNicDetach,
    "instance.nic_detach",
    async () => (await tenant().instances.removeNic({ tenant: T(), id: cur.instanceId, portId: cur.nicPortId })).operationId,
    null,
  ),
  nicAttachFailing: nicRun(catalog.instanceNicAttach, "instance.nic_attach refused by the DPU", addNic, null, ["createNic"]),
  // The operator's retry of that failed recover brings the instance up on the spare (its steps are the recover's).
  recoverRetry: recoverRun("instance.recover retried after a failed one", true),
  enroll: {
    entry: catalog.nodeEnrollBulk,
    label: "node.enroll_bulk",
    async start() {
      const [h, d] = [rack.byId("node-0001")!, rack.byId("node-0001-dpu")!];
      cur.nodeName = uniq("rack");
      const csv = [
        "name,pool,driver,bmc_address,bmc_username,bmc_password,verify_tls,dpu_bmc_address,dpu_bmc_username,dpu_bmc_password",
        `${cur.nodeName},,redfish,${h.url},${h.username},${h.password},false,${d.url},${d.username},${d.password}`,
      ].join("\n");
      return (await admin().nodes.enrollBulk({ csv })).operationId;
    },
    async check(op, at) {
      succeeded(op, at);
      expect((op.result as { enrolled: number }).enrolled, at).toBe(1);
      const host = await db.select().from(s.nodes).where(eq(s.nodes.name, cur.nodeName));
      expect(host, at).toHaveLength(1);
      const dpus = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, host[0]!.id));
      expect(
        dpus.map((d) => d.kind),
        at,
      ).toEqual(["dpu"]);
      Object.assign(cur, { nodeId: host[0]!.id, dpuId: dpus[0]!.id });
    },
  },
  inspect: {
    entry: catalog.nodeInspect,
    label: "node.inspect",
    start: () => firstOperation(admin().nodes.inspect({ ids: [cur.nodeId] })),
    async check(op, at) {
      succeeded(op, at);
      expect((await nodeRow(cur.nodeId)).provisionState, at).toBe("manageable");
      expect(
        (await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, cur.nodeId))).map((d) => d.id),
        at,
      ).toEqual([cur.dpuId]);
    },
  },
  dpuOn: nodePowerRun("on", "a DPU (its host first)", () => cur.dpuId),
  firmware: {
    entry: catalog.dpuFirmwareUpdate,
    label: "dpu.firmware_update",
    async start() {
      const version = `2.9.${++cur.firmware}-40`;
      const imageUri = `http://127.0.0.1:9/bf-bundle-${version}_25.04_ubuntu-22.04_prod.bfb`;
      return (await admin().nodes.firmwareUpdate({ id: cur.dpuId, imageUri, targets: [DPU_OS] })).operationId;
    },
    async check(op, at) {
      succeeded(op, at);
      const fw = ((await nodeRow(cur.dpuId)).inventory as { firmware?: { id: string; version: string }[] }).firmware ?? [];
      expect(fw.find((f) => f.id === "DPU_OS")?.version, at).toBe(`2.9.${cur.firmware}-40`);
    },
  },
  // The host (on since dpuOn) is reset into an ISO and ends on, running it, with the image ejected.
  isoBoot: {
    entry: catalog.nodeVirtualMediaBoot,
    label: "node.virtual_media_boot",
    async start() {
      const images = await sharedImageServer();
      images.serve("/crash.iso", Buffer.alloc(4096, 3));
      return (await admin().nodes.virtualMediaBoot({ id: cur.nodeId, imageUrl: `${images.url}/crash.iso` })).operationId;
    },
    async check(op, at) {
      succeeded(op, at);
      expect(await bmcAdmin(rack, "GET", "node-0001"), at).toMatchObject({ powerState: "On", bootedFrom: "Cd", bootProgress: "OSRunning", virtualMedia: null });
    },
  },
  // The round ends with the host gone again (not a workflow), so the next round enrolls it afresh.
  hostOff: nodePowerRun(
    "off",
    "a host (its DPU follows)",
    () => cur.nodeId,
    async (at) => {
      expect((await admin().nodes.delete({ id: cur.nodeId })).deletedChildren, at).toBe(1);
    },
  ),
} satisfies Record<string, Run>;

/** A run and the step to kill it after (none: it runs to the end, as the reference runs do). */
type Planned = { run: Run; kill?: string };

type Step = { id: number; name: string };
/** The durable steps the engine checkpointed for a run, by the number it gave each (its own bookkeeping left out). */
async function recordedSteps(workflowId: string): Promise<Step[]> {
  // Not the workflows it enqueued (the rules and overlay passes a workflow ends with): an enqueue is no step to kill
  // after, and a kill right after it is the kill before the next step.
  const r = await db.execute<{ function_id: number; function_name: string }>(
    sql`select function_id, function_name from dbos.operation_outputs
         where workflow_uuid = ${workflowId} and child_workflow_id is null order by function_id`,
  );
  return r.rows.filter((x) => !x.function_name.startsWith("DBOS.")).map((x) => ({ id: x.function_id, name: x.function_name }));
}

/** What each run's reference run recorded, by label. */
const steps = new Map<string, Step[]>();
const namesOf = (label: string) => (steps.get(label) ?? []).map((x) => x.name);
/** The kill points of a run: each step it recorded (once per name). */
const killsOf = (run: Run): string[] => {
  if (run.noKills) return [];
  const all = [...new Set(namesOf(run.label))];
  return run.fault ? all.slice(all.indexOf("mark failing")) : all;
};

/**
 * A segment's runs repeated until each was killed after each of its steps (round i kills run r after its i-th step,
 * if it has one); `inside` (other segments, each starting and ending where the first run of this one leaves things)
 * runs in the first round right after that first run. `once`: a single round without kills, for the reference runs.
 */
function rounds(runs: Run[], inside: Planned[] = [], once = false): Planned[] {
  const n = once ? 1 : Math.max(...runs.map((r) => killsOf(r).length));
  const out: Planned[] = [];
  for (let i = 0; i < n; i++)
    runs.forEach((run, j) => {
      out.push({ run, kill: once ? undefined : killsOf(run)[i] });
      if (i === 0 && j === 0) out.push(...inside);
    });
  return out;
}
/**
 * `npm test` runs this file in both of its lanes (vitest.config.ts), each lane one half of the kill points, so the
 * suite's minutes are shared by the two cores: the main lane (part 1) the create/delete rounds with the power, volume,
 * NIC and failing rebuild/recovery segments inside, and the node runs; the real-lab lane (part 2, the smaller: that
 * lane also boots the QEMU guests) the rebuild, recovery and rescue segments inside a create and a delete run to the
 * end, and the failing create. Unset (a plain `vitest run`): both parts, one after the other.
 */
const CRASH_PART = process.env.ANVIL_TEST_LANE === "main" ? 1 : process.env.ANVIL_TEST_LANE === "real" ? 2 : 0;
function plan(once = false, part = CRASH_PART): Planned[] {
  const r = runs;
  const segs = (list: Run[][]) => list.flatMap((seg) => rounds(seg, [], once));
  const first = () => [
    ...rounds(
      [r.create, r.delete],
      segs([
        [r.stop, r.start, r.reboot],
        [r.attach, r.backup, r.detach],
        [r.attachFailing],
        [r.nicAttach, r.nicMove, r.nicDetach],
        [r.nicAttachFailing],
        [r.rebuildFailing],
        [r.recoverFailing, r.recoverRetry],
      ]),
      once,
    ),
    ...rounds([r.enroll, r.inspect, r.dpuOn, r.firmware, r.isoBoot, r.hostOff], [], once),
  ];
  const second = () => [
    ...rounds([r.create, r.delete], segs([[r.rebuild], [r.recover], [r.rescue, r.unrescue]]), true),
    ...rounds([r.createFailing, r.deleteFailed], [], once),
  ];
  return part === 1 ? first() : part === 2 ? second() : [...first(), ...second()];
}
/** The runs this lane does (a reference run each). */
const runsHere = (part = CRASH_PART) => new Set(plan(true, part).map((p) => p.run));
/** The runs this lane kills at each step: all it does but the create and delete that part 2 runs to the end. */
const killedHere = (part = CRASH_PART) => [...runsHere(part)].filter((r) => part !== 2 || (r !== runs.create && r !== runs.delete));

/** Waits until the run's operation ended and the engine is done with the run (a killed last step re-runs after it). */
async function ended(opId: string, w: () => Worker, at: string): Promise<Operation> {
  const t0 = Date.now();
  for (;;) {
    const [op] = await db.select().from(s.operations).where(eq(s.operations.id, opId));
    const r = await db.execute<{ status: string }>(sql`select status from dbos.workflow_status where workflow_uuid = ${opId}`);
    const engineDone = r.rows[0] && !["PENDING", "ENQUEUED"].includes(r.rows[0].status);
    if (op && ["succeeded", "failed", "cancelled"].includes(op.status) && engineDone) return op;
    if (w().proc.exitCode !== null || w().proc.signalCode !== null) throw new Error(`${at}: the worker died before the run ended`);
    if (Date.now() - t0 > 90_000) throw new Error(`${at}: operation ${opId} still ${op?.status} after 90 s: ${JSON.stringify(op?.steps)}`);
    await sleep(25);
  }
}

/**
 * Runs the plan on a chain of workers of one replica. A run with a kill point is started on a worker set to die
 * there; the worker restarted to finish it is already set to die at the next run's kill point.
 */
async function execute(planned: Planned[], done?: (p: Planned, opId: string) => Promise<void>) {
  const replica = `crash-${uniq()}`;
  let armed: string | undefined;
  let w = await worker(replica, planned[0]?.kill && `after:${planned[0].kill}`);
  armed = planned[0]?.kill;
  try {
    for (const [i, p] of planned.entries()) {
      const at = p.kill ? `${p.run.label} killed after '${p.kill}'` : p.run.label;
      if (armed !== p.kill) {
        await stopWorker(w);
        w = await worker(replica, p.kill && `after:${p.kill}`);
        armed = p.kill;
      }
      if (p.run.fault) await agentFaults(L, { failAlways: p.run.fault });
      const opId = await p.run.start();
      if (p.kill) {
        // The worker must die at that step: a run that ends with the worker alive never reached it.
        const killed = w;
        const dying = killed.exited;
        await Promise.race([dying, ended(opId, () => killed, at).catch(() => undefined)]);
        expect(await Promise.race([dying, sleep(10_000).then(() => "still alive")]), `${at}: the worker must be killed there`).toBe("SIGKILL");
        // The restarted worker finishes this run first, so it dies at the next kill point only past the steps of
        // that name this run still has to run: those of the reference run not checkpointed yet (the engine numbers a
        // run's steps the same way every time).
        armed = planned[i + 1]?.kill;
        const checkpointed = new Set((await recordedSteps(opId)).map((x) => x.id));
        const ahead = (steps.get(p.run.label) ?? []).filter((x) => x.name === armed && !checkpointed.has(x.id)).length;
        w = await worker(replica, armed && `after:${armed}${ahead ? `#${ahead + 1}` : ""}`);
      }
      let op: Operation;
      try {
        op = await ended(opId, () => w, at);
      } catch (e) {
        if (!armed || w.proc.signalCode !== "SIGKILL") throw e;
        // It died at the next kill point while finishing this run (a step ran more often than in the reference run,
        // a retry): killed twice, then; another worker finishes it, and the next run gets one of its own.
        w = await worker(replica);
        armed = undefined;
        op = await ended(opId, () => w, at);
      }
      if (p.run.fault) await agentFaults(L, { failAlways: [] });
      await p.run.check(op, at);
      await done?.(p, opId);
    }
  } finally {
    await stopWorker(w);
  }
}

// Every operation workflow of the catalog has a run here: a new one fails "covers the catalog" below.
const operationEntries = Object.values(catalog).filter((e): e is typeof e & OperationEntry<never> => "target" in e);

describe("a BFF killed at each step of a workflow", () => {
  it("covers the catalog: every operation workflow has a run here", () => {
    const driven = new Set(Object.values(runs).map((r) => r.entry.name));
    expect(operationEntries.map((e) => e.name).filter((n) => !driven.has(n))).toEqual([]);
  });

  it("learns each run's durable steps from a reference run of it, which finishes cleanly", async () => {
    await execute(plan(true), async (p, opId) => {
      steps.set(p.run.label, await recordedSteps(opId));
    });
    // Sanity: the steps users see are among them, and each rollback has undos to kill at.
    expect(namesOf(runs.create.label)).toEqual(
      expect.arrayContaining(["reserve node", "network", "system disk", "data volumes", "power on", "wait for OS", "mark running"]),
    );
    expect(namesOf(runs.delete.label).at(-1)).toBe("mark deleted");
    for (const run of runsHere()) {
      if (!run.fault) continue;
      const undo = killsOf(run);
      expect(undo[0], run.label).toBe("mark failing");
      expect(undo.at(-1), run.label).toBe("mark failed");
      expect(undo.length, run.label).toBeGreaterThan(2);
    }
  }, 300_000);

  it("each run killed after each of its steps (and each rollback after each undo): all finish cleanly, nothing leaks", async () => {
    expect(steps.size, "the reference runs must have recorded the steps").toBe(runsHere().size);
    const planned = plan();
    // Every recorded step of every run of this lane is a kill point; the two halves together kill every run.
    expect(new Set([...killedHere(1), ...killedHere(2)]).size).toBe(Object.keys(runs).length);
    for (const run of killedHere())
      expect(
        planned.filter((p) => p.run === run).map((p) => p.kill),
        run.label,
      ).toEqual(expect.arrayContaining(killsOf(run)));
    await execute(planned);
  }, 1_800_000);

  it("a second BFF takes over the pending create of one that died and never came back", async () => {
    // Fast heartbeats so the test need not wait 20 s: a replica silent for 1.5 s is dead.
    const fast = { ANVIL_REPLICA_HEARTBEAT_MS: "200", ANVIL_REPLICA_DEAD_MS: "1500" };
    const a = `crash-a-${uniq()}`;
    const b = `crash-b-${uniq()}`;
    const wa = await worker(a, "before:power on", fast);
    const opId = await createInstance();
    const id = cur.instanceId;
    expect(await wa.exited).toBe("SIGKILL");
    expect((await db.select().from(s.replicas).where(eq(s.replicas.executorId, a))).length).toBe(1); // it left no goodbye
    const wb = await worker(b, undefined, fast);
    try {
      const op = await waitOperation(db, opId, 60_000);
      expect(op.error).toBeNull();
      expect(op.status).toBe("succeeded");
      expect((await instanceRow(id)).state).toBe("running");
      expect(await db.select().from(s.replicas).where(eq(s.replicas.executorId, a))).toHaveLength(0);
      expect(await db.select().from(s.replicas).where(eq(s.replicas.executorId, b))).toHaveLength(1);
      expect(await systemVolumesOf(id)).toHaveLength(1);
      const d = await tenant().instances.delete({ tenant: T(), id });
      expect((await waitOperation(db, d.operationId, 60_000)).status).toBe("succeeded");
      expect(await leftovers(id)).toEqual(clean);
    } finally {
      await stopWorker(wb);
    }
    // A clean stop removes the replica's row: nobody will "take over" a replica that said goodbye.
    expect(await db.select().from(s.replicas).where(eq(s.replicas.executorId, b))).toHaveLength(0);
  }, 150_000);
});
