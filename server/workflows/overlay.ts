// The VXLAN overlay: the reconciler that gives every DPU, for each VNI it has a port in, the underlay addresses of the
// other DPUs with a port in that VNI (its remote tunnel endpoints), the VPC's IPAM table (ip -> MAC, which the DPU's
// ARP responder answers from, agent/backends/ovs-flows.ts) and the VPC's distributed router (its subnets' gateways and
// the VNI's router MAC; a subnet created or deleted changes the hash, so the pass re-applies it; a dual-stack subnet
// adds its IPv6 addresses to the table and its IPv6 /64 and gateway to the router) with, when the VPC has
// an external gateway or floating IPs, the router's provider side on that DPU (its SNAT address, its own provider MAC,
// the floating IPs of its own ports: a floating IP attached, detached or moved changes the hash of exactly the DPUs
// concerned). Modelled on the live-rules reconciler (./rules.ts):
//  - desired state is computed each pass from the ports of live instances (so creates, deletes, recoveries onto a
//    spare and rebuilds all count: the pass runs after each, server/services/overlay-apply.ts) and its hash is the
//    desired version; `dpu_overlays.applied_hash` is the agent's hash of what it accepted (the applied version);
//  - (sweep only) each involved DPU's agent is asked what it holds (GET /v1/overlay/vxlan): a missing or different
//    overlay (an agent restarted without its journal, a hand edit) goes back to pending;
//  - a (DPU, VNI) whose hashes differ and whose retry time has come is PUT /v1/overlay/vxlan/{vni}; a row whose DPU
//    no longer has a port in the VNI is DELETEd on the agent and dropped;
//  - a DPU that does not answer keeps its rows pending with the error and a retry time (exponential backoff).
// Passes run one at a time (queue `overlay`, concurrency 1), so an older computation never overwrites a newer one.
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { z } from "zod";
import { getDb } from "@/db/client";
import { canonicalJson } from "@/agent/core";
import { type ExternalSpec, OverlaySpecSchema, type OverlaySpec } from "@/agent/schemas";
import { isDpuAgentError } from "@/server/drivers/dpu-agent/client";
import { logger } from "@/server/lib/log";
import { providerMac, syncSnatAddresses } from "@/server/services/provider-addresses";
import { liveNicStates } from "@/server/services/rules-apply";
import { catalog, schedules } from "./catalog";
import { defineSchedule, defineWorkflow, step } from "./engine";
import { agentFor } from "./instances";
import { enqueue } from "./start";

const envNum = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const retryMs = () => envNum("ANVIL_OVERLAY_RETRY_MS", 1000);
const retryMaxMs = () => envNum("ANVIL_OVERLAY_RETRY_MAX_MS", 30_000);
const pushTimeoutMs = () => envNum("ANVIL_OVERLAY_AGENT_TIMEOUT_MS", 5000);
/** How often the sweep runs (seconds). */
export const OVERLAY_SWEEP_S = 10;
const DPUS_AT_ONCE = 32;

type Dpu = {
  dpuId: string;
  dpuName: string;
  underlayIp: string | null;
  agentUrl: string | null;
  agentToken: string | null;
};
type Row = {
  dpuId: string;
  vni: number;
  desiredHash: string | null;
  appliedHash: string | null;
  attempts: number;
  due: boolean;
};
type Desired = {
  dpu: Dpu;
  vni: number;
  spec: OverlaySpec;
  hash: string;
};

