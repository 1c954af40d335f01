// Power and health sync: every interval a scheduled workflow fans out one workflow per shard on the "sync"
// queue (so replicas share the work); each shard polls its BMCs with bounded concurrency, spread over the
// interval instead of in a burst, and records only what changed — power, health, faults (BMC unreachable,
// critical health, DPU agent heartbeat lost) and their recovery — as hardware events. It also keeps instances honest
// about their host: a running instance whose host is found off (powered off at the machine, through the BMC, by an
// operator) becomes stopped, and a stopped one whose host is found on with its OS running becomes running, each with a
// lifecycle event on the host saying it happened outside Anvil.
import { and, eq, inArray, lt, ne, type SQL, sql } from "drizzle-orm";
import { DBOS } from "@dbos-inc/dbos-sdk";
import { alias } from "drizzle-orm/pg-core";
import { fetch } from "undici";
import { getDb } from "@/db/client";
import { instances, nodes } from "@/db/schema";
import { isBmcError } from "@/server/drivers/bmc";
import { logger } from "@/server/lib/log";
import { bmcPollFailed, observeBmcSync } from "@/server/lib/metrics";
import { mgmtDispatcher } from "@/server/lib/mgmt-network";
import { DPU_CREDENTIALS_NEEDED, driverFor } from "./bmc-access";
import { SYNC_SHARDS } from "./enroll";
import { catalog, schedules } from "./catalog";
import { defineSchedule, defineWorkflow, step } from "./engine";
import { type HardwareEvent, recordEvents } from "./events";
import { readSel } from "./sel";
import { enqueue } from "./start";
import { applyInstanceEvent } from "@/server/services/instance-state";

export const SYNC_INTERVAL_S = Number(process.env.ANVIL_SYNC_INTERVAL_S ?? 30);
const MAX_INFLIGHT = Number(process.env.ANVIL_SYNC_CONCURRENCY ?? 128);
const AGENT_BOOT_GRACE_MS = 120_000;
const hostOf = alias(nodes, "host_of");

// One process-wide limit on concurrent BMC calls, whatever number of shards run here.
let inflight = 0;
const waiters: (() => void)[] = [];
async function acquire() {
  if (inflight < MAX_INFLIGHT) {
    inflight++;
    return;
  }
  await new Promise<void>((r) => waiters.push(r));
  inflight++;
}
function release() {
  inflight--;
  waiters.shift()?.();
}

export type SyncNode = InstanceOnHost &
  Pick<
    typeof nodes.$inferSelect,
    | "id"
    | "name"
    | "kind"
    | "parentNodeId"
    | "bmcDriver"
    | "bmcAddress"
    | "bmcAccess"
    | "bmcCredentials"
    | "bmcVerifyTls"
    | "powerState"
    | "health"
    | "fault"
    | "agentUrl"
    | "agentStatus"
    | "powerChangedAt"
  >;

/** The instance a host carries (at most one: instances_node_uq), as the sync needs it; a DPU's host's name. */
interface InstanceOnHost {
  /** A DPU's host, named when its BMC (which a cascaded DPU's BMC is reached through) does not answer. */
  parentName?: string | null;
  instanceId?: string | null;
  instanceName?: string | null;
  instanceState?: string | null;
}

export interface PollOutcome {
  id: string;
  power?: string;
  health?: string;
  healthReason?: string;
  bmcError?: string;
  agent?: "ok" | "lost" | "unknown";
  /** Redfish BootProgress, read only for a host on under a stopped instance; null when the BMC reports none. */
  bootState?: string | null;
}

async function agentAlive(url: string): Promise<boolean> {
  try {
    const r = await fetch(new URL("/v1/health/live", url), { signal: AbortSignal.timeout(3000), dispatcher: mgmtDispatcher() });
    await r.arrayBuffer();
    return r.ok;
  } catch {
    return false;
  }
}

