// Tenant subnets inside a VPC: an IPv4 range inside the VPC that overlaps no sibling (a Postgres exclusion
// constraint decides races; the router names the overlapping sibling when it can), a gateway (default: first usable
// address), reserved ranges IPAM never hands out, DNS servers, and the wire segment (a VLAN id, else the VPC's VNI).
// Dual stack (optional): an IPv6 /64 inside the VPC's IPv6 range, overlapping no sibling's (its own exclusion
// constraint), with a gateway (default ::1). Each port of the subnet then holds an IPv6 address too: adding IPv6 to a
// subnet gives its existing ports one in the same transaction; removing or changing the range is refused while ports
// hold addresses in it.
// Roles: tenant members create, edit and delete subnets; deletion is refused while ports use the subnet.
import { TRPCError } from "@trpc/server";
import { and, count, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "@/db/client";
import { ipAllocations, ports, subnets, vpcs } from "@/db/schema";
import { bumpGroupPeers } from "@/server/domain/rule-compiler";
import { subnetCreateSchema, subnetUpdateSchema } from "@/db/validation/network";
import { checkGateway, checkReservedRanges, checkSubnetCidr, checkSubnetIpv6Cidr, cidrToString, defaultGateway, parseAddress, parseCidr } from "@/domain/cidr";
import { ensurePortIpv6, subnetCapacity } from "@/server/services/ipam";
import { applyRulesSoon } from "@/server/services/rules-apply";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { enforceQuota, rowsOf } from "@/server/services/quotas";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantInput, tenantProcedure } from "../trpc";
import { insertRow, updateRow, deleteRow } from "../updates";
import { matchesText } from "@/server/lib/like";
import { tenantVpc, SUBNET_NOT_FOUND, tenantSubnet } from "@/server/services/network";
import { transact } from "../transact";
import { found, inTenant, columnsOf } from "@/server/services/rows";

const uniques = {
  subnets_vpc_name_uq: { field: "name", message: "This VPC already has a subnet with this name." },
  subnets_vpc_vlan_uq: { field: "vlanId", message: "Another subnet of this VPC already uses this VLAN." },
  subnets_ipv6_no_overlap: { field: "ipv6Cidr", message: "This IPv6 range overlaps another subnet of this VPC." },
};

// Capacity and use count the IPv4 range (an IPv6 /64 does not run out).
const used = sql<number>`(select count(*)::int from ip_allocations a where a.subnet_id = "subnets"."id" and family(a.address) = 4)`;
const portCount = sql<number>`(select count(*)::int from ports p where p.subnet_id = "subnets"."id")`;

const columns = {
  id: subnets.id,
  vpcId: subnets.vpcId,
  vpcName: vpcs.name,
  vni: vpcs.vni,
  ...columnsOf(subnets, "name", "description", "cidr"),
  gateway: sql<string>`host("subnets"."gateway")`,
  ipv6Cidr: sql<string | null>`"subnets"."ipv6_cidr"::text`,
  ipv6Gateway: sql<string | null>`host("subnets"."ipv6_gateway")`,
  ...columnsOf(subnets, "reservedRanges", "dnsServers", "vlanId", "createdAt"),
  used,
  portCount,
};

/** The columns the list sorts by, and its tie-breaker. */
const listOrder = { sort: { name: subnets.name, createdAt: subnets.createdAt }, id: subnets.id };

type Row = { cidr: string; gateway: string; reservedRanges: { start: string; end: string }[]; used: number; portCount: number; id: string; name: string };
/** Adds free/used address counts and the delete blocker (shared with the UI). */
function withCounts<T extends Row>(r: T) {
  const capacity = subnetCapacity(r);
  return {
    ...r,
    capacity,
    free: Math.max(0, capacity - r.used),
    deleteBlockedReason: r.portCount > 0 ? `Subnet ${r.name} is used by ${r.portCount} port${r.portCount === 1 ? "" : "s"}; delete them first.` : null,
  };
}

/** Validates reserved ranges against the subnet; the field error points at the offending range. */
function checkRanges(ranges: { start: string; end: string }[], cidr: string) {
  const p = parseCidr(cidr);
  if (!p.ok) return;
  const r = checkReservedRanges(ranges, p.cidr);
  if (!r.ok) throw fieldError("index" in r ? `reservedRanges.${r.index}` : "reservedRanges", r.reason, "BAD_REQUEST");
}