/** The agent's hash of a normalized overlay spec (agent/core.ts overlayView): equal specs, equal hashes. */
export function overlayHash(spec: OverlaySpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

/**
 * The MAC of a VNI's distributed router: the same on every DPU (the router port never leaves a DPU, so it needs no
 * uniqueness beyond the VNI), locally administered and unicast: 02:a4:e1 and the VNI's three bytes.
 */
export function routerMac(vni: number): string {
  return ["02", "a4", "e1", ...[16, 8, 0].map((s) => ((vni >>> s) & 0xff).toString(16).padStart(2, "0"))].join(":");
}

/** One (DPU, VNI)'s overlay as the BFF builds it, before the agent's schema checks and normalizes it. */
export type BuiltOverlay = { dpu: Dpu; vni: number; spec: z.input<typeof OverlaySpecSchema>; external?: ExternalSpec };

const isV6 = (ip: string) => ip.includes(":");

/** For every VNI with a live port on a DPU: each such DPU with its spec (the other DPUs' VTEPs, the VPC's IPAM table
 *  — IPv4 and, on dual-stack subnets, IPv6 addresses — and the VPC's router: its overlay subnets with their gateways,
 *  a dual-stack subnet once per family) and the router's provider side on that DPU, if any. */
export async function builtOverlays(): Promise<BuiltOverlay[]> {
  const db = getDb();
  const members = (
    await db.execute<Dpu & { vni: number }>(sql`
    select distinct v.vni as "vni", d.id as "dpuId", d.name as "dpuName", d.underlay_ip as "underlayIp",
           d.agent_url as "agentUrl", d.agent_token as "agentToken"
      from ports p
      join instances i on i.id = p.instance_id and i.state in (${liveNicStates()})
      join subnets s on s.id = p.subnet_id and s.vlan_id is null
      join vpcs v on v.id = s.vpc_id
      join nodes d on d.parent_node_id = p.node_id and d.kind = 'dpu'
     where p.node_id is not null
     order by v.vni, d.id`)
  ).rows;
  if (!members.length) return [];
  const vnis = [...new Set(members.map((m) => m.vni))];
  const inVnis = sql.join(
    vnis.map((n) => sql`${n}`),
    sql`, `,
  );
  const neighbors = (
    await db.execute<{ vni: number; ip: string; mac: string }>(sql`
    select v.vni as "vni", host(a.address) as "ip", p.mac::text as "mac"
      from ip_allocations a
      join ports p on p.id = a.port_id
      join subnets s on s.id = a.subnet_id and s.vlan_id is null
      join vpcs v on v.id = s.vpc_id
     where v.vni in (${inVnis})`)
  ).rows;
  const byVni = new Map<number, { ip: string; mac: string }[]>();
  for (const n of neighbors) byVni.set(n.vni, [...(byVni.get(n.vni) ?? []), { ip: n.ip, mac: n.mac }]);
  const subnetRows = (
    await db.execute<{ vni: number; cidr: string; gateway: string }>(sql`
    select v.vni as "vni", s.cidr::text as "cidr", host(s.gateway) as "gateway"
      from subnets s
      join vpcs v on v.id = s.vpc_id
     where s.vlan_id is null and family(s.cidr) = 4 and v.vni in (${inVnis})
    union all
    select v.vni, s.ipv6_cidr::text, host(s.ipv6_gateway)
      from subnets s
      join vpcs v on v.id = s.vpc_id
     where s.vlan_id is null and s.ipv6_cidr is not null and v.vni in (${inVnis})`)
  ).rows;
  const subnetsOf = new Map<number, { cidr: string; gateway: string }[]>();
  for (const r of subnetRows) subnetsOf.set(r.vni, [...(subnetsOf.get(r.vni) ?? []), { cidr: r.cidr, gateway: r.gateway }]);
  const external = await externalsOf(vnis);
  return members.map(({ vni, ...dpu }) => {
    const remoteIps = members
      .filter((o) => o.vni === vni && o.dpuId !== dpu.dpuId && o.underlayIp && o.underlayIp !== dpu.underlayIp)
      .map((o) => o.underlayIp!);
    const subnets = subnetsOf.get(vni) ?? [];
    const router = subnets.length ? { router: { mac: routerMac(vni), subnets } } : {};
    const ext = subnets.length ? external(vni, dpu.dpuId) : undefined;
    return { dpu, vni, spec: { remoteIps, neighbors: byVni.get(vni) ?? [], ...router }, ...(ext ? { external: ext } : {}) };
  });
}

/** The IPv4 part of a spec: what a DPU gets when its agent refuses the IPv6 entries. */
function ipv4Only(spec: BuiltOverlay["spec"]): BuiltOverlay["spec"] {
  const subnets = spec.router?.subnets.filter((s) => !isV6(s.cidr)) ?? [];
  const { router, ...rest } = spec;
  return { ...rest, neighbors: spec.neighbors.filter((n) => !isV6(n.ip)), ...(router && subnets.length ? { router: { ...router, subnets } } : {}) };
}

/** Each built overlay as the agent takes it (normalized), with its hash. */
export async function desiredOverlays(): Promise<Desired[]> {
  return (await builtOverlays()).map(({ dpu, vni, spec: built, external }) => {
    const full = OverlaySpecSchema.safeParse(built);
    let base = built;
    let spec: OverlaySpec;
    if (full.success) spec = full.data;
    else {
      // An IPv6 part the agent's schema refuses must not hold back the VNI's IPv4 overlay: the DPU gets the IPv4
      // part (which hashes exactly as it did before dual stack), the log says why.
      base = ipv4Only(built);
      spec = OverlaySpecSchema.parse(base);
      logger.warn({ dpu: dpu.dpuName, vni, error: full.error.issues[0]?.message }, "IPv6 left out of the overlay");
    }
    if (external && base.router) {
      // A provider side the agent would refuse (e.g. a provider network overlapping a subnet created since) must not
      // hold back the VNI's overlay: the DPU gets the rest, the log says why.
      const withExt = OverlaySpecSchema.safeParse({ ...base, router: { ...base.router, external } });
      if (withExt.success) spec = withExt.data;
      else logger.warn({ dpu: dpu.dpuName, vni, error: withExt.error.issues[0]?.message }, "router.external left out of the overlay");
    }
    return { dpu, vni, spec, hash: overlayHash(spec) };
  });
}

/**
 * The provider side of each VNI's router per DPU (OverlaySpec.router.external): the VPC's provider network (its
 * external gateway, or else the network of its attached floating IPs) with the DPU's own provider MAC and SNAT
 * address, and only the floating IPs whose fixed port lives on that DPU ("one DPU per address": the provider network
 * hears each floating IP's ARP answer from one DPU only). None for a DPU with neither SNAT nor a floating IP, or when
 * the network has no gateway set.
 */
async function externalsOf(vnis: number[]): Promise<(vni: number, dpuId: string) => ExternalSpec | undefined> {
  const db = getDb();
  const inVnis = sql.join(
    vnis.map((n) => sql`${n}`),
    sql`, `,
  );
  const nets = (
    await db.execute<{ vni: number; snat: boolean; cidr: string; vlanId: number; gateway: string; gatewayMac: string; networkId: string }>(sql`
    select v.vni as "vni", (v.external_network_id is not null) as "snat", pn.id as "networkId", pn.cidr::text as "cidr",
           pn.vlan_id as "vlanId", host(pn.gateway) as "gateway", pn.gateway_mac::text as "gatewayMac"
      from vpcs v
      join provider_networks pn on pn.id = coalesce(v.external_network_id, (
             select fa.provider_network_id from provider_addresses fa
               join ports p on p.id = fa.port_id join subnets s on s.id = p.subnet_id
              where s.vpc_id = v.id order by fa.created_at limit 1))
     where pn.gateway is not null and v.vni in (${inVnis})`)
  ).rows;
  if (!nets.length) return () => undefined;
  const floating = (
    await db.execute<{ vni: number; dpuId: string; ip: string; fixedIp: string; networkId: string }>(sql`
    select v.vni as "vni", d.id as "dpuId", host(fa.address) as "ip", host(a.address) as "fixedIp", fa.provider_network_id as "networkId"
      from provider_addresses fa
      join ports p on p.id = fa.port_id and p.node_id is not null
      join instances i on i.id = p.instance_id and i.state in (${liveNicStates()})
      join ip_allocations a on a.port_id = p.id and family(a.address) = 4
      join subnets s on s.id = p.subnet_id and s.vlan_id is null
      join vpcs v on v.id = s.vpc_id
      join nodes d on d.parent_node_id = p.node_id and d.kind = 'dpu'
     where fa.kind = 'floating' and v.vni in (${inVnis})`)
  ).rows;
  const snat = (
    await db.execute<{ vni: number; dpuId: string; ip: string; networkId: string }>(sql`
    select v.vni as "vni", fa.dpu_id as "dpuId", host(fa.address) as "ip", fa.provider_network_id as "networkId"
      from provider_addresses fa join vpcs v on v.id = fa.vpc_id
     where fa.kind = 'snat' and v.vni in (${inVnis})`)
  ).rows;
  const netOf = new Map(nets.map((n) => [n.vni, n]));
  return (vni, dpuId) => {
    const n = netOf.get(vni);
    if (!n) return undefined;
    const snatIp = n.snat ? snat.find((s) => s.vni === vni && s.dpuId === dpuId && s.networkId === n.networkId)?.ip : undefined;
    const floatingIps = floating.filter((f) => f.vni === vni && f.dpuId === dpuId && f.networkId === n.networkId).map(({ ip, fixedIp }) => ({ ip, fixedIp }));
    if (!snatIp && !floatingIps.length) return undefined;
    return {
      vlanId: n.vlanId,
      mac: providerMac(dpuId, vni),
      cidr: n.cidr,
      gateway: n.gateway,
      gatewayMac: n.gatewayMac,
      ...(snatIp ? { snatIp } : {}),
      floatingIps,
    };
  };
}

async function rowsNow(): Promise<(Row & Dpu)[]> {
  return (
    await getDb().execute<Row & Dpu>(sql`
    select o.dpu_id as "dpuId", o.vni as "vni", o.desired_hash as "desiredHash", o.applied_hash as "appliedHash",
           o.attempts as "attempts", (o.retry_at is null or o.retry_at <= now()) as "due",
           d.name as "dpuName", d.underlay_ip as "underlayIp", d.agent_url as "agentUrl", d.agent_token as "agentToken"
      from dpu_overlays o join nodes d on d.id = o.dpu_id`)
  ).rows;
}

const agentOf = (d: Dpu) => {
  if (!d.agentUrl || !d.agentToken) throw new Error(`DPU ${d.dpuName} has no agent address`);
  return agentFor({ agentUrl: d.agentUrl, agentToken: d.agentToken }, { timeoutMs: pushTimeoutMs(), retries: 0 });
};
const keyOf = (dpuId: string, vni: number) => `${dpuId}/${vni}`;

const backoffSql = (attempts: number) => sql`now() + ${`${Math.min(retryMaxMs(), retryMs() * 2 ** Math.min(attempts, 20))} milliseconds`}::interval`;

async function recordApplied(dpuId: string, vni: number, desiredHash: string, appliedHash: string, remoteCount: number): Promise<void> {
  await getDb().execute(sql`
    insert into dpu_overlays (dpu_id, vni, desired_hash, applied_hash, applied_at, remote_count, error, attempts, retry_at)
    values (${dpuId}, ${vni}, ${desiredHash}, ${appliedHash}, now(), ${remoteCount}, null, 0, null)
    on conflict (dpu_id, vni) do update set desired_hash = excluded.desired_hash, applied_hash = excluded.applied_hash,
      applied_at = now(), remote_count = excluded.remote_count, error = null, attempts = 0, retry_at = null`);
}

async function recordFailure(dpuId: string, vni: number, desiredHash: string | null, attempts: number, message: string): Promise<void> {
  await getDb().execute(sql`
    insert into dpu_overlays (dpu_id, vni, desired_hash, error, attempts, retry_at)
    values (${dpuId}, ${vni}, ${desiredHash}, ${message.slice(0, 500)}, 1, ${backoffSql(attempts)})
    on conflict (dpu_id, vni) do update set desired_hash = excluded.desired_hash, error = excluded.error,
      attempts = dpu_overlays.attempts + 1, retry_at = ${backoffSql(attempts)}`);
}

/** Sweep: the hashes each reachable agent holds per VNI (an unreachable one is left out: nothing is known). */
async function agentHashes(dpus: Dpu[]): Promise<Map<string, Map<number, string>>> {
  const out = new Map<string, Map<number, string>>();
  await Promise.all(
    dpus.map(async (d) => {
      try {
        const items = (await agentOf(d).listOverlays()) as { vni: number; hash: string }[];
        out.set(d.dpuId, new Map(items.map((o) => [o.vni, o.hash])));
      } catch {
        // a push to it records why
      }
    }),
  );
  return out;
}

export interface OverlayPass {
  applied: number;
  removed: number;
  failed: number;
  drifted: number;
}

/** One pass (not a step by itself: the workflow wraps it). */
export async function reconcileOverlay(mode: "change" | "sweep"): Promise<OverlayPass> {
  await syncSnatAddresses();
  const desired = await desiredOverlays();
  const rows = await rowsNow();
  const rowOf = new Map(rows.map((r) => [keyOf(r.dpuId, r.vni), r]));
  const want = new Map(desired.map((d) => [keyOf(d.dpu.dpuId, d.vni), d]));
  let drifted = 0;
  if (mode === "sweep") {
    const dpus = new Map<string, Dpu>();
    for (const d of desired) dpus.set(d.dpu.dpuId, d.dpu);
    for (const r of rows) dpus.set(r.dpuId, r);
    const held = await agentHashes([...dpus.values()]);
    for (const d of desired) {
      const r = rowOf.get(keyOf(d.dpu.dpuId, d.vni));
      const has = held.get(d.dpu.dpuId);
      if (!r?.appliedHash || !has) continue;
      if (has.get(d.vni) !== r.appliedHash) {
        r.appliedHash = null; // re-push, at once (the agent lost it or holds something else)
        r.due = true;
        drifted++;
        logger.warn({ dpu: d.dpu.dpuName, vni: d.vni }, "DPU agent no longer holds the recorded overlay; re-applying");
      }
    }
    // Overlays an agent holds for a VNI it has no port in any more (and no row remembers): removed too.
    for (const [dpuId, has] of held)
      for (const vni of has.keys()) {
        const k = keyOf(dpuId, vni);
        if (!want.has(k) && !rowOf.has(k)) {
          const d = dpus.get(dpuId)!;
          const r = { ...d, dpuId, vni, desiredHash: null, appliedHash: "stale", attempts: 0, due: true };
          rows.push(r);
          rowOf.set(k, r);
        }
      }
  }

  type Work = { kind: "put"; d: Desired; attempts: number } | { kind: "delete"; r: Row & Dpu };
  const work: Work[] = [];
  for (const d of desired) {
    const r = rowOf.get(keyOf(d.dpu.dpuId, d.vni));
    if (r && r.appliedHash === d.hash) {
      if (r.desiredHash !== d.hash) await recordApplied(d.dpu.dpuId, d.vni, d.hash, d.hash, d.spec.remoteIps.length);
      continue;
    }
    // A change (the desired hash moved) goes out at once; a repeat of a failed push waits for its retry time.
    if (r && !r.due && r.desiredHash === d.hash) continue;
    work.push({ kind: "put", d, attempts: r?.attempts ?? 0 });
  }
  for (const r of rows) if (!want.has(keyOf(r.dpuId, r.vni)) && (r.due || r.appliedHash)) work.push({ kind: "delete", r });

  const byDpu = new Map<string, Work[]>();
  for (const w of work) {
    const id = w.kind === "put" ? w.d.dpu.dpuId : w.r.dpuId;
    byDpu.set(id, [...(byDpu.get(id) ?? []), w]);
  }
  const result: OverlayPass = { applied: 0, removed: 0, failed: 0, drifted };
  const groups = [...byDpu.values()];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(DPUS_AT_ONCE, groups.length) }, async () => {
      while (next < groups.length) {
        let down: string | null = null;
        for (const w of groups[next++]!) {
          const dpu = w.kind === "put" ? w.d.dpu : w.r;
          const vni = w.kind === "put" ? w.d.vni : w.r.vni;
          const desiredHash = w.kind === "put" ? w.d.hash : null;
          if (down) {
            if (w.kind === "put") await recordFailure(dpu.dpuId, vni, desiredHash, w.attempts, down);
            result.failed++;
            continue;
          }
          try {
            if (w.kind === "put") {
              const got = await agentOf(dpu).putOverlay(vni, w.d.spec);
              await recordApplied(dpu.dpuId, vni, w.d.hash, String(got.hash ?? ""), w.d.spec.remoteIps.length);
              result.applied++;
            } else {
              await agentOf(dpu).deleteOverlay(vni);
              await getDb().execute(sql`delete from dpu_overlays where dpu_id = ${dpu.dpuId} and vni = ${vni}`);
              result.removed++;
            }
          } catch (e) {
            const transient = isDpuAgentError(e) && e.transient;
            const msg = transient
              ? `DPU ${dpu.dpuName} unreachable: ${(e as Error).message}`
              : `DPU ${dpu.dpuName} refused the overlay: ${(e as Error).message}`;
            if (transient) down = msg;
            if (w.kind === "put") await recordFailure(dpu.dpuId, vni, desiredHash, w.attempts, msg);
            else if (!transient) await getDb().execute(sql`delete from dpu_overlays where dpu_id = ${dpu.dpuId} and vni = ${vni}`);
            result.failed++;
            logger.warn({ dpu: dpu.dpuName, vni, error: msg }, "overlay push failed");
          }
        }
      }
    }),
  );
  return result;
}

export const overlayReconcileWorkflow = defineWorkflow(catalog.overlayReconcile, async (mode) => step("converge overlay", () => reconcileOverlay(mode)));

export const overlaySweepSchedule = defineSchedule(schedules.overlaySweep, `*/${OVERLAY_SWEEP_S} * * * * *`, async (t: Date) => {
  await enqueue(catalog.overlayReconcile, ["sweep"], { workflowID: `overlay-sweep-${t.toISOString()}` });
});