export async function pollNode(n: SyncNode): Promise<PollOutcome> {
  await acquire();
  try {
    const out: PollOutcome = { id: n.id };
    try {
      const d = driverFor(n);
      out.power = await d.getPowerState();
      const h = await d.getHealth();
      out.health = h.health;
      out.healthReason = h.reason;
      // A stopped instance whose host is on: did its OS come up (started outside Anvil)? Only then is it running.
      if (n.instanceState === "stopped" && out.power === "on") out.bootState = d.bootProgress ? (await d.bootProgress()).bootState : null;
    } catch (e) {
      // No credentials yet: nothing was sent (no poll failed), and the operator is told what to do rather than "refused".
      if (n.bmcCredentials === null) out.bmcError = DPU_CREDENTIALS_NEEDED;
      else {
        bmcPollFailed(isBmcError(e) ? e.code : "other");
        // A DPU behind its host's BMC (cascade) is cut off when that BMC is: say which BMC to look at.
        const hostDown = n.bmcAccess === "cascade" && isBmcError(e) && (e.code === "unreachable" || e.code === "timeout");
        out.bmcError = hostDown
          ? `Host BMC unreachable: this DPU's BMC is reached through the BMC of ${n.parentName ?? "its host"} (cascade), which does not answer: ${(e as Error).message}`
          : isBmcError(e)
            ? `${e.code === "auth" ? "BMC refused the credentials" : e.code === "timeout" ? "BMC timed out" : e.code === "tls" ? "BMC certificate not trusted" : "BMC unreachable"}: ${e.message}`
            : `BMC poll failed: ${(e as Error).message}`;
      }
    }
    if (n.kind === "dpu" && n.agentUrl) {
      const booted = (out.power ?? n.powerState) === "on" && (!n.powerChangedAt || Date.now() - n.powerChangedAt.getTime() > AGENT_BOOT_GRACE_MS);
      out.agent = (await agentAlive(n.agentUrl)) ? "ok" : booted ? "lost" : "unknown";
    }
    return out;
  } finally {
    release();
  }
}

/** What changed between the stored node and a poll: the update to write and the events to record. */
export function diff(n: SyncNode, o: PollOutcome): { set: Partial<typeof nodes.$inferInsert>; events: HardwareEvent[] } {
  const set: Partial<typeof nodes.$inferInsert> = {};
  const events: HardwareEvent[] = [];
  if (o.power && o.power !== n.powerState) {
    set.powerState = o.power;
    set.powerChangedAt = new Date();
    events.push({ kind: "power", severity: "info", message: `Power ${n.powerState} → ${o.power} (seen by sync).` });
  }
  if (o.health && o.health !== n.health) {
    set.health = o.health;
    const sev = o.health === "critical" ? "critical" : o.health === "warning" ? "warning" : "ok";
    events.push({ kind: "health", severity: sev, message: `Health ${n.health} → ${o.health}${o.healthReason ? `: ${o.healthReason}` : ""}.` });
  }
  if (o.agent && o.agent !== n.agentStatus) {
    set.agentStatus = o.agent;
    if (o.agent === "ok") set.agentHeartbeatAt = new Date();
    if (o.agent === "lost") events.push({ kind: "agent", severity: "critical", message: "DPU agent heartbeat lost." });
    if (o.agent === "ok" && n.agentStatus === "lost") events.push({ kind: "agent", severity: "ok", message: "DPU agent heartbeat back." });
  } else if (o.agent === "ok") set.agentHeartbeatAt = new Date();
  const fault =
    o.bmcError ??
    (o.health === "critical" ? `Critical health${o.healthReason ? `: ${o.healthReason}` : ""}` : o.agent === "lost" ? "DPU agent heartbeat lost" : null);
  if (fault !== (n.fault ?? null)) {
    set.fault = fault;
    events.push(
      fault
        ? { kind: "fault", severity: "critical", message: `Fault: ${fault}` }
        : { kind: "fault", severity: "ok", message: `Fault cleared (was: ${n.fault}).` },
    );
  }
  if (!o.bmcError) set.bmcSeenAt = new Date();
  return { set, events };
}

/** The instance state a poll implies when Anvil did not cause it, or null (transitional states belong to a workflow). */
export function instanceChange(
  n: SyncNode,
  o: PollOutcome,
): { transition: "observed_off" | "observed_on"; from: "running" | "stopped"; to: "running" | "stopped"; reason: string | null; event: HardwareEvent } | null {
  if (!n.instanceId || o.bmcError) return null;
  if (n.instanceState === "running" && o.power === "off")
    return {
      transition: "observed_off",
      from: "running",
      to: "stopped",
      reason: `Powered off outside Anvil: the power sync found host ${n.name} off.`,
      event: {
        kind: "lifecycle",
        severity: "warning",
        message: `Instance ${n.instanceName} was powered off outside Anvil (host seen off by the power sync); running → stopped.`,
      },
    };
  if (n.instanceState === "stopped" && o.power === "on" && (o.bootState === "OSRunning" || o.bootState === null))
    return {
      transition: "observed_on",
      from: "stopped",
      to: "running",
      reason: null,
      event: {
        kind: "lifecycle",
        severity: "info",
        message: `Instance ${n.instanceName} was started outside Anvil (host seen on${o.bootState ? ", OS running" : ""} by the power sync); stopped → running.`,
      },
    };
  return null;
}

