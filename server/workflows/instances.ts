// Instance workflows: create (reserve a host → {port + address + cloud-init seed + NIC, cloned system disk exported to
// the DPU, boot override} in parallel → power on → wait for the OS), delete, power (start/stop/reboot) and the
// teardown both share. Each piece below is idempotent — it looks at what the instance row, the storage service and
// the DPU agent already have before doing anything — so a workflow resumed after a crash (DBOS re-runs the step that
// was in flight) never double-creates, and the teardown can run any number of times. The instance row records every
// external object as soon as it exists (port, storage volume, target), so a rollback knows exactly what to undo.
//
// Parallel branches are each ONE durable step: DBOS numbers steps in the order they start, and sequential steps
// inside concurrent branches would start in a timing-dependent order that a recovery could not replay.
import { and, eq, inArray, isNotNull, isNull, ne, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Db, getDb, type Tx } from "@/db/client";
import {
  images,
  instances,
  ipAllocations,
  nodes,
  operations,
  pools,
  portSecurityGroups,
  ports,
  sshKeys,
  subnets,
  volumeAttachments,
  volumes,
  vpcs,
} from "@/db/schema";
import { GiB } from "@/db/validation/storage";
import { releasePortAddress, allocateAddress, ensurePortIpv6 } from "@/server/services/ipam";
import { type NodeEvent, type ProvisionState, transition } from "@/domain/node-lifecycle";
import { bumpGroupPeers, compileRuleSet, loadCompileInput } from "@/server/domain/rule-compiler";
import { applyRulesSoon } from "@/server/services/rules-apply";
import { textArray } from "@/server/services/traits";
import { bootOverrideOutcome } from "@/server/drivers/bmc/boot-override";
import { createDpuAgentClient, type DiskSpecInput as AgentDiskSpec, type DpuAgentClient } from "@/server/drivers/dpu-agent/client";
import { dpuHostNqn, type Ipv6Nic, renderCidata } from "@/server/drivers/dpu-agent/cidata";
import { unseal } from "@/server/lib/secrets";
import { attachProtocol, cephMonitors, getStorage, tenantNamespace } from "@/server/storage/backend";
import { isStorageError } from "@/server/drivers/storage/client";
import type { Target } from "@/server/drivers/storage/schemas";
import { driverFor } from "./bmc-access";
import { catalog, type InstancePowerRequest } from "./catalog";
import { AbortedByOperator, defineSaga, type Undo } from "./saga";
import { step } from "./engine";
import { recordEvent } from "./events";
import { finishOperation, markStep, opStep } from "./operations";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { randomMac } from "@/server/services/network";
import { type InstanceNic, instanceNics, nicAgentName } from "@/server/services/instance-nics";
import { applyInstanceEvent } from "@/server/services/instance-state";

export { AbortedByOperator };

type InstanceRow = typeof instances.$inferSelect;
type NodeRow = typeof nodes.$inferSelect;
const dpuNode = alias(nodes, "dpu");

/** A refusal or failure phrased for the tenant; the operation shows its message. */
export class ProvisionError extends Error {
  override name = "ProvisionError";
}

// ------------------------------------------------------------------------------------------ names and timings

/** The storage-service name of an instance's system volume (`sys-<instance id>-<volume record prefix>`). */
export const systemVolumeName = (instanceId: string, volumeRowId: string) => `sys-${instanceId}-${volumeRowId.slice(0, 8)}`;

/** Names of what the instance owns on its DPU (agent names: a-z, 0-9, '-', at most 63). */
export const agentNames = {
  boot: (instanceId: string) => `i-${instanceId}-boot`,
  seed: (instanceId: string) => `i-${instanceId}-seed`,
  /** NIC `index` of the instance (0: the primary); see server/services/instance-nics.ts. */
  nic: (instanceId: string, index = 0) => nicAgentName(instanceId, index),
  data: (volumeId: string) => `v-${volumeId}`,
};

const envMs = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
/** How long a host may take from power-on to OSRunning before the create gives up (real servers: minutes). */
const bootTimeoutMs = () => envMs("ANVIL_BOOT_TIMEOUT_MS", 15 * 60_000);
/** How often the BMC is asked how far the boot got; small, since it is on the critical path of every create. */
const bootPollMs = () => envMs("ANVIL_BOOT_POLL_MS", 100);
/** Graceful shutdown budget before a stop forces power off. */
const stopGraceMs = () => envMs("ANVIL_STOP_GRACE_MS", 60_000);

// ------------------------------------------------------------------------------------------------ loading

export async function loadInstance(id: string): Promise<InstanceRow> {
  const [row] = await getDb().select().from(instances).where(eq(instances.id, id));
  if (!row) throw new ProvisionError("The instance no longer exists.");
  return row;
}

interface Placement {
  host: NodeRow;
  dpu: NodeRow;
  agent: DpuAgentClient;
}

/** The host the instance holds and its DPU (with an agent client), or null when it holds none. */
async function placement(inst: InstanceRow): Promise<Placement | null> {
  if (!inst.nodeId) return null;
  // Host and DPU in one round trip (every piece of every instance workflow asks).
  const [row] = await getDb()
    .select({ host: nodes, dpu: dpuNode })
    .from(nodes)
    .leftJoin(dpuNode, and(eq(dpuNode.parentNodeId, nodes.id), eq(dpuNode.kind, "dpu")))
    .where(eq(nodes.id, inst.nodeId))
    .limit(1);
  if (!row) return null;
  const { host, dpu } = row;
  if (!dpu?.agentUrl || !dpu.agentToken) throw new ProvisionError(`Host ${host.name} has no DPU agent to attach disks and NICs through.`);
  return { host, dpu, agent: agentFor(dpu) };
}

