// The provider side's IPAM: floating IPs and SNAT addresses out of an operator's provider network (one table,
// provider_addresses, UNIQUE (network, address)), and the per-DPU provider MAC of a VPC's router. Allocation is the
// subnet IPAM's scheme (./ipam.ts): the lowest free address of the network's range, each candidate first claimed with
// a non-blocking advisory lock so concurrent allocators spread out instead of queueing, INSERT … ON CONFLICT DO
// NOTHING so the unique index decides any race. SNAT addresses follow the ports (syncSnatAddresses, run by each
// overlay pass): one per (VPC with an external gateway, DPU hosting a live port of the VPC), freed when the DPU stops
// hosting one.
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { getDb } from "@/db/client";
import { providerAddresses, providerNetworks } from "@/db/schema";
import { bigIntToIp, cidrInterval, type Interval, parseAddress, parseCidr } from "@/domain/cidr";
import { precondition } from "@/domain/errors";
import { logger } from "@/server/lib/log";
import { liveNicStates } from "@/server/services/rules-apply";

type ProviderNetwork = Pick<typeof providerNetworks.$inferSelect, "id" | "name" | "cidr" | "gateway" | "gatewayMac" | "rangeStart" | "rangeEnd">;

const bare = (a: string) => a.replace(/\/\d+$/, "");

/** Why floating IPs and SNAT cannot use this provider network yet, or null. */
export function providerNetworkBlocker(pn: Pick<ProviderNetwork, "name" | "gateway" | "gatewayMac">): string | null {
  if (!pn.gateway || !pn.gatewayMac)
    return `Provider network ${pn.name} has no gateway yet; an operator must set its gateway address and MAC before it can hand out floating IPs or SNAT.`;
  return null;
}

/** The addresses a provider network hands out (inclusive) and the gateway (never handed out). */
export function providerRange(pn: ProviderNetwork): { range: Interval; gateway: bigint | null; total: number } {
  const p = parseCidr(pn.cidr);
  if (!p.ok || p.cidr.family !== 4) throw new Error(`provider network ${pn.id} has an unreadable CIDR ${pn.cidr}`);
  const whole = cidrInterval(p.cidr);
  const range =
    pn.rangeStart && pn.rangeEnd
      ? { lo: parseAddress(bare(pn.rangeStart))!.value, hi: parseAddress(bare(pn.rangeEnd))!.value }
      : p.cidr.prefix <= 30
        ? { lo: whole.lo + 1n, hi: whole.hi - 1n }
        : whole;
  const gateway = pn.gateway ? parseAddress(bare(pn.gateway))!.value : null;
  const inside = gateway !== null && gateway >= range.lo && gateway <= range.hi;
  return { range, gateway, total: Number(range.hi - range.lo + 1n) - (inside ? 1 : 0) };
}

/** Why `range` cannot be this network's allocation range, or null ({start,end} both empty = the default). */
export function rangeProblem(cidrText: string, start: string, end: string): { field: "rangeStart" | "rangeEnd"; reason: string } | null {
  const p = parseCidr(cidrText);
  if (!p.ok) return null;
  const whole = cidrInterval(p.cidr);
  const s = parseAddress(start);
  const e = parseAddress(end);
  if (!s || s.family !== 4) return { field: "rangeStart", reason: `"${start}" is not an IPv4 address` };
  if (!e || e.family !== 4) return { field: "rangeEnd", reason: `"${end}" is not an IPv4 address` };
  for (const [v, field, text] of [[s.value, "rangeStart", start] as const, [e.value, "rangeEnd", end] as const]) {
    if (v < whole.lo || v > whole.hi) return { field, reason: `${text} is not inside ${cidrText}` };
    if (p.cidr.prefix <= 30 && (v === whole.lo || v === whole.hi))
      return { field, reason: `${text} is the ${v === whole.lo ? "network" : "broadcast"} address of ${cidrText}` };
  }
  if (s.value > e.value) return { field: "rangeEnd", reason: `${end} is before the start of the range (${start})` };
  return null;
}

/**
 * The MAC of a VPC router's provider side on one DPU: its own per DPU (the DPUs share the provider VLAN, so the
 * upstream gateway must tell them apart) and per VNI, deterministic (the same on every pass, so the overlay hash is
 * stable): 0a and five bytes of sha256(dpu id/VNI). Locally administered and unicast; never a VPC router's MAC
 * (02:a4:e1…, overlay.ts routerMac) and never a port's (server/services/network.ts randomMac avoids the 0a octet).
 */