/**
 * Applies an instanceChange — only if the instance is still in `from` and was not changed since the poll began, so a
 * stale observation never undoes what a workflow did meanwhile (a create that just marked it running after powering the
 * host on, a stop that just marked it stopped). Returns whether it changed.
 */
async function reconcileInstance(n: SyncNode, c: NonNullable<ReturnType<typeof instanceChange>>, polledAt: Date): Promise<boolean> {
  return getDb().transaction(async (tx) => {
    const done = await applyInstanceEvent(tx, n.instanceId!, c.transition, {
      reason: c.reason,
      where: and(eq(instances.nodeId, n.id), lt(instances.updatedAt, polledAt)),
    });
    if (done) await recordEvents(tx, [{ ...c.event, nodeId: n.id }]);
    return done;
  });
}

/** The nodes matching `where`, with what a poll and applyPoll need (each host's instance joined). */
export function syncNodes(where: SQL | undefined): Promise<SyncNode[]> {
  return getDb()
    .select({
      id: nodes.id,
      name: nodes.name,
      kind: nodes.kind,
      parentNodeId: nodes.parentNodeId,
      bmcDriver: nodes.bmcDriver,
      bmcAddress: nodes.bmcAddress,
      bmcAccess: nodes.bmcAccess,
      bmcCredentials: nodes.bmcCredentials,
      bmcVerifyTls: nodes.bmcVerifyTls,
      parentName: hostOf.name,
      powerState: nodes.powerState,
      health: nodes.health,
      fault: nodes.fault,
      agentUrl: nodes.agentUrl,
      agentStatus: nodes.agentStatus,
      powerChangedAt: nodes.powerChangedAt,
      instanceId: instances.id,
      instanceName: instances.name,
      instanceState: instances.state,
    })
    .from(nodes)
    .leftJoin(instances, eq(instances.nodeId, nodes.id))
    .leftJoin(hostOf, eq(hostOf.id, nodes.parentNodeId))
    .where(where);
}

/**
 * Writes what one poll of a node found, as the sync does: the instance reconciled with its host's power, the node's
 * power/health/fault/agent columns and their hardware events, and a DPU's lost agent on its host. Returns whether the
 * node changed (an unchanged node only needs its bmcSeenAt / agentHeartbeatAt touched, which callers batch).
 */
export async function applyPoll(n: SyncNode, o: PollOutcome, polledAt: Date): Promise<boolean> {
  const db = getDb();
  const ic = instanceChange(n, o);
  if (ic && (await reconcileInstance(n, ic, polledAt)))
    logger.info({ node: n.name, instance: n.instanceName, to: ic.to }, "instance state reconciled with its host's power");
  const { set, events } = diff(n, o);
  const keys = Object.keys(set).filter((k) => k !== "bmcSeenAt" && k !== "agentHeartbeatAt");
  if (keys.length === 0) return false;
  await db.transaction(async (tx) => {
    // A node deleted while it was polled (its BMC driver closed under the poll) has nothing left to record on.
    const still = await tx.update(nodes).set(set).where(eq(nodes.id, n.id)).returning({ id: nodes.id });
    if (!still.length) return;
    await recordEvents(
      tx,
      events.map((e) => ({ ...e, nodeId: n.id })),
    );
  });
  // A DPU agent lost faults its host too (the host's instance is cut off from storage and network).
  if (n.kind === "dpu" && n.parentNodeId && "fault" in set) {
    const hostFault = set.fault === "DPU agent heartbeat lost" ? `DPU ${n.name}: agent heartbeat lost` : null;
    await db.transaction(async (tx) => {
      const [h] = await tx.select({ fault: nodes.fault }).from(nodes).where(eq(nodes.id, n.parentNodeId!)).for("update");
      if (!h) return;
      if (hostFault && !h.fault) {
        await tx.update(nodes).set({ fault: hostFault }).where(eq(nodes.id, n.parentNodeId!));
        await recordEvents(tx, [{ nodeId: n.parentNodeId!, kind: "fault", severity: "critical", message: `Fault: ${hostFault}` }]);
      } else if (!hostFault && h.fault?.startsWith(`DPU ${n.name}:`)) {
        await tx.update(nodes).set({ fault: null }).where(eq(nodes.id, n.parentNodeId!));
        await recordEvents(tx, [{ nodeId: n.parentNodeId!, kind: "fault", severity: "ok", message: `Fault cleared (was: ${h.fault}).` }]);
      }
    });
  }
  return true;
}

