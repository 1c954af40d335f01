// Operator view of networking across tenants: every VPC and subnet (VNI and VLAN usage), provider (external)
// networks for public addresses, and per-tenant network policy (may a tenant use public ranges in its VPCs).
// Operator viewers read; operator admins change. Floating IPs are not built (the UI says so).
import { TRPCError } from "@trpc/server";
import { count, eq, isNotNull, sql } from "drizzle-orm";
import { z } from "zod";
import { ipAllocations, ports, providerNetworks, subnets, tenantNetworkPolicies, tenants, VNI_MAX, VNI_MIN, vpcs } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { providerNetworkCreateSchema, providerNetworkUpdateSchema } from "@/db/validation/network";
import { cidrToString, parseCidr } from "@/domain/cidr";
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
          used: sql<number>`(select count(*)::int from ip_allocations a where a.subnet_id = "subnets"."id")`,
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
      return listPage(ctx.db.select().from(providerNetworks), input, { sort: { createdAt: providerNetworks.createdAt }, id: providerNetworks.id });
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
          return insertRow(tx, ctx, providerNetworks, { ...input, cidr }, { type: "provider_network", details: { ...input, cidr } });
        },
        { ...providerUniques, ...overlap },
      );
    }),

  updateProviderNetwork: operatorProcedure("operator-admin")
    .input(providerNetworkUpdateSchema)
    .mutation(({ ctx, input }) =>
      updateById(ctx, providerNetworks, input, { type: "provider_network", notFound: PROVIDER_NOT_FOUND, uniques: providerUniques }),
    ),

  deleteProviderNetwork: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return ctx.db.transaction(async (tx) => {
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