/** New reserved ranges of a subnet: inside it, clear of its gateway, and (addresses already handed out stay valid)
 *  covering no allocated address. */
async function checkRangesChange(tx: Tx, before: typeof subnets.$inferSelect, changes: { reservedRanges?: { start: string; end: string }[] }) {
  if (!changes.reservedRanges) return;
  checkRanges(changes.reservedRanges, before.cidr);
  const p = parseCidr(before.cidr);
  const rr = p.ok ? checkReservedRanges(changes.reservedRanges, p.cidr) : null;
  if (!rr?.ok) return;
  const taken = await tx
    .select({ a: sql<string>`host(${ipAllocations.address})` })
    .from(ipAllocations)
    .where(eq(ipAllocations.subnetId, before.id));
  const inside = taken.find((t) => {
    const v = parseAddress(t.a)?.value;
    return v !== undefined && rr.value.some((i) => v >= i.lo && v <= i.hi);
  });
  if (inside) throw fieldError("reservedRanges", `${inside.a} is in use by a port; a reserved range cannot cover it`, "PRECONDITION_FAILED");
  const gw = parseAddress(before.gateway)?.value;
  if (gw !== undefined && rr.value.some((i) => gw >= i.lo && gw <= i.hi))
    throw fieldError("reservedRanges", `The gateway ${before.gateway} is inside a reserved range`, "BAD_REQUEST");
}

/** A subnet's IPv6 range and gateway (default ::1 of the /64), checked against its VPC; field errors name them. */
function checkIpv6(vpcIpv6Cidr: string | null, ipv6Cidr: string, ipv6Gateway: string | undefined): { ipv6Cidr: string; ipv6Gateway: string } {
  const c = checkSubnetIpv6Cidr(ipv6Cidr, vpcIpv6Cidr);
  if (!c.ok) throw fieldError("ipv6Cidr", c.reason, "BAD_REQUEST");
  const gateway = ipv6Gateway ?? defaultGateway(c.value);
  const gw = checkGateway(gateway, c.value);
  if (!gw.ok) throw fieldError("ipv6Gateway", gw.reason, "BAD_REQUEST");
  return { ipv6Cidr: cidrToString(c.value), ipv6Gateway: gateway };
}

/** Names the sibling whose IPv6 range overlaps (the exclusion constraint still decides a race). */
async function checkIpv6Overlap(tx: Tx, vpcId: string, ipv6Cidr: string, self?: string) {
  const [clash] = await tx
    .select({ name: subnets.name, cidr: sql<string>`${subnets.ipv6Cidr}::text` })
    .from(subnets)
    .where(and(eq(subnets.vpcId, vpcId), sql`${subnets.ipv6Cidr} && ${ipv6Cidr}::cidr`, self ? sql`${subnets.id} <> ${self}` : undefined))
    .limit(1);
  if (clash) throw fieldError("ipv6Cidr", `${ipv6Cidr} overlaps subnet ${clash.name} (${clash.cidr})`);
}

/**
 * What an update does to the subnet's IPv6 range: nothing (fields left out or unchanged), add or change it (checked
 * like a create's), or remove it. Changing or removing a range ports hold addresses in is refused (CONFLICT): their
 * addresses would leave the subnet.
 */