export function agentFor(dpu: Pick<NodeRow, "agentUrl" | "agentToken">, opts: { timeoutMs?: number; retries?: number } = {}): DpuAgentClient {
  return createDpuAgentClient({
    baseUrl: dpu.agentUrl!,
    token: unseal(dpu.agentToken!),
    timeoutMs: opts.timeoutMs ?? envMs("ANVIL_AGENT_TIMEOUT_MS", 10_000),
    retries: opts.retries ?? envMs("ANVIL_AGENT_RETRIES", 2),
  });
}

/** Applies a lifecycle event to a node if the table allows it from where the node is now; returns the new state. */
async function nodeEvent(tx: Tx, nodeId: string, event: NodeEvent, extra: Partial<NodeRow> = {}): Promise<ProvisionState> {
  const [n] = await tx.select({ s: nodes.provisionState }).from(nodes).where(eq(nodes.id, nodeId)).for("update");
  if (!n) throw new ProvisionError("The node no longer exists.");
  const to = transition(n.s as ProvisionState, event);
  await tx
    .update(nodes)
    .set({ provisionState: to, ...extra })
    .where(eq(nodes.id, nodeId));
  await recordEvent(tx, nodeId, {
    kind: "lifecycle",
    severity: event.endsWith("failed") || event === "fenced" ? "warning" : "info",
    message: `${n.s} --${event}--> ${to}`,
  });
  return to;
}

// ------------------------------------------------------------------------------------------------ pieces

/** The traits a host needs to take the instance: its pool's and its own request's, sorted. */
async function requiredTraitsOf(tx: Tx, poolId: string, asked: string[]): Promise<string[]> {
  const [p] = await tx.select({ traits: pools.requiredTraits }).from(pools).where(eq(pools.id, poolId));
  return [...new Set([...(p?.traits ?? []), ...asked])].sort();
}

/** Reserve: an available host of the pool whose DPU has an agent and that has every required trait (SKIP LOCKED, so
 *  concurrent creates spread out). */
export async function reserveNode(tx: Tx, poolId: string, instanceId: string): Promise<{ hostId: string; hostName: string; dpuId: string } | null> {
  const [held] = await tx
    .select({ nodeId: instances.nodeId, traits: instances.requiredTraits })
    .from(instances)
    .where(eq(instances.id, instanceId))
    .for("update");
  if (!held) throw new Error(`instance ${instanceId} does not exist`);
  const required = await requiredTraitsOf(tx, poolId, held.traits);
  const rows = await tx.execute<{ host_id: string; host_name: string; provision_state: string; dpu_id: string }>(sql`
    SELECT h.id AS host_id, h.name AS host_name, h.provision_state, d.id AS dpu_id
    FROM ${nodes} h
    JOIN ${nodes} d ON d.parent_node_id = h.id AND d.kind = 'dpu' AND d.agent_url IS NOT NULL AND d.agent_token IS NOT NULL
    WHERE ${held.nodeId ? sql`h.id = ${held.nodeId}` : sql`h.pool_id = ${poolId} AND h.kind = 'host' AND h.provision_state = 'available' AND h.maintenance = false AND h.fault IS NULL AND d.fault IS NULL AND h.traits @> ${textArray(required)}`}
    ORDER BY h.name, h.id
    LIMIT 1
    FOR UPDATE OF h SKIP LOCKED`);
  const r = rows.rows[0];
  if (!r) return null;
  if (!held.nodeId) {
    const next = transition(r.provision_state as ProvisionState, "deploy");
    await tx.update(nodes).set({ provisionState: next, lastError: null }).where(eq(nodes.id, r.host_id));
    await tx
      .update(instances)
      .set({ nodeId: r.host_id })
      .where(and(eq(instances.id, instanceId), isNull(instances.nodeId)));
  }
  return { hostId: r.host_id, hostName: r.host_name, dpuId: r.dpu_id };
}

export async function reserve(instanceId: string): Promise<{ hostId: string; hostName: string }> {
  const inst = await loadInstance(instanceId);
  const got = await getDb().transaction((tx) => reserveNode(tx, inst.poolId, instanceId));
  if (!got) {
    const [p] = await getDb().select({ name: sql<string>`name` }).from(sql`pools`).where(sql`id = ${inst.poolId}`);
    const required = await getDb().transaction((tx) => requiredTraitsOf(tx, inst.poolId, inst.requiredTraits));
    throw new ProvisionError(
      required.length
        ? `No free host in pool ${p?.name ?? inst.poolId} with traits ${required.join(", ")}: every such host is in use, in maintenance or faulty, or none has them. Try again later, ask for fewer traits or pick another pool.`
        : `No free host in pool ${p?.name ?? inst.poolId}: every host is in use, in maintenance or faulty. Try again later or pick another pool.`,
    );
  }
  return { hostId: got.hostId, hostName: got.hostName };
}