export function providerMac(dpuId: string, vni: number): string {
  const h = createHash("sha256").update(`${dpuId}/${vni}`).digest();
  return ["0a", ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}

export function exhaustedProviderNetwork(pn: Pick<ProviderNetwork, "name">, total: number) {
  return precondition(
    `Provider network ${pn.name} has no free addresses (all ${total} are in use). Release a floating IP or ask an operator for another network.`,
  );
}

/** Allocates the lowest free address of the provider network's range (inside the caller's transaction). */
export async function allocateProviderAddress(
  tx: Db | Tx,
  pn: ProviderNetwork,
  row: { tenantId: string } & ({ kind: "floating"; portId?: null } | { kind: "snat"; vpcId: string; dpuId: string }),
): Promise<{ id: string; address: string }> {
  const { range, gateway, total } = providerRange(pn);
  for (let round = 0; round < 4; round++) {
    const used = new Set<bigint>(
      (
        await tx
          .select({ n: sql<string>`(${providerAddresses.address} - '0.0.0.0'::inet)::text` })
          .from(providerAddresses)
          .where(eq(providerAddresses.providerNetworkId, pn.id))
      ).map((r) => BigInt(r.n)),
    );
    const isFree = (v: bigint) => v !== gateway && !used.has(v);
    for (let batch = 0; batch < 64; batch++) {
      const candidates: bigint[] = [];
      for (let v = range.lo; v <= range.hi && candidates.length < 32; v++) if (isFree(v)) candidates.push(v);
      if (!candidates.length) break;
      const keys = candidates.map((c) => Number(BigInt.asIntN(32, c)));
      const r = await tx.execute<{ i: number }>(sql`
        select c.i::int as i from unnest(${`{${keys.join(",")}}`}::int[]) with ordinality as c(k, i)
         where pg_try_advisory_xact_lock(hashtext(${`provider:${pn.id}`}), c.k) limit 1`);
      const i = r.rows[0]?.i;
      if (i === undefined) {
        for (const c of candidates) used.add(c);
        continue;
      }
      const v = candidates[Number(i) - 1]!;
      const [got] = await tx
        .insert(providerAddresses)
        .values({ ...row, providerNetworkId: pn.id, address: bigIntToIp(v, 4) })
        .onConflictDoNothing({ target: [providerAddresses.providerNetworkId, providerAddresses.address] })
        .returning({ id: providerAddresses.id, address: providerAddresses.address });
      if (got) return { id: got.id, address: bare(got.address) };
      used.add(v);
    }
  }
  throw exhaustedProviderNetwork(pn, total);
}

/**
 * Brings the SNAT addresses in line with the ports: every (VPC with an external gateway, DPU hosting a live port of
 * the VPC on an overlay subnet) holds one address of the VPC's provider network; a pair that no longer exists (the
 * DPU lost its last port of the VPC, the gateway was unset or changed) gives its address back. A network with no free
 * address leaves the DPU without SNAT (floating IPs still work) and says so in the log; the next pass tries again.
 */
export async function syncSnatAddresses(db: Db = getDb()): Promise<{ allocated: number; released: number; failed: number }> {
  const wanted = (
    await db.execute<{ vpcId: string; dpuId: string; tenantId: string; networkId: string }>(sql`
    select distinct v.id as "vpcId", d.id as "dpuId", v.tenant_id as "tenantId", v.external_network_id as "networkId"
      from ports p
      join instances i on i.id = p.instance_id and i.state in (${liveNicStates()})
      join subnets s on s.id = p.subnet_id and s.vlan_id is null
      join vpcs v on v.id = s.vpc_id and v.external_network_id is not null
      join nodes d on d.parent_node_id = p.node_id and d.kind = 'dpu'
     where p.node_id is not null`)
  ).rows;
  const held = await db
    .select({ id: providerAddresses.id, vpcId: providerAddresses.vpcId, dpuId: providerAddresses.dpuId, networkId: providerAddresses.providerNetworkId })
    .from(providerAddresses)
    .where(eq(providerAddresses.kind, "snat"));
  const key = (v: string | null, d: string | null, n: string) => `${v}/${d}/${n}`;
  const want = new Set(wanted.map((w) => key(w.vpcId, w.dpuId, w.networkId)));
  const have = new Set(held.map((h) => key(h.vpcId, h.dpuId, h.networkId)));
  let released = 0;
  for (const h of held)
    if (!want.has(key(h.vpcId, h.dpuId, h.networkId))) {
      await db.delete(providerAddresses).where(eq(providerAddresses.id, h.id));
      released++;
    }
  let allocated = 0;
  let failed = 0;
  for (const w of wanted) {
    if (have.has(key(w.vpcId, w.dpuId, w.networkId))) continue;
    try {
      await db.transaction(async (tx) => {
        const [pn] = await tx.select().from(providerNetworks).where(eq(providerNetworks.id, w.networkId));
        if (!pn) return;
        // A row for the pair on another network (the gateway changed since the delete above) goes first.
        await tx.delete(providerAddresses).where(and(eq(providerAddresses.vpcId, w.vpcId), eq(providerAddresses.dpuId, w.dpuId)));
        await allocateProviderAddress(tx, pn, { tenantId: w.tenantId, kind: "snat", vpcId: w.vpcId, dpuId: w.dpuId });
      });
      allocated++;
    } catch (e) {
      failed++;
      logger.warn({ vpc: w.vpcId, dpu: w.dpuId, error: (e as Error).message }, "no SNAT address for a DPU of the VPC");
    }
  }
  return { allocated, released, failed };
}