async function ipv6Change(
  tx: Tx,
  before: typeof subnets.$inferSelect,
  input: { ipv6Cidr?: string | null; ipv6Gateway?: string },
): Promise<{ ipv6Cidr: string | null; ipv6Gateway: string | null } | undefined> {
  if (input.ipv6Cidr === undefined && input.ipv6Gateway === undefined) return undefined;
  const wanted = input.ipv6Cidr === undefined ? before.ipv6Cidr : input.ipv6Cidr;
  if (!wanted) {
    if (input.ipv6Gateway) throw fieldError("ipv6Gateway", "A gateway needs an IPv6 range", "BAD_REQUEST");
    if (!before.ipv6Cidr) return undefined;
    await refuseWhileHeld(tx, before, "remove its IPv6 range");
    return { ipv6Cidr: null, ipv6Gateway: null };
  }
  const [vpc] = await tx
    .select({ ipv6Cidr: sql<string | null>`${vpcs.ipv6Cidr}::text` })
    .from(vpcs)
    .where(eq(vpcs.id, before.vpcId));
  // A gateway left out stays as it was while the range stays; a new range gets its ::1.
  const kept = before.ipv6Cidr && sameAddress(before.ipv6Cidr, wanted) ? hostOf(before.ipv6Gateway) : undefined;
  const next = checkIpv6(vpc?.ipv6Cidr ?? null, wanted, input.ipv6Gateway ?? kept);
  if (before.ipv6Cidr && sameAddress(before.ipv6Cidr, next.ipv6Cidr)) {
    if (sameAddress(before.ipv6Gateway!, next.ipv6Gateway)) return undefined;
    const [taken] = await tx
      .select({ id: ipAllocations.id })
      .from(ipAllocations)
      .where(and(eq(ipAllocations.subnetId, before.id), sql`${ipAllocations.address} = ${next.ipv6Gateway}::inet`));
    if (taken) throw fieldError("ipv6Gateway", `${next.ipv6Gateway} is in use by a port`, "CONFLICT");
    return next;
  }
  if (before.ipv6Cidr) await refuseWhileHeld(tx, before, "change its IPv6 range");
  await checkIpv6Overlap(tx, before.vpcId, next.ipv6Cidr, before.id);
  return next;
}

const hostOf = (inet: string | null) => (inet ? inet.replace(/\/\d+$/, "") : undefined);
/** Two addresses (or networks, prefix aside) written differently but equal. */
const sameAddress = (a: string, b: string) => parseAddress(hostOf(a)!)?.value === parseAddress(hostOf(b)!)?.value;

async function refuseWhileHeld(tx: Tx, subnet: typeof subnets.$inferSelect, what: string) {
  const [held] = await tx
    .select({ n: count() })
    .from(ipAllocations)
    .where(and(eq(ipAllocations.subnetId, subnet.id), sql`family(${ipAllocations.address}) = 6`));
  if (held!.n > 0)
    throw fieldError(
      "ipv6Cidr",
      `Subnet ${subnet.name} has ${held!.n} port${held!.n === 1 ? "" : "s"} holding IPv6 addresses in ${subnet.ipv6Cidr}; delete them before you ${what}.`,
      "CONFLICT",
    );
}