/** The instance's port: created with a fresh MAC and the subnet's next free address, or the one it already has. */
async function ensurePort(instanceId: string): Promise<{ portId: string; mac: string; address: string }> {
  const db = getDb();
  return db.transaction(async (tx) => {
    const [inst] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
    if (!inst) throw new ProvisionError("The instance no longer exists.");
    if (inst.portId) {
      // A join, not a correlated subquery: drizzle leaves columns unqualified in single-table selects, and an
      // unqualified "id" inside the subquery would mean ip_allocations.id.
      const [p] = await tx
        .select({ mac: ports.mac, address: sql<string | null>`host(${ipAllocations.address})` })
        .from(ports)
        .leftJoin(ipAllocations, and(eq(ipAllocations.portId, ports.id), sql`family(${ipAllocations.address}) = 4`))
        .where(eq(ports.id, inst.portId));
      if (p?.address) return { portId: inst.portId, mac: p.mac, address: p.address };
    }
    const [subnet] = await tx.select().from(subnets).where(eq(subnets.id, inst.subnetId!));
    if (!subnet) throw new ProvisionError("The instance's subnet no longer exists.");
    let portId = inst.portId;
    let mac = "";
    if (!portId) {
      mac = randomMac();
      const [p] = await tx
        .insert(ports)
        .values({
          tenantId: inst.tenantId,
          subnetId: subnet.id,
          name: `${inst.name}-eth0-${instanceId.slice(0, 8)}`,
          description: `Primary NIC of instance ${inst.name}`,
          mac,
          instanceId,
          nicIndex: 0,
        })
        .returning({ id: ports.id });
      portId = p!.id;
      if (inst.securityGroupIds.length)
        await tx
          .insert(portSecurityGroups)
          .values(inst.securityGroupIds.map((groupId) => ({ portId: portId!, groupId })))
          .onConflictDoNothing();
      await tx.update(instances).set({ portId }).where(eq(instances.id, instanceId));
    } else {
      const [p] = await tx.select({ mac: ports.mac }).from(ports).where(eq(ports.id, portId));
      mac = p!.mac;
    }
    const a = await allocateAddress(tx, subnet, { tenantId: inst.tenantId, portId });
    await ensurePortIpv6(tx, subnet, { tenantId: inst.tenantId, portId });
    // Running servers whose rules name the port's groups now let its address in (the workflow enqueues the pass
    // once out of its steps: a step cannot start a workflow; the sweep would otherwise take it within seconds).
    await bumpGroupPeers(tx, [portId]);
    return { portId, mac, address: a.address };
  });
}

/** The system volume on the storage service: a thin clone of the image's golden snapshot (idempotency key = volume row). */
async function ensureSystemVolume(instanceId: string): Promise<{ volumeRowId: string; storageVolumeId: string }> {
  const db = getDb();
  const inst = await loadInstance(instanceId);
  const [row] = await db
    .select()
    .from(volumes)
    .innerJoin(volumeAttachments, eq(volumeAttachments.volumeId, volumes.id))
    .where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumes.kind, "system")));
  if (!row) throw new ProvisionError("The instance has no system volume record (it was removed); delete the instance and create it again.");
  const vol = row.volumes;
  if (vol.storageVolumeId) {
    if (inst.storageVolumeId !== vol.storageVolumeId)
      await db.update(instances).set({ storageVolumeId: vol.storageVolumeId }).where(eq(instances.id, instanceId));
    return { volumeRowId: vol.id, storageVolumeId: vol.storageVolumeId };
  }
  const [image] = inst.imageId ? await db.select().from(images).where(eq(images.id, inst.imageId)) : [];
  if (!image?.storageSnapshotId || image.state !== "available") throw new ProvisionError("The image is no longer available; pick another image.");
  const v = await getStorage().cloneVolume(
    // Named after the instance and the volume record: names are unique per pool, and a rebuild holds two at once.
    {
      name: systemVolumeName(instanceId, vol.id),
      sourceSnapshotId: image.storageSnapshotId,
      sizeBytes: vol.sizeGiB * GiB,
      namespace: tenantNamespace(inst.tenantId),
    },
    { idempotencyKey: `instance-sys-${vol.id}` },
  );
  await db.transaction(async (tx) => {
    await tx.update(volumes).set({ storageVolumeId: v.id, state: "attached" }).where(eq(volumes.id, vol.id));
    await tx.update(instances).set({ storageVolumeId: v.id }).where(eq(instances.id, instanceId));
  });
  return { volumeRowId: vol.id, storageVolumeId: v.id };
}

/**
 * Exports a storage volume to the DPU's initiator, over the backend's attach protocol: NVMe/TCP from the storage
 * service, RBD from Ceph (a cephx identity for this attachment). Asked again, the backend returns the existing target.
 */
async function exportTo(storageVolumeId: string, dpuId: string) {
  return getStorage().createTarget({ volumeId: storageVolumeId, protocol: attachProtocol(), initiator: dpuHostNqn(dpuId) });
}

/**
 * What the DPU agent needs to attach an exported volume. For RBD that includes the attachment's cephx key: it is read
 * here, on the server, and goes only to the agent (which keeps it out of replies, inventory and logs).
 */
async function diskSpec(t: Target, dpuId: string, role: "boot" | "data"): Promise<AgentDiskSpec> {
  if (t.protocol === "rbd") {
    if (!t.rbd) throw new ProvisionError("The storage backend exported the volume over RBD without saying which image and identity.");
    const { key } = await getStorage().targetSecret(t.id);
    return {
      transport: "rbd",
      target: {
        pool: t.rbd.pool,
        ...(t.rbd.namespace ? { namespace: t.rbd.namespace } : {}),
        image: t.rbd.image,
        monitors: cephMonitors(t.rbd.monitors),
        user: t.rbd.user,
      },
      key,
      role,
    };
  }
  if (!t.nqn) throw new ProvisionError("The storage service exported the volume without an NVMe qualified name.");
  return { transport: "nvme-tcp", target: { nqn: t.nqn, address: t.address, port: t.port }, hostNqn: dpuHostNqn(dpuId), role };
}

/** Cooperative abort: checked between pieces of work, so nothing is left half-done by the abort itself. */
export async function throwIfAborted(opId: string): Promise<void> {
  const [op] = await getDb().select({ status: operations.status }).from(operations).where(eq(operations.id, opId));
  if (op?.status === "cancelling") throw new AbortedByOperator();
}

/**
 * A sub-step of a branch, shown on the operation when it ends (done with its detail, or failed with the error) but not
 * a durable step of its own. Marked once, not twice: ~15 sub-steps per create, and under a burst of creates every
 * round trip counts. The mark also says whether an operator asked for an abort, which stops the branch there.
 */
async function sub<R>(opId: string | null, name: string, fn: () => Promise<R>, detail?: (r: R) => string | undefined): Promise<R> {
  if (!opId) return fn();
  const db = getDb();
  let r: R;
  try {
    r = await fn();
  } catch (e) {
    await markStep(db, opId, name, "failed", { error: (e as Error).message });
    throw e;
  }
  const d = detail?.(r);
  if ((await markStep(db, opId, name, "done", d ? { detail: d } : {})) === "cancelling") throw new AbortedByOperator();
  return r;
}

