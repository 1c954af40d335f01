// IPAM: hands out and takes back subnet addresses for ports. Safety under concurrency comes from the database:
// UNIQUE (subnet_id, address) on ip_allocations and INSERT … ON CONFLICT DO NOTHING, so two allocators racing for
// the same address never both win; the loser (nothing returned) moves on to another free address. The first try is
// the lowest free address (predictable addresses for people). Concurrent allocators would all pick the same lowest
// address and queue on each other's uncommitted insert, so each candidate is first claimed with a non-blocking
// transaction-scoped advisory lock: a claimed address is skipped at once and the next free one tried.
// Dual stack: a subnet with an IPv6 /64 gives each port an IPv6 address as well (ensurePortIpv6, in the transaction
// that gives it its IPv4 one); the same allocator runs on the subnet's IPv6 view (ipv6View: the /64, its gateway, no
// reserved ranges). UNIQUE (port, family) keeps a port at one address per family.
import { and, count, eq, type SQL, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { ipAllocations } from "@/db/schema";
import {
  bigIntToIp,
  type Cidr,
  checkReservedRanges,
  cidrInterval,
  type Interval,
  mergeIntervals,
  parseAddress,
  parseCidr,
  usableInterval,
} from "@/domain/cidr";
import { conflict, type DomainError, invalid, precondition } from "@/domain/errors";

export interface SubnetForIpam {
  id: string;
  name: string;
  cidr: string;
  gateway: string;
  reservedRanges: { start: string; end: string }[];
  /** Dual stack: the subnet's IPv6 /64 and gateway (both or neither). */
  ipv6Cidr?: string | null;
  ipv6Gateway?: string | null;
}

/** The subnet as IPAM sees its IPv6 range (no reserved ranges: those are IPv4), or null when it has none. */
export function ipv6View(subnet: SubnetForIpam): SubnetForIpam | null {
  if (!subnet.ipv6Cidr || !subnet.ipv6Gateway) return null;
  return { id: subnet.id, name: subnet.name, cidr: subnet.ipv6Cidr, gateway: subnet.ipv6Gateway, reservedRanges: [] };
}

/** The subnet's allocations of one address family. */
const ofFamily = (subnetId: string, family: 4 | 6): SQL => and(eq(ipAllocations.subnetId, subnetId), sql`family(${ipAllocations.address}) = ${family}`)!;

function familyOf(subnet: SubnetForIpam): 4 | 6 {
  return subnet.cidr.includes(":") ? 6 : 4;
}

interface Plan {
  cidr: Cidr;
  usable: Interval;
  /** Gateway and reserved ranges, merged. */
  excluded: Interval[];
}

function plan(subnet: SubnetForIpam): Plan {
  const p = parseCidr(subnet.cidr);
  if (!p.ok) throw new Error(`subnet ${subnet.id} has an unreadable CIDR ${subnet.cidr}`);
  const gw = parseAddress(subnet.gateway.replace(/\/\d+$/, ""));
  const reserved = checkReservedRanges(subnet.reservedRanges, p.cidr);
  const excluded = mergeIntervals([...(gw ? [{ lo: gw.value, hi: gw.value }] : []), ...(reserved.ok ? reserved.value : [])]);
  return { cidr: p.cidr, usable: usableInterval(p.cidr), excluded };
}

/** How many addresses IPAM can hand out in the subnet (its `cidr`'s family) at most (usable minus gateway and reserved). */
export function subnetCapacity(subnet: SubnetForIpam): number {
  const pl = plan(subnet);
  return Number(pl.usable.hi - pl.usable.lo + 1n) - excludedCount(pl);
}

export async function subnetUsage(db: Db | Tx, subnet: SubnetForIpam): Promise<{ capacity: number; used: number; free: number }> {
  const [row] = await db
    .select({ n: count() })
    .from(ipAllocations)
    .where(ofFamily(subnet.id, familyOf(subnet)));
  const used = row?.n ?? 0;
  const capacity = subnetCapacity(subnet);
  return { capacity, used, free: Math.max(0, capacity - used) };
}

/** Why a fixed address cannot be used in this subnet, or null when it can (availability is the database's call). */
export function fixedAddressProblem(subnet: SubnetForIpam, text: string): string | null {
  const a = parseAddress(text);
  if (!a) return `"${text}" is not an IP address`;
  const pl = plan(subnet);
  if (a.family !== pl.cidr.family || a.value < pl.usable.lo || a.value > pl.usable.hi) {
    const whole = cidrInterval(pl.cidr);
    if (a.family === pl.cidr.family && (a.value === whole.lo || a.value === whole.hi))
      return `${text} is the ${a.value === whole.lo ? "network" : "broadcast"} address of ${subnet.cidr}`;
    return `${text} is not in subnet ${subnet.name} (${subnet.cidr})`;
  }
  const gw = parseAddress(subnet.gateway.replace(/\/\d+$/, ""));
  if (gw && gw.value === a.value) return `${text} is the gateway of subnet ${subnet.name}`;
  if (pl.excluded.some((e) => a.value >= e.lo && a.value <= e.hi)) return `${text} is in a reserved range of subnet ${subnet.name}`;
  return null;
}

async function tryInsert(tx: Db | Tx, subnet: SubnetForIpam, tenantId: string, address: string, portId: string | null) {
  const rows = await tx
    .insert(ipAllocations)
    .values({ tenantId, subnetId: subnet.id, address, portId })
    .onConflictDoNothing({ target: [ipAllocations.subnetId, ipAllocations.address] })
    .returning({ id: ipAllocations.id, address: ipAllocations.address });
  return rows[0];
}

async function usedSet(tx: Db | Tx, subnetId: string, family: 4 | 6): Promise<Set<bigint>> {
  const out = new Set<bigint>();
  if (family === 4) {
    // inet - inet is a bigint in Postgres: no address parsing on this side.
    const rows = await tx
      .select({ n: sql<string>`(${ipAllocations.address} - '0.0.0.0'::inet)::text` })
      .from(ipAllocations)
      .where(ofFamily(subnetId, 4));
    for (const r of rows) out.add(BigInt(r.n));
    return out;
  }
  const rows = await tx
    .select({ a: sql<string>`host(${ipAllocations.address})` })
    .from(ipAllocations)
    .where(ofFamily(subnetId, 6));
  for (const r of rows) {
    const p = parseAddress(r.a);
    if (p) out.add(p.value);
  }
  return out;
}

export function exhaustedError(subnet: SubnetForIpam, used: number): DomainError {
  return precondition(`Subnet ${subnet.name} has no free addresses (${used} in use). Release a port or use another subnet.`);
}

/**
 * Allocates one address in the subnet (inside the caller's transaction). With `address`, that exact address or a
 * field error (on `field`, default "address") saying why not; without, the lowest free one. Returns the allocation id
 * and address (no prefix).
 */
export async function allocateAddress(
  tx: Db | Tx,
  subnet: SubnetForIpam,
  opts: { tenantId: string; portId?: string | null; address?: string | null; field?: string },
): Promise<{ id: string; address: string }> {
  const portId = opts.portId ?? null;
  if (opts.address) {
    const field = opts.field ?? "address";
    const problem = fixedAddressProblem(subnet, opts.address);
    if (problem) throw invalid(problem, field);
    const got = await tryInsert(tx, subnet, opts.tenantId, opts.address.trim(), portId);
    if (!got) throw conflict(`${opts.address.trim()} is already in use in subnet ${subnet.name}`, field);
    return { id: got.id, address: got.address.replace(/\/\d+$/, "") };
  }
  const pl = plan(subnet);
  const fam = pl.cidr.family;
  const isExcluded = (v: bigint) => pl.excluded.some((e) => v >= e.lo && v <= e.hi);
  for (let round = 0; round < 4; round++) {
    // Addresses known taken: committed allocations, plus any another allocator holds or wins in this round.
    const used = await usedSet(tx, subnet.id, fam);
    const isFree = (v: bigint) => !used.has(v) && !isExcluded(v);
    for (let batch = 0; batch < 64; batch++) {
      // The next few free addresses, lowest first; one round trip claims the first nobody else is inserting.
      const candidates: bigint[] = [];
      for (let v = scanFrom(pl.usable.lo, pl, isFree); v !== undefined && candidates.length < 32; v = scanFrom(v + 1n, pl, isFree)) candidates.push(v);
      if (!candidates.length) break;
      const v = await claimFirst(tx, fam === 4 ? subnet.id : `${subnet.id}/6`, candidates);
      if (v !== undefined) {
        const got = await tryInsert(tx, subnet, opts.tenantId, bigIntToIp(v, fam), portId);
        if (got) return { id: got.id, address: got.address.replace(/\/\d+$/, "") };
        used.add(v); // committed by someone else since we read the taken set
      } else for (const c of candidates) used.add(c);
    }
  }
  const [row] = await tx.select({ n: count() }).from(ipAllocations).where(ofFamily(subnet.id, fam));
  throw exhaustedError(subnet, (row?.n ?? 0) + excludedCount(pl));
}

/** The first free address at or after `from` (wrapping is the caller's business), or undefined. */
function scanFrom(from: bigint, pl: Plan, isFree: (v: bigint) => boolean): bigint | undefined {
  for (let v = from; v <= pl.usable.hi; v++) if (isFree(v)) return v;
  return undefined;
}

/**
 * Claims the first candidate no concurrent allocator is trying, with non-blocking transaction-scoped advisory locks
 * evaluated in order inside one statement (LIMIT 1 stops at the first lock taken). Returns undefined when every
 * candidate is being tried by someone else. The UNIQUE constraint stays the guarantee; the locks only keep
 * allocators from queueing behind each other's uncommitted insert of the same address.
 */
async function claimFirst(tx: Db | Tx, lockSpace: string, candidates: bigint[]): Promise<bigint | undefined> {
  // IPv4 fits in 32 bits; for IPv6 the low 32 bits serve as the lock key (a hint only, see above).
  const keys = candidates.map((c) => Number(BigInt.asIntN(32, c)));
  const r = await tx.execute<{ i: number }>(sql`
    select c.i::int as i from unnest(${`{${keys.join(",")}}`}::int[]) with ordinality as c(k, i)
     where pg_try_advisory_xact_lock(hashtext(${lockSpace}), c.k)
     limit 1`);
  const i = r.rows[0]?.i;
  return i === undefined ? undefined : candidates[Number(i) - 1];
}

/** Gateway and reserved addresses count as "in use" in the exhaustion message (they are not free either). */
function excludedCount(pl: Plan): number {
  // Math.min/max do not take bigint, hence the explicit clamping.
  let n = 0n;
  for (const e of pl.excluded) {
    let lo = e.lo;
    let hi = e.hi;
    if (lo < pl.usable.lo) lo = pl.usable.lo;
    if (hi > pl.usable.hi) hi = pl.usable.hi;
    if (hi >= lo) n += hi - lo + 1n;
  }
  return Number(n);
}

/**
 * Gives a port on a dual-stack subnet its IPv6 address (`address`: that one, validated like a fixed IPv4 address, as
 * field `ipv6Address`), in the caller's transaction. Returns the port's IPv6 address; null when the subnet is IPv4
 * only. A port that already has one keeps it (idempotent, for retried steps).
 */
export async function ensurePortIpv6(
  tx: Db | Tx,
  subnet: SubnetForIpam,
  opts: { tenantId: string; portId: string; address?: string | null },
): Promise<string | null> {
  const v6 = ipv6View(subnet);
  if (!v6) {
    if (opts.address) throw invalid(`Subnet ${subnet.name} has no IPv6 range`, "ipv6Address");
    return null;
  }
  const [held] = await tx
    .select({ a: sql<string>`host(${ipAllocations.address})` })
    .from(ipAllocations)
    .where(and(eq(ipAllocations.portId, opts.portId), sql`family(${ipAllocations.address}) = 6`));
  if (held) return held.a;
  return (await allocateAddress(tx, v6, { tenantId: opts.tenantId, portId: opts.portId, address: opts.address, field: "ipv6Address" })).address;
}

/** Releases the addresses of a port, both families (no-op when it has none). */
export async function releasePortAddress(tx: Db | Tx, portId: string): Promise<void> {
  await tx.delete(ipAllocations).where(eq(ipAllocations.portId, portId));
}

/** Releases one allocation of a subnet by id. */
export async function releaseAllocation(tx: Db | Tx, subnetId: string, allocationId: string): Promise<boolean> {
  const rows = await tx
    .delete(ipAllocations)
    .where(and(eq(ipAllocations.id, allocationId), eq(ipAllocations.subnetId, subnetId)))
    .returning({ id: ipAllocations.id });
  return rows.length > 0;
}