export const subnetsRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(pageInput.extend({ vpcId: z.uuid().optional(), q: z.string().trim().max(100).optional(), sort: z.enum(["name", "createdAt"]).default("createdAt") }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(subnets).innerJoin(vpcs, eq(vpcs.id, subnets.vpcId));
      const vpc = input.vpcId ? eq(subnets.vpcId, input.vpcId) : undefined;
      const text = matchesText(input.q, subnets.name, sql`${subnets.cidr}::text`);
      const p = await listPage(query, input, listOrder, eq(subnets.tenantId, ctx.tenant.id), vpc, text);
      return { ...p, items: p.items.map(withCounts) };
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(subnets).innerJoin(vpcs, eq(vpcs.id, subnets.vpcId));
      return withCounts(found(await query.where(inTenant(subnets, ctx.tenant.id, input.id)), SUBNET_NOT_FOUND));
    }),

  create: tenantProcedure("tenant-member", { write: true })
    .input(subnetCreateSchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const { tenant: _t, ...values } = input;
      const tenantId = ctx.tenant.id;
      const vpc = await tenantVpc(ctx.db, tenantId, values.vpcId);
      const c = checkSubnetCidr(values.cidr, vpc.cidr);
      if (!c.ok) throw fieldError("cidr", c.reason, "BAD_REQUEST");
      const cidr = cidrToString(c.value);
      const gateway = values.gateway ?? defaultGateway(c.value);
      const gw = checkGateway(gateway, c.value);
      if (!gw.ok) throw fieldError("gateway", gw.reason, "BAD_REQUEST");
      checkRanges(values.reservedRanges, cidr);
      const gwVal = parseAddress(gateway)!.value;
      const rr = checkReservedRanges(values.reservedRanges, c.value);
      if (rr.ok && rr.value.some((i) => gwVal >= i.lo && gwVal <= i.hi))
        throw fieldError("reservedRanges", `The gateway ${gateway} is inside a reserved range; reserved ranges are for addresses nobody gets`, "BAD_REQUEST");
      const v6 = values.ipv6Cidr ? checkIpv6(vpc.ipv6Cidr, values.ipv6Cidr, values.ipv6Gateway ?? undefined) : { ipv6Cidr: null, ipv6Gateway: null };
      if (!values.ipv6Cidr && values.ipv6Gateway) throw fieldError("ipv6Gateway", "A gateway needs an IPv6 range", "BAD_REQUEST");
      const overlap = { subnets_no_overlap: { field: "cidr", message: `${cidr} overlaps another subnet of this VPC` } };
      const created = await transact(
        ctx.db,
        async (tx) => {
          await enforceQuota(tx, tenantId, [{ resource: "subnets", add: 1, used: rowsOf(subnets, tenantId) }]);
          // Name the sibling for a helpful message; the exclusion constraint still decides a race.
          const [clash] = await tx
            .select({ name: subnets.name, cidr: subnets.cidr })
            .from(subnets)
            .where(and(eq(subnets.vpcId, vpc.id), sql`${subnets.cidr} && ${cidr}::cidr`))
            .limit(1);
          if (clash) throw fieldError("cidr", `${cidr} overlaps subnet ${clash.name} (${clash.cidr})`);
          if (v6.ipv6Cidr) await checkIpv6Overlap(tx, vpc.id, v6.ipv6Cidr);
          const row = { ...values, cidr, gateway, ...v6, tenantId, vpcId: vpc.id };
          return insertRow(tx, ctx, subnets, row, { type: "subnet", tenantId, details: { ...values, cidr, gateway, ...v6 } });
        },
        { ...uniques, ...overlap },
      );
      await applyOverlaySoon(); // the VPC's router on the DPUs gains the subnet's gateway
      return created;
    }),

  update: tenantProcedure("tenant-member", { write: true })
    .input(subnetUpdateSchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const { tenant: _t, id, ipv6Cidr: _c, ipv6Gateway: _g, ...changes } = input;
      const tenantId = ctx.tenant.id;
      let v6: Awaited<ReturnType<typeof ipv6Change>>;
      const updated = await transact(
        ctx.db,
        async (tx) => {
          const before = await tenantSubnet(tx, tenantId, id, true);
          await checkRangesChange(tx, before, changes);
          v6 = await ipv6Change(tx, before, input);
          const row = await updateRow(tx, ctx, subnets, before, { ...changes, ...v6 }, { type: "subnet", tenantId });
          if (v6?.ipv6Cidr) {
            // The subnet is dual-stack throughout: every port it has gets its IPv6 address now, and the ports whose
            // rules name those ports' groups let the new addresses in.
            const held = await tx.select({ id: ports.id }).from(ports).where(eq(ports.subnetId, row.id));
            for (const p of held) await ensurePortIpv6(tx, row, { tenantId, portId: p.id });
            await enforceQuota(tx, tenantId, [{ resource: "addresses", add: 0, used: rowsOf(ipAllocations, tenantId) }]);
            await bumpGroupPeers(
              tx,
              held.map((p) => p.id),
            );
          }
          return row;
        },
        uniques,
      );
      if (v6) {
        await applyOverlaySoon(); // the VPC's router and neighbors on the DPUs gain or lose the IPv6 side
        await applyRulesSoon();
      }
      return updated;
    }),

  delete: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const deleted = await transact(ctx.db, async (tx) => {
        const row = await tenantSubnet(tx, ctx.tenant.id, input.id, true);
        const [pc] = await tx.select({ n: count() }).from(ports).where(eq(ports.subnetId, row.id));
        if (pc!.n > 0)
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: `Subnet ${row.name} is used by ${pc!.n} port${pc!.n === 1 ? "" : "s"}; delete them first.`,
          });
        // Addresses allocated without a port (e.g. held by provisioning) are released with the subnet.
        await tx.delete(ipAllocations).where(eq(ipAllocations.subnetId, row.id));
        await deleteRow(tx, ctx, subnets, row, { type: "subnet", tenantId: ctx.tenant.id, details: { cidr: row.cidr } });
        return { id: row.id };
      });
      await applyOverlaySoon(); // the VPC's router on the DPUs loses the subnet's gateway
      return deleted;
    }),
});