/** A NIC's IPv6 side for the seed (null on an IPv4-only subnet). */
function ipv6Of(n: InstanceNic): Ipv6Nic | null {
  return n.ipv6Address && n.subnetIpv6Cidr && n.ipv6Gateway ? { address: n.ipv6Address, subnetCidr: n.subnetIpv6Cidr, gateway: n.ipv6Gateway } : null;
}

/**
 * The instance's cloud-init seed from its rows: meta-data, user data, and network-config listing every NIC by MAC
 * (the primary with the default route and DNS; the others with their address only), for the next boot.
 */
export async function instanceSeed(instanceId: string) {
  const db = getDb();
  const inst = await loadInstance(instanceId);
  const nics = (await instanceNics(db, instanceId)).filter((n) => n.address !== null);
  const [primary, ...others] = nics;
  if (!primary || primary.index !== 0) throw new ProvisionError("The instance's primary NIC has no address.");
  const keys = inst.sshKeyIds.length
    ? await db.select({ k: sshKeys.publicKey, c: sshKeys.comment }).from(sshKeys).where(inArray(sshKeys.id, inst.sshKeyIds))
    : [];
  return renderCidata({
    instanceId: inst.id,
    hostname: inst.name,
    userData: inst.userData,
    sshPublicKeys: keys.map((k) => (k.c ? `${k.k} ${k.c}` : k.k)),
    mac: primary.mac,
    address: primary.address!,
    subnetCidr: primary.subnetCidr,
    gateway: primary.gateway,
    dns: primary.dns,
    ipv6: ipv6Of(primary),
    extraNics: others.map((n) => ({ index: n.index, mac: n.mac, address: n.address!, subnetCidr: n.subnetCidr, ipv6: ipv6Of(n) })),
  });
}

/**
 * Publishes the instance's seed on its DPU: PUT, and when the agent holds an older one (409), DELETE and PUT again. A
 * running guest reads it at its next boot.
 */
export async function publishSeed(instanceId: string, pl: Placement): Promise<string> {
  const seed = await instanceSeed(instanceId);
  const name = agentNames.seed(instanceId);
  try {
    await pl.agent.putCidata(name, seed);
    return "published";
  } catch (e) {
    if ((e as { status?: number }).status !== 409) throw e;
    await pl.agent.deleteCidata(name);
    await pl.agent.putCidata(name, seed);
    return "replaced";
  }
}

/** One NIC on the DPU with its compiled rules; the port records where it is (host, function) and the rules pushed. */
export async function plugNic(instanceId: string, nic: Pick<InstanceNic, "portId" | "index" | "mac" | "vlanId" | "vni">, pl: Placement) {
  const db = getDb();
  // The desired version read before compiling: the rules pushed are at least that new (the rules reconciler,
  // ./rules.ts, takes over once the instance is live and pushes whatever changed since).
  const [{ desired }] = (await db.select({ desired: ports.rulesVersion }).from(ports).where(eq(ports.id, nic.portId))) as [{ desired: number }];
  const rules = compileRuleSet(await loadCompileInput(db, nic.portId));
  const network = nic.vlanId ? { type: "vlan" as const, vlanId: nic.vlanId } : { type: "vxlan" as const, vni: nic.vni };
  const name = agentNames.nic(instanceId, nic.index);
  const put = await pl.agent.putNic(name, { mac: nic.mac, network, rules });
  const fn = (put as { function?: { bdf?: string; address?: string } }).function;
  await db
    .update(ports)
    .set({
      nodeId: pl.host.id,
      dpuFunction: fn?.bdf ?? fn?.address ?? name,
      appliedRulesVersion: desired,
      rulesAppliedHash: typeof put.rulesHash === "string" ? put.rulesHash : null,
      rulesAppliedAt: new Date(),
      rulesError: null,
      rulesErrorDpuId: null,
      rulesAttempts: 0,
      rulesRetryAt: null,
    })
    .where(eq(ports.id, nic.portId));
}

/** Takes one NIC off the DPU (404 counts as gone) and marks its port unbound. */
export async function unplugNic(instanceId: string, portId: string, index: number, pl: Placement | null): Promise<string> {
  if (pl) await pl.agent.deleteNic(agentNames.nic(instanceId, index));
  await getDb()
    .update(ports)
    .set({ nodeId: null, dpuFunction: null, appliedRulesVersion: 0, rulesAppliedHash: null, rulesError: null, rulesErrorDpuId: null, rulesAttempts: 0 })
    .where(eq(ports.id, portId));
  return pl ? "removed from the DPU" : "no host held";
}

/** Branch "network": primary port + address → cloud-init seed (every NIC) → every NIC with its compiled security rules. */
async function attachNetwork(instanceId: string, opId: string | null) {
  const db = getDb();
  const port = await sub(
    opId,
    "allocate address",
    () => ensurePort(instanceId),
    (p) => `${p.address} (${p.mac})`,
  );
  const inst = await loadInstance(instanceId);
  const pl = await placement(inst);
  if (!pl) throw new ProvisionError("The instance holds no host.");
  await sub(opId, "render cloud-init", () => instanceSeed(instanceId));
  // Replaced when the DPU holds an older seed (a rebuild or recovery after the NICs changed).
  await sub(opId, "attach cloud-init seed", () => publishSeed(instanceId, pl));
  await sub(
    opId,
    "create NIC with rules",
    async () => {
      const nics = await instanceNics(db, instanceId);
      for (const nic of nics) {
        if (nic.portId !== port.portId && !nic.address) continue;
        await plugNic(instanceId, nic, pl);
      }
      return nics.length;
    },
    (n) => (n > 1 ? `${n} NICs` : undefined),
  );
}

