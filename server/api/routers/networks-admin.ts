// Operator view of networking across tenants: every VPC and subnet (VNI and VLAN usage), provider (external)
// networks for public addresses, and per-tenant network policy (may a tenant use public ranges in its VPCs).
// Operator viewers read; operator admins change. A provider network hands out floating IPs and SNAT addresses once
// its gateway and gateway MAC are set; its usage (used/total, by tenant) is `providerNetworkUsage`.
import { TRPCError } from "@trpc/server";
import { and, count, eq, isNotNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { z } from "zod";
import { ipAllocations, ports, providerAddresses, providerNetworks, subnets, tenantNetworkPolicies, tenants, VNI_MAX, VNI_MIN, vpcs } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { providerNetworkCreateSchema, providerNetworkUpdateSchema } from "@/db/validation/network";
import { checkGateway as checkSubnetGateway, cidrToString, parseCidr } from "@/domain/cidr";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { providerNetworkBlocker, providerRange, rangeProblem } from "@/server/services/provider-addresses";
import { audit } from "@/server/services/audit";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { insertRow, updateById } from "../updates";
import { matchesText } from "@/server/lib/like";
import { transact } from "../transact";

const providerUniques = {
  provider_networks_name_uq: { field: "name", message: "A provider network with this name already exists." },
  provider_networks_vlan_uq: { field: "vlanId", message: "Another provider network uses this VLAN." },
};
const PROVIDER_NOT_FOUND = "That provider network does not exist (it may have been deleted).";

/** Gateway inside the network (not its network/broadcast address), gateway and MAC given together. */
function checkGateway(cidr: string, gateway: string | null, gatewayMac: string | null): void {
  if (!gateway && gatewayMac) throw fieldError("gateway", "Give the gateway's address with its MAC.", "BAD_REQUEST");
  if (gateway && !gatewayMac) throw fieldError("gatewayMac", "Give the gateway's MAC with its address (the DPUs do not ARP for it).", "BAD_REQUEST");
  if (!gateway) return;
  const p = parseCidr(cidr);
  if (p.ok && p.cidr.family !== 4) throw fieldError("gateway", "Floating IPs and SNAT are IPv4: this network is not.", "BAD_REQUEST");
  const why = p.ok ? checkSubnetGateway(gateway, p.cidr) : { ok: true as const };
  if (!why.ok) throw fieldError("gateway", why.reason.replace("subnet", "network"), "BAD_REQUEST");
}

/** Checks a gateway/range change against the network and what is allocated in it. */
async function checkProviderReach(
  db: Db,
  pn: typeof providerNetworks.$inferSelect,
  input: { gateway?: string | null; gatewayMac?: string | null; rangeStart?: string | null; rangeEnd?: string | null },
): Promise<void> {
  const bare = (a: string | null) => a?.replace(/\/\d+$/, "") ?? null;
  const gateway = input.gateway !== undefined ? input.gateway : bare(pn.gateway);
  const gatewayMac = input.gatewayMac !== undefined ? input.gatewayMac : pn.gatewayMac;
  checkGateway(pn.cidr, gateway, gatewayMac);
  const start = input.rangeStart !== undefined ? input.rangeStart : bare(pn.rangeStart);
  const end = input.rangeEnd !== undefined ? input.rangeEnd : bare(pn.rangeEnd);
  if (!!start !== !!end) throw fieldError(start ? "rangeEnd" : "rangeStart", "Give both ends of the range, or neither for the whole network.", "BAD_REQUEST");
  if (start && end) {
    const bad = rangeProblem(pn.cidr, start, end);
    if (bad) throw fieldError(bad.field, bad.reason, "BAD_REQUEST");
  }
  if (gateway) {
    const [taken] = await db
      .select({ kind: providerAddresses.kind })
      .from(providerAddresses)
      .where(and(eq(providerAddresses.providerNetworkId, pn.id), sql`${providerAddresses.address} = ${gateway}::inet`));
    if (taken) throw fieldError("gateway", `${gateway} is handed out as a ${taken.kind === "snat" ? "SNAT address" : "floating IP"}; pick another address.`);
  }
  if ((gateway === null || gatewayMac === null) && (pn.gateway || pn.gatewayMac)) {
    const [v] = await db.select({ n: count() }).from(vpcs).where(eq(vpcs.externalNetworkId, pn.id));
    const [a] = await db.select({ n: count() }).from(providerAddresses).where(eq(providerAddresses.providerNetworkId, pn.id));
    if (v!.n || a!.n)
      throw fieldError("gateway", "The network is in use (floating IPs or VPC gateways); its gateway cannot be removed.", "PRECONDITION_FAILED");
  }
}

export const networksAdminRouter = createTRPCRouter({
  overview: operatorProcedure("operator-viewer").query(async ({ ctx }) => {
    const [v] = await ctx.db.select({ n: count(), minVni: sql<number | null>`min(${vpcs.vni})`, maxVni: sql<number | null>`max(${vpcs.vni})` }).from(vpcs);
    const [s] = await ctx.db.select({ n: count(), vlans: sql<number>`count(distinct ${subnets.vlanId})::int` }).from(subnets);
    const [p] = await ctx.db.select({ n: count() }).from(ports);
    const [a] = await ctx.db.select({ n: count() }).from(ipAllocations);
    const [pn] = await ctx.db.select({ n: count() }).from(providerNetworks);
    return {
      vpcs: v!.n,
      vnisInUse: v!.n,
      vniRange: { min: VNI_MIN, max: VNI_MAX, free: VNI_MAX - VNI_MIN + 1 - v!.n },
      subnets: s!.n,
      subnetVlansInUse: s!.vlans,
      ports: p!.n,
      addresses: a!.n,
      providerNetworks: pn!.n,
    };
  }),

  vpcs: operatorProcedure("operator-viewer")
    .input(pageInput.extend({ q: z.string().trim().max(100).optional() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db
        .select({
          id: vpcs.id,
          name: vpcs.name,
          tenantSlug: tenants.slug,
          tenantName: tenants.name,
          ...columnsOf(vpcs, "cidr", "ipv6Cidr", "vni"),
          subnetCount: sql<number>`(select count(*)::int from subnets s where s.vpc_id = "vpcs"."id")`,
          createdAt: vpcs.createdAt,
        })
        .from(vpcs)
        .innerJoin(tenants, eq(tenants.id, vpcs.tenantId));
      const text = matchesText(input.q, vpcs.name, tenants.slug, sql`${vpcs.cidr}::text`, sql`${vpcs.vni}::text`);
      return listPage(query, input, { sort: { vni: vpcs.vni }, id: vpcs.id }, text);
    }),

  subnets: operatorProcedure("operator-viewer")
    .input(pageInput.extend({ q: z.string().trim().max(100).optional(), vlanOnly: z.boolean().default(false) }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db
        .select({
          id: subnets.id,
          name: subnets.name,
          tenantSlug: tenants.slug,
          vpcName: vpcs.name,
          cidr: subnets.cidr,
          vlanId: subnets.vlanId,
          vni: vpcs.vni,
          used: sql<number>`(select count(*)::int from ip_allocations a where a.subnet_id = "subnets"."id" and family(a.address) = 4)`,
          createdAt: subnets.createdAt,
        })
        .from(subnets)
        .innerJoin(vpcs, eq(vpcs.id, subnets.vpcId))
        .innerJoin(tenants, eq(tenants.id, subnets.tenantId));
      const text = matchesText(input.q, subnets.name, tenants.slug, sql`${subnets.cidr}::text`);
      return listPage(query, input, { sort: { createdAt: subnets.createdAt }, id: subnets.id }, text, input.vlanOnly ? isNotNull(subnets.vlanId) : undefined);
    }),

  providerNetworks: operatorProcedure("operator-viewer")
    .input(pageInput)
    .query(async ({ ctx, input }) => {
      const used = sql<number>`(select count(*)::int from provider_addresses a where a.provider_network_id = "provider_networks"."id")`;
      const page = await listPage(
        ctx.db
          .select({
            ...columnsOf(providerNetworks, "id", "name", "description", "cidr", "vlanId", "gatewayMac", "createdAt", "updatedAt"),
            gateway: sql<string | null>`host(${providerNetworks.gateway})`,
            rangeStart: sql<string | null>`host(${providerNetworks.rangeStart})`,
            rangeEnd: sql<string | null>`host(${providerNetworks.rangeEnd})`,
            used,
          })
          .from(providerNetworks),
        input,
        { sort: { createdAt: providerNetworks.createdAt }, id: providerNetworks.id },
      );
      return {
        ...page,
        items: page.items.map((r) => ({ ...r, total: providerRange(r).total, usableReason: providerNetworkBlocker(r) })),
      };
    }),

  /** One provider network's allocation: addresses used of the total, floating vs SNAT, by tenant. */
  providerNetworkUsage: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [pn] = await ctx.db.select().from(providerNetworks).where(eq(providerNetworks.id, input.id));
      if (!pn) throw new TRPCError({ code: "NOT_FOUND", message: PROVIDER_NOT_FOUND });
      const rows = await ctx.db
        .select({
          tenantId: tenants.id,
          tenantSlug: tenants.slug,
          tenantName: tenants.name,
          floating: sql<number>`(count(*) filter (where ${providerAddresses.kind} = 'floating'))::int`,
          attached: sql<number>`(count(*) filter (where ${providerAddresses.portId} is not null))::int`,
          snat: sql<number>`(count(*) filter (where ${providerAddresses.kind} = 'snat'))::int`,
        })
        .from(providerAddresses)
        .innerJoin(tenants, eq(tenants.id, providerAddresses.tenantId))
        .where(eq(providerAddresses.providerNetworkId, pn.id))
        .groupBy(tenants.id)
        .orderBy(tenants.slug);
      const used = rows.reduce((n, r) => n + r.floating + r.snat, 0);
      return { id: pn.id, name: pn.name, total: providerRange(pn).total, used, usableReason: providerNetworkBlocker(pn), byTenant: rows };
    }),

  createProviderNetwork: operatorProcedure("operator-admin")
    .input(providerNetworkCreateSchema)
    .mutation(async ({ ctx, input }) => {
      const p = parseCidr(input.cidr);
      if (!p.ok) throw fieldError("cidr", p.reason, "BAD_REQUEST");
      const cidr = cidrToString(p.cidr);
      const overlap = { provider_networks_no_overlap: { field: "cidr", message: `${cidr} overlaps another provider network` } };
      return transact(
        ctx.db,
        async (tx) => {
          const [clash] = await tx
            .select({ name: providerNetworks.name, cidr: providerNetworks.cidr })
            .from(providerNetworks)
            .where(sql`${providerNetworks.cidr} && ${cidr}::cidr`)
            .limit(1);
          if (clash) throw fieldError("cidr", `${cidr} overlaps provider network ${clash.name} (${clash.cidr})`);
          if (input.gateway || input.gatewayMac) checkGateway(cidr, input.gateway ?? null, input.gatewayMac ?? null);
          return insertRow(tx, ctx, providerNetworks, { ...input, cidr }, { type: "provider_network", details: { ...input, cidr } });
        },
        { ...providerUniques, ...overlap },
      );
    }),

  updateProviderNetwork: operatorProcedure("operator-admin")
    .input(providerNetworkUpdateSchema)
    .mutation(async ({ ctx, input }) => {
      const [pn] = await ctx.db.select().from(providerNetworks).where(eq(providerNetworks.id, input.id));
      if (!pn) throw new TRPCError({ code: "NOT_FOUND", message: PROVIDER_NOT_FOUND });
      const reaches = input.gateway !== undefined || input.gatewayMac !== undefined || input.rangeStart !== undefined || input.rangeEnd !== undefined;
      if (reaches) await checkProviderReach(ctx.db, pn, input);
      const row = await updateById(ctx, providerNetworks, input, { type: "provider_network", notFound: PROVIDER_NOT_FOUND, uniques: providerUniques });
      // The gateway and its MAC are in every overlay that reaches the network.
      if (reaches) await applyOverlaySoon();
      return row;
    }),

  deleteProviderNetwork: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return ctx.db.transaction(async (tx) => {
        const [a] = await tx.select({ n: count() }).from(providerAddresses).where(eq(providerAddresses.providerNetworkId, input.id));
        const [v] = await tx.select({ n: count() }).from(vpcs).where(eq(vpcs.externalNetworkId, input.id));
        if (a!.n || v!.n)
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: `This provider network is in use (${a!.n} address${a!.n === 1 ? "" : "es"} allocated, external gateway of ${v!.n} VPC${v!.n === 1 ? "" : "s"}); tenants must release them first.`,
          });
        const [row] = await tx.delete(providerNetworks).where(eq(providerNetworks.id, input.id)).returning();
        if (!row) throw new TRPCError({ code: "NOT_FOUND", message: PROVIDER_NOT_FOUND });
        await audit(tx, ctx, {
          action: "provider_network.delete",
          targetType: "provider_network",
          targetId: row.id,
          targetName: row.name,
          details: { cidr: row.cidr, vlanId: row.vlanId },
        });
        return { id: row.id };
      });
    }),

  tenantPolicy: operatorProcedure("operator-viewer")
    .input(z.object({ tenantSlug: z.string().min(1).max(63) }))
    .query(async ({ ctx, input }) => {
      const [t] = await ctx.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, input.tenantSlug));
      if (!t) throw new TRPCError({ code: "NOT_FOUND", message: "That tenant does not exist." });
      const [p] = await ctx.db.select().from(tenantNetworkPolicies).where(eq(tenantNetworkPolicies.tenantId, t.id));
      return { tenantSlug: input.tenantSlug, allowPublicCidrs: p?.allowPublicCidrs ?? false };
    }),

  setTenantPolicy: operatorProcedure("operator-admin")
    .input(z.object({ tenantSlug: z.string().min(1).max(63), allowPublicCidrs: z.boolean() }).strict())
    .mutation(async ({ ctx, input }) => {
      return ctx.db.transaction(async (tx) => {
        const [t] = await tx.select({ id: tenants.id, name: tenants.name }).from(tenants).where(eq(tenants.slug, input.tenantSlug));
        if (!t) throw new TRPCError({ code: "NOT_FOUND", message: "That tenant does not exist." });
        await tx
          .insert(tenantNetworkPolicies)
          .values({ tenantId: t.id, allowPublicCidrs: input.allowPublicCidrs })
          .onConflictDoUpdate({ target: tenantNetworkPolicies.tenantId, set: { allowPublicCidrs: input.allowPublicCidrs } });
        await audit(tx, ctx, {
          action: "tenant.network_policy",
          targetType: "tenant",
          targetId: t.id,
          targetName: t.name,
          tenantId: t.id,
          details: { allowPublicCidrs: input.allowPublicCidrs },
        });
        return { tenantSlug: input.tenantSlug, allowPublicCidrs: input.allowPublicCidrs };
      });
    }),
});