// The SEL is read every SEL_INTERVAL_S by the sync pass (and at once after a live event: server/live-events). When
// each node was last read is kept per process: a shard that moves to another replica is read there a little early,
// which the SEL's dedupe makes harmless.
const SEL_INTERVAL_MS = Number(process.env.ANVIL_SEL_INTERVAL_S ?? 300) * 1000;
const selReadAt = new Map<string, number>();
function selDue(nodeId: string): boolean {
  const now = Date.now();
  const last = selReadAt.get(nodeId);
  if (last !== undefined && now - last < SEL_INTERVAL_MS) return false;
  selReadAt.delete(nodeId); // re-inserted last: the map's order is oldest first, for the bound below
  selReadAt.set(nodeId, now);
  if (selReadAt.size > 100_000) selReadAt.delete(selReadAt.keys().next().value as string);
  return true;
}

/** Polls every node of a shard, spreading the start of each poll over `spreadMs`. */
export async function syncShard(shard: number, spreadMs: number): Promise<{ polled: number; changed: number }> {
  const db = getDb();
  const rows = await syncNodes(and(eq(nodes.syncShard, shard), ne(nodes.provisionState, "enroll")));
  const t0 = Date.now();
  let changed = 0;
  const seen: string[] = [];
  const agentsSeen: string[] = [];
  await Promise.all(
    rows.map(async (n, i) => {
      const at = rows.length > 1 ? (spreadMs * i) / rows.length : 0;
      const wait = t0 + at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const polledAt = new Date();
      const o = await pollNode(n);
      if (o.agent === "ok") agentsSeen.push(n.id);
      if (await applyPoll(n, o, polledAt)) changed++;
      else if (!o.bmcError) seen.push(n.id);
      if (!o.bmcError && selDue(n.id)) await readSel(n.id).catch((e: Error) => logger.warn({ node: n.name, err: e.message }, "SEL read failed"));
    }),
  );
  for (let i = 0; i < seen.length; i += 1000)
    await db
      .update(nodes)
      .set({ bmcSeenAt: sql`now()` })
      .where(inArray(nodes.id, seen.slice(i, i + 1000)));
  for (let i = 0; i < agentsSeen.length; i += 1000)
    await db
      .update(nodes)
      .set({ agentHeartbeatAt: sql`now()` })
      .where(inArray(nodes.id, agentsSeen.slice(i, i + 1000)));
  return { polled: rows.length, changed };
}

export const syncShardWorkflow = defineWorkflow(catalog.syncShard, async (shard, spreadMs) => {
  const r = await step("poll", () => observeBmcSync(shard, () => syncShard(shard, spreadMs)));
  if (r.changed) logger.info({ shard, ...r }, "bmc sync shard");
  return r;
});

/** One full pass over every shard now (used by the tick, by operators' "refresh", by the benchmark). */
export async function syncAll(spreadMs: number, tag = `${Date.now()}`) {
  const ids = await Promise.all(Array.from({ length: SYNC_SHARDS }, (_, s) => enqueue(catalog.syncShard, [s, spreadMs], { workflowID: `sync-${tag}-${s}` })));
  return ids;
}

export const bmcSyncSchedule = defineSchedule(schedules.bmcSync, `*/${SYNC_INTERVAL_S} * * * * *`, async (t: Date) => {
  const tag = `${t.getTime()}`;
  for (let s = 0; s < SYNC_SHARDS; s++)
    await DBOS.startWorkflow(syncShardWorkflow.fn, { workflowID: `sync-${tag}-${s}`, queueName: catalog.syncShard.queue })(s, SYNC_INTERVAL_S * 800);
});