/** Branch "disk": clone the system volume → export it to the DPU → the agent attaches it as the boot disk. */
async function attachSystemDisk(instanceId: string, opId: string | null) {
  const db = getDb();
  const vol = await sub(opId, "clone system volume", () => ensureSystemVolume(instanceId));
  const inst = await loadInstance(instanceId);
  const pl = await placement(inst);
  if (!pl) throw new ProvisionError("The instance holds no host.");
  const t = await sub(
    opId,
    "export target",
    async () => {
      const t = await exportTo(vol.storageVolumeId, pl.dpu.id);
      await db.transaction(async (tx) => {
        await tx.update(instances).set({ storageTargetId: t.id }).where(eq(instances.id, instanceId));
        await tx
          .update(volumeAttachments)
          .set({ nodeId: pl.host.id, storageTargetId: t.id })
          .where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumeAttachments.volumeId, vol.volumeRowId)));
      });
      return t;
    },
    (t) => t.nqn ?? undefined,
  );
  await sub(opId, "attach boot disk", async () => pl.agent.putDisk(agentNames.boot(instanceId), await diskSpec(t, pl.dpu.id, "boot")));
}

/** Data volumes the instance holds (attachment rows): exported to its DPU and attached as data disks. */
export async function attachDataVolumes(instanceId: string, opId: string | null, only?: string) {
  const db = getDb();
  await sub(
    opId,
    "attach data volumes",
    async () => {
      const inst = await loadInstance(instanceId);
      const pl = await placement(inst);
      if (!pl) throw new ProvisionError("The instance holds no host.");
      const rows = await db
        .select({ attId: volumeAttachments.id, volumeId: volumes.id, name: volumes.name, storageVolumeId: volumes.storageVolumeId })
        .from(volumeAttachments)
        .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
        .where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumes.kind, "data"), only ? eq(volumes.id, only) : undefined));
      for (const r of rows) {
        if (!r.storageVolumeId) throw new ProvisionError(`Volume ${r.name} has no storage behind it (it failed to create); detach it.`);
        const t = await exportTo(r.storageVolumeId, pl.dpu.id);
        await db.update(volumeAttachments).set({ nodeId: pl.host.id, storageTargetId: t.id }).where(eq(volumeAttachments.id, r.attId));
        await pl.agent.putDisk(agentNames.data(r.volumeId), await diskSpec(t, pl.dpu.id, "data"));
      }
      return rows.map((r) => r.name);
    },
    (names) => (names.length ? names.join(", ") : "none"),
  );
}

/** One-time boot from the disk. A BMC that keeps the override for every boot is harmless here (the host boots from
 *  its DPU-attached disk anyway; cleanNode clears it) but is said on the host's events, with what it applied. */
async function bootOverride(instanceId: string): Promise<string> {
  const inst = await loadInstance(instanceId);
  const pl = await placement(inst);
  if (!pl) throw new ProvisionError("The instance holds no host.");
  const asked = { persistent: false };
  const outcome = bootOverrideOutcome("disk", asked, await driverFor(pl.host).setBootDevice("disk", asked));
  if (!outcome.honoured) await recordEvent(getDb(), pl.host.id, { kind: "lifecycle", severity: "warning", message: `Boot override set to ${outcome.text}.` });
  return outcome.text;
}

async function powerOn(instanceId: string) {
  const inst = await loadInstance(instanceId);
  const pl = await placement(inst);
  if (!pl) throw new ProvisionError("The instance holds no host.");
  const d = driverFor(pl.host);
  const p = await d.getPowerState();
  if (p === "on" || p === "powering_on") await d.setPower("reboot");
  else await d.setPower("on");
  await getDb().update(nodes).set({ powerState: "on" }).where(eq(nodes.id, pl.host.id));
}

/** The end of a boot budget (epoch ms) and its length, for the message when it runs out. */
export interface BootDeadline {
  at: number;
  budgetMs: number;
}

/**
 * Polls the BMC until the host reports its OS running (Redfish BootProgress), until `deadline` (see waitForOsStep: the
 * workflows pass one recorded as a durable step, so a restarted BFF keeps it; without one the budget starts now).
 */
async function waitForOs(instanceId: string, opId?: string, deadline: BootDeadline = { at: Date.now() + bootTimeoutMs(), budgetMs: bootTimeoutMs() }) {
  const inst = await loadInstance(instanceId);
  const pl = await placement(inst);
  if (!pl) throw new ProvisionError("The instance holds no host.");
  const d = driverFor(pl.host);
  let last = "unknown";
  if (!d.bootProgress) {
    // IPMI cannot say how far a boot got; power on is the last signal it gives.
    if ((await d.getPowerState()) !== "on") throw new ProvisionError(`Host ${pl.host.name} did not stay powered on.`);
    return "power on (this BMC reports no boot progress)";
  }
  for (let i = 0; ; i++) {
    if (opId && i % 10 === 0) await throwIfAborted(opId);
    const b = await d.bootProgress();
    last = b.bootState ?? "unknown";
    if (b.bootState === "OSRunning") return "OSRunning";
    if (b.bootState === null) return "power on (this BMC reports no boot progress)";
    if (Date.now() > deadline.at)
      throw new ProvisionError(
        `Host ${pl.host.name} did not boot its OS within ${Math.round(deadline.budgetMs / 1000)} s (last boot progress: ${last}). Open the console to see why.`,
      );
    // One small GET per poll; bench/instances.ts showed no measurable CPU difference between 100 ms and slower
    // polling, while every 100 ms of interval adds up to 100 ms to the tenant's wait.
    await new Promise((r) => setTimeout(r, bootPollMs()));
  }
}

/**
 * The workflows' "wait for OS": the boot deadline is computed ONCE, as a durable step of its own, then the wait runs
 * against it. A BFF killed mid-wait re-runs the wait on recovery, but the deadline step returns its recorded value, so
 * every restart continues the same budget instead of granting a fresh one.
 */
