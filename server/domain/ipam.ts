// IPAM: hands out and takes back subnet addresses for ports. Safety under concurrency comes from the database:
// UNIQUE (subnet_id, address) on ip_allocations and INSERT … ON CONFLICT DO NOTHING, so two allocators racing for
// the same address never both win; the loser (nothing returned) moves on to another free address. The first try is
// the lowest free address (predictable addresses for people); after a collision, tries are random among the free
// ones so a crowd of concurrent allocators spreads out instead of queueing on the same next address.
import { TRPCError } from "@trpc/server";
import { and, count, eq, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { ipAllocations } from "@/db/schema";
import { bigIntToIp, type Cidr, checkReservedRanges, cidrInterval, type Interval, mergeIntervals, parseAddress, parseCidr, usableInterval } from "./cidr";
import { fieldError } from "../api/errors";

export interface SubnetForIpam {
  id: string;
  name: string;
  cidr: string;
  gateway: string;
  reservedRanges: { start: string; end: string }[];
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

/** How many addresses IPAM can hand out in the subnet at most (usable minus gateway and reserved). */
export function subnetCapacity(subnet: SubnetForIpam): number {
  const pl = plan(subnet);
  return Number(pl.usable.hi - pl.usable.lo + 1n) - excludedCount(pl);
}

export async function subnetUsage(db: Db | Tx, subnet: SubnetForIpam): Promise<{ capacity: number; used: number; free: number }> {
  const [row] = await db.select({ n: count() }).from(ipAllocations).where(eq(ipAllocations.subnetId, subnet.id));
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

async function usedSet(tx: Db | Tx, subnetId: string): Promise<Set<bigint>> {
  const rows = await tx.select({ a: sql<string>`host(${ipAllocations.address})` }).from(ipAllocations).where(eq(ipAllocations.subnetId, subnetId));
  const out = new Set<bigint>();
  for (const r of rows) {
    const p = parseAddress(r.a);
    if (p) out.add(p.value);
  }
  return out;
}

export function exhaustedError(subnet: SubnetForIpam, used: number): TRPCError {
  return new TRPCError({
    code: "PRECONDITION_FAILED",
    message: `Subnet ${subnet.name} has no free addresses (${used} in use). Release a port or use another subnet.`,
  });
}

/**
 * Allocates one address in the subnet (inside the caller's transaction). With `address`, that exact address or a
 * field error saying why not; without, the lowest free one. Returns the allocation id and address (no prefix).
 */
export async function allocateAddress(
  tx: Db | Tx,
  subnet: SubnetForIpam,
  opts: { tenantId: string; portId?: string | null; address?: string | null },
): Promise<{ id: string; address: string }> {
  const portId = opts.portId ?? null;
  if (opts.address) {
    const problem = fixedAddressProblem(subnet, opts.address);
    if (problem) throw fieldError("address", problem, "BAD_REQUEST");
    const got = await tryInsert(tx, subnet, opts.tenantId, opts.address.trim(), portId);
    if (!got) throw fieldError("address", `${opts.address.trim()} is already in use in subnet ${subnet.name}`);
    return { id: got.id, address: got.address.replace(/\/\d+$/, "") };
  }
  const pl = plan(subnet);
  const fam = pl.cidr.family;
  const isExcluded = (v: bigint) => pl.excluded.some((e) => v >= e.lo && v <= e.hi);
  // Sized for IPv4 subnets (at most a /16 = 65k candidates); IPv6 subnets would need a sparse strategy.
  for (let round = 0; round < 3; round++) {
    const used = await usedSet(tx, subnet.id);
    const free: bigint[] = [];
    for (let v = pl.usable.lo; v <= pl.usable.hi; v++) if (!used.has(v) && !isExcluded(v)) free.push(v);
    if (!free.length) break;
    let first = true;
    while (free.length) {
      const idx = first ? 0 : Math.floor(Math.random() * free.length);
      first = false;
      const v = free[idx]!;
      free[idx] = free[free.length - 1]!;
      free.pop();
      const got = await tryInsert(tx, subnet, opts.tenantId, bigIntToIp(v, fam), portId);
      if (got) return { id: got.id, address: got.address.replace(/\/\d+$/, "") };
    }
  }
  const [row] = await tx.select({ n: count() }).from(ipAllocations).where(eq(ipAllocations.subnetId, subnet.id));
  throw exhaustedError(subnet, (row?.n ?? 0) + excludedCount(pl));
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

/** Releases the address of a port (no-op when it has none). */
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
