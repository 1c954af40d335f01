// Tenant subnets inside a VPC: an IPv4 range inside the VPC that overlaps no sibling (a Postgres exclusion
// constraint decides races; the router names the overlapping sibling when it can), a gateway (default: first usable
// address), reserved ranges IPAM never hands out, DNS servers, and the wire segment (a VLAN id, else the VPC's VNI).
// Roles: tenant members create, edit and delete subnets; deletion is refused while ports use the subnet.
import { TRPCError } from "@trpc/server";
import { and, count, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "@/db/client";
import { ipAllocations, ports, subnets, vpcs } from "@/db/schema";
import { subnetCreateSchema, subnetUpdateSchema } from "@/db/validation/network";
import { checkGateway, checkReservedRanges, checkSubnetCidr, cidrToString, defaultGateway, parseAddress, parseCidr } from "@/domain/cidr";
import { subnetCapacity } from "@/server/services/ipam";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { enforceQuota, rowsOf } from "@/server/services/quotas";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantInput, tenantProcedure } from "../trpc";
import { insertRow, updateById, deleteRow } from "../updates";
import { matchesText } from "@/server/lib/like";
import { tenantVpc, SUBNET_NOT_FOUND, tenantSubnet } from "@/server/services/network";
import { transact } from "../transact";
import { found, inTenant, columnsOf } from "@/server/services/rows";

const uniques = {
  subnets_vpc_name_uq: { field: "name", message: "This VPC already has a subnet with this name." },
  subnets_vpc_vlan_uq: { field: "vlanId", message: "Another subnet of this VPC already uses this VLAN." },
};

const used = sql<number>`(select count(*)::int from ip_allocations a where a.subnet_id = "subnets"."id")`;
const portCount = sql<number>`(select count(*)::int from ports p where p.subnet_id = "subnets"."id")`;

const columns = {
  id: subnets.id,
  vpcId: subnets.vpcId,
  vpcName: vpcs.name,
  vni: vpcs.vni,
  ...columnsOf(subnets, "name", "description", "cidr"),
  gateway: sql<string>`host("subnets"."gateway")`,
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
          const row = { ...values, cidr, gateway, tenantId, vpcId: vpc.id };
          return insertRow(tx, ctx, subnets, row, { type: "subnet", tenantId, details: { ...values, cidr, gateway } });
        },
        { ...uniques, ...overlap },
      );
      await applyOverlaySoon(); // the VPC's router on the DPUs gains the subnet's gateway
      return created;
    }),

  update: tenantProcedure("tenant-member", { write: true })
    .input(subnetUpdateSchema.extend(tenantInput.shape))
    .mutation(({ ctx, input }) =>
      updateById(ctx, subnets, input, { type: "subnet", tenantId: ctx.tenant.id, notFound: SUBNET_NOT_FOUND, uniques, check: checkRangesChange }),
    ),

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