export async function waitForOsStep(db: Db, opId: string, instanceId: string, opts: { abortable?: boolean } = {}): Promise<string> {
  const deadline = await step("boot deadline", async (): Promise<BootDeadline> => {
    const budgetMs = bootTimeoutMs();
    return { at: Date.now() + budgetMs, budgetMs };
  });
  return opStep(db, opId, "wait for OS", () => waitForOs(instanceId, opts.abortable ? opId : undefined, deadline));
}

// ------------------------------------------------------------------------------------------------ teardown

/** Powers the host off (hard); an unreachable BMC is an error unless `bestEffort` (the host is being fenced). */
async function powerOff(host: NodeRow, bestEffort = false): Promise<string> {
  try {
    const d = driverFor(host);
    const p = await d.getPowerState();
    if (p !== "off") await d.setPower("off");
    await getDb().update(nodes).set({ powerState: "off" }).where(eq(nodes.id, host.id));
    return p === "off" ? "already off" : "powered off";
  } catch (e) {
    if (bestEffort) return `BMC unreachable (${(e as Error).message}); host marked fenced`;
    throw e;
  }
}

/** Removes the instance's disks, seed and NIC from the DPU (404 counts as gone). */
async function detachFromDpu(instanceId: string, pl: Placement, bestEffort = false): Promise<string> {
  const db = getDb();
  const data = await db.select({ volumeId: volumeAttachments.volumeId }).from(volumeAttachments).where(eq(volumeAttachments.instanceId, instanceId));
  const nics = await db
    .select({ index: ports.nicIndex })
    .from(ports)
    .where(and(eq(ports.instanceId, instanceId), isNotNull(ports.nicIndex)));
  const nicIndexes = [...new Set([0, ...nics.map((n) => n.index!)])];
  const work = [
    ...nicIndexes.map((i) => () => pl.agent.deleteNic(agentNames.nic(instanceId, i))),
    () => pl.agent.deleteCidata(agentNames.seed(instanceId)),
    () => pl.agent.deleteDisk(agentNames.boot(instanceId)),
    ...data.map((d) => () => pl.agent.deleteDisk(agentNames.data(d.volumeId))),
  ];
  const errors: string[] = [];
  for (const w of work) {
    try {
      await w();
    } catch (e) {
      if (!bestEffort) throw e;
      errors.push((e as Error).message);
    }
  }
  await db
    .update(ports)
    .set({
      nodeId: null,
      dpuFunction: null,
      appliedRulesVersion: 0,
      rulesAppliedHash: null,
      rulesError: null,
      rulesErrorDpuId: null,
      rulesAttempts: 0,
      rulesRetryAt: null,
    })
    .where(and(eq(ports.nodeId, pl.host.id)));
  return errors.length ? `DPU unreachable, its functions are reset when the host is cleaned (${errors[0]})` : "removed";
}

/** Deletes every target exporting the instance's volumes to this DPU; the system volume too when `deleteSystem`. */
async function unexport(instanceId: string, dpuId: string | null, deleteSystem: boolean): Promise<void> {
  const db = getDb();
  const storage = getStorage();
  const atts = await db
    .select({ attId: volumeAttachments.id, kind: volumes.kind, volumeRowId: volumes.id, storageVolumeId: volumes.storageVolumeId })
    .from(volumeAttachments)
    .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
    .where(eq(volumeAttachments.instanceId, instanceId));
  for (const a of atts) {
    if (!a.storageVolumeId) continue;
    const initiator = dpuId ? dpuHostNqn(dpuId) : undefined;
    for await (const t of storage.listAll(storage.listTargets, { volumeId: a.storageVolumeId, ...(initiator ? { initiator } : {}) }))
      await ignoreGone(() => storage.deleteTarget(t.id));
    await db.update(volumeAttachments).set({ nodeId: null, storageTargetId: null }).where(eq(volumeAttachments.id, a.attId));
  }
  await db.update(instances).set({ storageTargetId: null }).where(eq(instances.id, instanceId));
  if (!deleteSystem) return;
  // A rescued instance's rescue boot volume goes with its system volume (server/workflows/instance-rescue.ts).
  await deleteRescueVolume(instanceId);
  for (const a of atts.filter((x) => x.kind === "system")) {
    if (a.storageVolumeId) {
      // Any target left (exported elsewhere by an earlier placement) must go before the volume can.
      for await (const t of storage.listAll(storage.listTargets, { volumeId: a.storageVolumeId })) await ignoreGone(() => storage.deleteTarget(t.id));
      await ignoreGone(() => storage.deleteVolume(a.storageVolumeId!));
    }
    await db.delete(volumes).where(eq(volumes.id, a.volumeRowId));
  }
  await db.update(instances).set({ storageVolumeId: null }).where(eq(instances.id, instanceId));
}

/** Deletes the instance's rescue boot volume (its exports first) and forgets it; "none" when it holds none. */
export async function deleteRescueVolume(instanceId: string): Promise<string> {
  const db = getDb();
  const [row] = await db.select({ id: instances.rescueStorageVolumeId }).from(instances).where(eq(instances.id, instanceId));
  const id = row?.id;
  if (!id) return "none";
  const storage = getStorage();
  for await (const t of storage.listAll(storage.listTargets, { volumeId: id })) await ignoreGone(() => storage.deleteTarget(t.id));
  await ignoreGone(() => storage.deleteVolume(id));
  await db.update(instances).set({ rescueStorageVolumeId: null }).where(eq(instances.id, instanceId));
  return "deleted";
}

async function ignoreGone(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (e) {
    if (isStorageError(e) && e.status === 404) return;
    throw e;
  }
}

/**
 * Releases the addresses of the instance's NICs and deletes their ports (the primary and any other). `keepExtraNics`
 * (a create's rollback): the NICs asked for beyond the primary (eth1…, with their subnets, groups and addresses —
 * fixed ones included) stay with the failed instance, so a retried create brings them back as asked; the primary is
 * made again by the create ("allocate address"), and a delete releases them all.
 */
async function releasePort(instanceId: string, opts: { keepExtraNics?: boolean } = {}) {
  const db = getDb();
  await db.transaction(async (tx) => {
    const [inst] = await tx.select({ portId: instances.portId }).from(instances).where(eq(instances.id, instanceId)).for("update");
    if (!inst) return;
    const held = await tx.select({ id: ports.id, index: ports.nicIndex }).from(ports).where(eq(ports.instanceId, instanceId));
    const released = opts.keepExtraNics ? held.filter((p) => p.id === inst.portId || !p.index) : held;
    const ids = [...new Set([...(inst.portId ? [inst.portId] : []), ...released.map((p) => p.id)])];
    if (!ids.length) return;
    // Servers whose rules name these ports' groups stop letting their addresses in (pushed by the pass the workflow
    // enqueues when done, or the sweep).
    await bumpGroupPeers(tx, ids);
    for (const id of ids) await releasePortAddress(tx, id);
    await tx.update(instances).set({ portId: null }).where(eq(instances.id, instanceId));
    await tx.delete(ports).where(inArray(ports.id, ids));
  });
}

/** The host goes back to the pool: agent reset (nothing of the tenant left on the DPU), boot override cleared, lifecycle → available. */
async function cleanNode(instanceId: string): Promise<string> {
  const db = getDb();
  const inst = await loadInstance(instanceId);
  const pl = await placement(inst).catch(() => null);
  if (!inst.nodeId) return "no host held";
  if (pl) {
    await pl.agent.reset();
    // The next tenant's boot must not inherit this one's override (set "once", but a create that failed before
    // powering on leaves it pending).
    const d = driverFor(pl.host);
    if (d.clearBootOverride) await d.clearBootOverride();
  }
  await db.transaction(async (tx) => {
    const [n] = await tx.select({ s: nodes.provisionState }).from(nodes).where(eq(nodes.id, inst.nodeId!)).for("update");
    let s = n?.s as ProvisionState | undefined;
    // A host still deploying (a rollback, or the delete of a create whose rollback could not finish) is aborted.
    if (s === "deploying") s = await nodeEvent(tx, inst.nodeId!, "deploy_aborted");
    if (s === "active" || s === "error" || s === "rescue") s = await nodeEvent(tx, inst.nodeId!, "undeploy");
    if (s === "deleting") s = await nodeEvent(tx, inst.nodeId!, "deleted");
    if (s === "cleaning") s = await nodeEvent(tx, inst.nodeId!, "cleaned", { lastError: null });
    await tx.update(instances).set({ nodeId: null }).where(eq(instances.id, instanceId));
  });
  return pl ? `${pl.host.name} returned to the pool` : "host released";
}

/**
 * Undoes a create (or finishes a delete): power off, DPU functions, exports + system volume, port, node. Every
 * piece is idempotent, so a crashed rollback simply runs again. Each piece is its own durable step (the create's
 * undo labels them "rollback: …").
 */
function teardown(instanceId: string, label: (s: string) => string = (s) => s, opts: { keepExtraNics?: boolean } = {}): Undo[] {
  return [
    {
      name: label("power off"),
      fn: async () => {
        const pl = await placement(await loadInstance(instanceId)).catch(() => null);
        return pl ? powerOff(pl.host) : "no host held";
      },
    },
    {
      name: label("detach from DPU"),
      fn: async () => {
        const pl = await placement(await loadInstance(instanceId)).catch(() => null);
        return pl ? detachFromDpu(instanceId, pl) : "no host held";
      },
    },
    {
      name: label("delete exports and system volume"),
      fn: async () => {
        const inst = await loadInstance(instanceId);
        const pl = await placement(inst).catch(() => null);
        await unexport(instanceId, pl?.dpu.id ?? null, true);
      },
    },
    { name: label("release address and port"), fn: () => releasePort(instanceId, opts) },
    { name: label("clean node"), fn: () => cleanNode(instanceId) },
  ];
}

// ------------------------------------------------------------------------------------------------ workflows

/** Waits for every branch to end, then fails with the first failure (in branch order) if any failed. */
export async function settled(branches: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(branches);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

export const createInstance = defineSaga(catalog.instanceCreate, {
  async run(saga, instanceId, opId) {
    const db = saga.db;
    // The create's one undo is the delete's idempotent teardown, declared with its first step: whatever a failure
    // (or an operator's abort) interrupts, it releases everything the instance came to hold.
    const node = await saga.step(
      "reserve node",
      async () => {
        await throwIfAborted(opId);
        const got = await reserve(instanceId);
        await db
          .update(operations)
          .set({ result: { hostName: got.hostName } })
          .where(eq(operations.id, opId));
        return got;
      },
      { undo: teardown(instanceId, (s) => `rollback: ${s}`, { keepExtraNics: true }), undoIfFailed: true },
    );
    // Three independent branches, started in a fixed order (see the header): network, disk, boot override.
    // allSettled, not all: a rollback must not start while another branch is still attaching things.
    await settled([
      step("network", () => attachNetwork(instanceId, opId)),
      step("system disk", () => attachSystemDisk(instanceId, opId)),
      step("data volumes", () => attachDataVolumes(instanceId, opId)),
      // A BMC that is busy (no answer, a transient BmcError) gets two more tries; a refusal fails at once (engine.ts).
      opStep(db, opId, "boot override to disk", () => bootOverride(instanceId), { retries: 2 }),
    ]);
    await saga.step("power on", async () => {
      await throwIfAborted(opId);
      return powerOn(instanceId);
    });
    const up = await waitForOsStep(db, opId, instanceId, { abortable: true });
    await saga.step("mark running", async () => {
      await db.transaction(async (tx) => {
        // Idempotent: a step re-run after its commit finds the node already active.
        const [n] = await tx.select({ s: nodes.provisionState }).from(nodes).where(eq(nodes.id, node.hostId)).for("update");
        if (n?.s === "deploying") await nodeEvent(tx, node.hostId, "deployed");
        // Only from creating: a re-run must not undo what the tenant did since (e.g. a delete already under way).
        await applyInstanceEvent(tx, instanceId, "created");
      });
      await finishOperation(db, opId, "succeeded", { result: { hostName: node.hostName, boot: up } });
    });
    // The other DPUs of the VNI learn this DPU's VTEP and the new address (server/workflows/overlay.ts); servers whose
    // rules name this one's groups let its address in (the port's step bumped them: server/workflows/rules.ts).
    await applyOverlaySoon();
    await applyRulesSoon();
  },
  async failed({ reason, undoError }, instanceId) {
    // A rollback that itself failed (e.g. the BMC or agent is down) leaves the instance holding what could not be
    // released, failed with both reasons, so a delete (or an operator's retry) can finish the job.
    if (undoError) {
      await applyInstanceEvent(getDb(), instanceId, "create_failed", { reason: `${reason} Cleaning up also failed: ${undoError}` });
      return { error: `${reason} (rollback incomplete: ${undoError})` };
    }
    await applyInstanceEvent(getDb(), instanceId, "create_failed", { reason });
  },
});

export const deleteInstance = defineSaga(catalog.instanceDelete, {
  async run(saga, instanceId) {
    const db = saga.db;
    for (const piece of teardown(instanceId)) await saga.step(piece.name, piece.fn);
    await saga.step("mark deleted", async () => {
      await db.transaction(async (tx) => {
        // Data volumes stay the tenant's: detached, available again.
        const atts = await tx.delete(volumeAttachments).where(eq(volumeAttachments.instanceId, instanceId)).returning({ volumeId: volumeAttachments.volumeId });
        for (const a of atts) {
          const [left] = await tx.select({ n: sql<number>`count(*)::int` }).from(volumeAttachments).where(eq(volumeAttachments.volumeId, a.volumeId));
          if (!left?.n)
            await tx
              .update(volumes)
              .set({ state: "available" })
              .where(and(eq(volumes.id, a.volumeId), ne(volumes.state, "deleting")));
        }
        await applyInstanceEvent(tx, instanceId, "deleted");
      });
      await finishOperation(db, saga.opId, "succeeded");
    });
    await applyOverlaySoon();
    await applyRulesSoon();
  },
  async failed({ reason }, instanceId) {
    await applyInstanceEvent(getDb(), instanceId, "delete_failed", { reason: `Delete failed: ${reason}` });
  },
});

export type PowerRequest = InstancePowerRequest;

export const powerInstance = defineSaga(catalog.instancePower, {
  async run(saga, instanceId, opId, action, force) {
    const db = saga.db;
    // The step records which host, never the node row: the engine keeps step outputs, the row holds credentials.
    const host = await step("load", async () => {
      const pl = await placement(await loadInstance(instanceId));
      if (!pl) throw new ProvisionError("The instance holds no host.");
      return { id: pl.host.id, name: pl.host.name };
    });
    const bmc = async () => {
      const [row] = await db.select().from(nodes).where(eq(nodes.id, host.id));
      if (!row) throw new ProvisionError(`Host ${host.name} no longer exists.`);
      return driverFor(row);
    };
    if (action === "stop") {
      const how = await saga.step(force ? "power off" : "shut down", async () => {
        const d = await bmc();
        if ((await d.getPowerState()) === "off") return "already off";
        if (force) {
          await d.setPower("off");
          return "forced off";
        }
        await d.setPower("soft_off");
        const until = Date.now() + stopGraceMs();
        while (Date.now() < until) {
          await new Promise((r) => setTimeout(r, 250));
          if ((await d.getPowerState()) === "off") return "shut down gracefully";
        }
        await d.setPower("off");
        return `forced off after ${Math.round(stopGraceMs() / 1000)} s without a clean shutdown`;
      });
      await saga.step("mark stopped", async () => {
        await db.update(nodes).set({ powerState: "off" }).where(eq(nodes.id, host.id));
        await applyInstanceEvent(getDb(), instanceId, "stopped");
        await finishOperation(db, opId, "succeeded", { result: { how } });
      });
      return;
    }
    await saga.step("boot override to disk", () => bootOverride(instanceId), { retries: 2 });
    if (action === "reboot")
      await saga.step("restart", async () => (await bmc()).setPower(force ? "reboot" : "soft_reboot").catch(async () => (await bmc()).setPower("reboot")));
    else await saga.step("power on", () => powerOn(instanceId));
    await waitForOsStep(db, opId, instanceId);
    await saga.step("mark running", async () => {
      await applyInstanceEvent(getDb(), instanceId, action === "start" ? "started" : "rebooted");
      await finishOperation(db, opId, "succeeded");
    });
  },
  async failed({ reason }, instanceId, _opId, action) {
    // The server is where it was (or unknown); say so and let the tenant try again.
    await applyInstanceEvent(getDb(), instanceId, `${action}_failed`, { reason: `${action} failed: ${reason}` });
  },
});

/** What a tenant's instance holds right now, for tests and the leak checks (nothing when fully released). */
export async function holdings(instanceId: string) {
  const inst = await loadInstance(instanceId);
  const [att] = await getDb().select({ n: sql<number>`count(*)::int` }).from(volumeAttachments).where(eq(volumeAttachments.instanceId, instanceId));
  return { nodeId: inst.nodeId, portId: inst.portId, storageVolumeId: inst.storageVolumeId, storageTargetId: inst.storageTargetId, attachments: att?.n ?? 0 };
}

export {
  attachNetwork,
  attachSystemDisk,
  bootOverride,
  cleanNode,
  detachFromDpu,
  diskSpec,
  ensureSystemVolume,
  exportTo,
  nodeEvent,
  placement,
  powerOff,
  powerOn,
  releasePort,
  unexport,
  waitForOs,
};
