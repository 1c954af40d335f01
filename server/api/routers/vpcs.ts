// Tenant VPCs: an isolated IPv4 range (optionally an IPv6 ULA range) with its own VNI, a default security group
// created with it (allow all egress, allow ingress from members of the same group).
// Roles: tenant members create and edit networking objects; deleting a VPC needs a tenant admin (it is the one
// delete that can take a tenant's whole network design with it). Every query filters by ctx.tenant.id; another
// tenant's VPC is NOT_FOUND.
import { TRPCError } from "@trpc/server";
import { and, count, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "@/db/client";
import {
  ports,
  providerAddresses,
  providerNetworks,
  securityGroupRules,
  securityGroups,
  subnets,
  tenantNetworkPolicies,
  VNI_MAX,
  VNI_MIN,
  vpcs,
} from "@/db/schema";
import { vpcCreateSchema, vpcExternalGatewaySchema, vpcUpdateSchema } from "@/db/validation/network";
import { checkVpcCidr, checkVpcIpv6Cidr, cidrsOverlap, parseCidr } from "@/domain/cidr";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { providerNetworkBlocker } from "@/server/services/provider-addresses";
import { enforceQuota, rowsOf } from "@/server/services/quotas";
import { audit } from "@/server/services/audit";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantInput, tenantProcedure } from "../trpc";
import { updateById, deleteRow } from "../updates";
import { matchesText } from "@/server/lib/like";
import { VPC_NOT_FOUND, tenantVpc } from "@/server/services/network";
import { transact } from "../transact";
import { found, inTenant, columnsOf } from "@/server/services/rows";

export const vpcUniques = { vpcs_tenant_name_uq: { field: "name", message: "A VPC with this name already exists." } };

/** Why a VPC cannot be deleted right now, or null. Shared by the router and the UI (disabled button + reason). */
export function vpcDeleteBlocker(v: { name: string; subnetCount: number; portCount: number }, role: "tenant-admin" | "tenant-member"): string | null {
  if (role !== "tenant-admin") return "Only tenant admins can delete a VPC.";
  if (v.portCount > 0) return `VPC ${v.name} still has ${v.portCount} port${v.portCount === 1 ? "" : "s"}; delete them first.`;
  if (v.subnetCount > 0) return `VPC ${v.name} still has ${v.subnetCount} subnet${v.subnetCount === 1 ? "" : "s"}; delete them first.`;
  return null;
}

const subnetCount = sql<number>`(select count(*)::int from subnets s where s.vpc_id = "vpcs"."id")`;
const portCount = sql<number>`(select count(*)::int from ports p join subnets s on s.id = p.subnet_id where s.vpc_id = "vpcs"."id")`;

const columns = {
  ...columnsOf(vpcs, "id", "name", "description", "cidr", "ipv6Cidr", "vni", "externalNetworkId", "createdAt", "updatedAt"),
  externalNetworkName: sql<string | null>`(select pn.name from provider_networks pn where pn.id = "vpcs"."external_network_id")`,
  subnetCount,
  portCount,
};

/** The columns the list sorts by, and its tie-breaker. */
const listOrder = { sort: { name: vpcs.name, createdAt: vpcs.createdAt }, id: vpcs.id };

/** The lowest free VNI in [VNI_MIN, VNI_MAX]; the unique index decides races (the caller retries on conflict). */
async function nextFreeVni(tx: Tx): Promise<number> {
  const r = await tx.execute<{ vni: number | null }>(sql`
    select case
      when not exists (select 1 from ${vpcs} where vni = ${VNI_MIN}) then ${VNI_MIN}::int
      else (select min(v.vni) + 1 from ${vpcs} v
             where v.vni >= ${VNI_MIN} and v.vni < ${VNI_MAX}
               and not exists (select 1 from ${vpcs} w where w.vni = v.vni + 1))
    end as vni`);
  const vni = r.rows[0]?.vni;
  if (vni === null || vni === undefined)
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: "Every VNI is in use; an operator must free some before new VPCs can be created." });
  return Number(vni);
}

function isUniqueViolation(e: unknown, constraint: string): boolean {
  for (let cur = e as { code?: string; constraint?: string; cause?: unknown } | undefined, i = 0; cur && i < 5; i++) {
    if (cur.code === "23505" && cur.constraint === constraint) return true;
    cur = cur.cause as typeof cur;
  }
  return false;
}

export const vpcsRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(pageInput.extend({ q: z.string().trim().max(100).optional(), sort: z.enum(["name", "createdAt"]).default("createdAt") }))
    .query(async ({ ctx, input }) => {
      const filter = matchesText(input.q, vpcs.name, vpcs.description, sql`${vpcs.cidr}::text`);
      return listPage(ctx.db.select(columns).from(vpcs), input, listOrder, eq(vpcs.tenantId, ctx.tenant.id), filter);
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(vpcs);
      const row = found(await query.where(inTenant(vpcs, ctx.tenant.id, input.id)), VPC_NOT_FOUND);
      const [def] = await ctx.db
        .select({ id: securityGroups.id, name: securityGroups.name })
        .from(securityGroups)
        .where(and(eq(securityGroups.vpcId, row.id), eq(securityGroups.isDefault, true)));
      return { ...row, defaultGroup: def ?? null, deleteBlockedReason: vpcDeleteBlocker(row, ctx.tenantRole) };
    }),

  create: tenantProcedure("tenant-member", { write: true })
    .input(vpcCreateSchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const { tenant: _t, ...values } = input;
      const [policy] = await ctx.db.select().from(tenantNetworkPolicies).where(eq(tenantNetworkPolicies.tenantId, ctx.tenant.id));
      const v4 = checkVpcCidr(values.cidr, { allowPublic: policy?.allowPublicCidrs ?? false });
      if (!v4.ok) throw fieldError("cidr", v4.reason, "BAD_REQUEST");
      if (values.ipv6Cidr) {
        const v6 = checkVpcIpv6Cidr(values.ipv6Cidr);
        if (!v6.ok) throw fieldError("ipv6Cidr", v6.reason, "BAD_REQUEST");
      }
      const tenantId = ctx.tenant.id;
      return transact(
        ctx.db,
        async (tx) => {
          await enforceQuota(tx, tenantId, [
            { resource: "vpcs", add: 1, used: rowsOf(vpcs, tenantId) },
            { resource: "securityGroups", add: 1, used: rowsOf(securityGroups, tenantId) },
          ]);
          // VNI: lowest free; a concurrent create from another tenant may take it first, then we try the next one.
          let row: typeof vpcs.$inferSelect | undefined;
          for (let attempt = 0; !row; attempt++) {
            const vni = await nextFreeVni(tx);
            try {
              row = await tx.transaction(
                async (sp) =>
                  (
                    await sp
                      .insert(vpcs)
                      .values({ ...values, tenantId, vni })
                      .returning()
                  )[0],
              );
            } catch (e) {
              if (!isUniqueViolation(e, "vpcs_vni_uq") || attempt >= 20) throw e;
            }
          }
          const [group] = await tx
            .insert(securityGroups)
            .values({ tenantId, vpcId: row.id, name: "default", description: "Created with the VPC: all egress, ingress from this group.", isDefault: true })
            .returning();
          const base = { tenantId, groupId: group!.id, protocol: "any" as const };
          await tx.insert(securityGroupRules).values([
            { ...base, direction: "egress", ethertype: "ipv4", remoteCidr: "0.0.0.0/0" },
            { ...base, direction: "egress", ethertype: "ipv6", remoteCidr: "::/0" },
            { ...base, direction: "ingress", ethertype: "ipv4", remoteGroupId: group!.id },
            { ...base, direction: "ingress", ethertype: "ipv6", remoteGroupId: group!.id },
          ]);
          await audit(tx, ctx, {
            action: "vpc.create",
            targetType: "vpc",
            targetId: row.id,
            targetName: row.name,
            tenantId,
            details: { ...values, vni: row.vni },
          });
          return row;
        },
        vpcUniques,
      );
    }),

  update: tenantProcedure("tenant-member", { write: true })
    .input(vpcUpdateSchema.extend(tenantInput.shape))
    .mutation(({ ctx, input }) =>
      updateById(ctx, vpcs, input, { type: "vpc", tenantId: ctx.tenant.id, notFound: VPC_NOT_FOUND, uniques: vpcUniques, diff: true }),
    ),

  /**
   * Names (or, with null, clears) the provider network the VPC's router reaches the outside through: every DPU hosting
   * a port of the VPC then gets its own SNAT address there (allocated by the next overlay pass, server/services/
   * provider-addresses.ts syncSnatAddresses). Clearing or changing it frees the SNAT addresses at once.
   */
  setExternalGateway: tenantProcedure("tenant-member", { write: true })
    .input(vpcExternalGatewaySchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const tenantId = ctx.tenant.id;
      const done = await transact(ctx.db, async (tx) => {
        const vpc = await tenantVpc(tx, tenantId, input.id, true);
        let name: string | null = null;
        if (input.providerNetworkId) {
          const [pn] = await tx.select().from(providerNetworks).where(eq(providerNetworks.id, input.providerNetworkId));
          if (!pn) throw fieldError("providerNetworkId", "That provider network does not exist (it may have been deleted).", "NOT_FOUND");
          const blocked = providerNetworkBlocker(pn);
          if (blocked) throw fieldError("providerNetworkId", blocked, "PRECONDITION_FAILED");
          const vc = parseCidr(vpc.cidr);
          const pc = parseCidr(pn.cidr);
          if (vc.ok && pc.ok && cidrsOverlap(vc.cidr, pc.cidr))
            throw fieldError("providerNetworkId", `VPC ${vpc.name} (${vpc.cidr}) overlaps provider network ${pn.name} (${pn.cidr}).`, "PRECONDITION_FAILED");
          const [other] = await tx
            .select({ address: sql<string>`host(${providerAddresses.address})`, network: providerNetworks.name })
            .from(providerAddresses)
            .innerJoin(providerNetworks, eq(providerNetworks.id, providerAddresses.providerNetworkId))
            .innerJoin(ports, eq(ports.id, providerAddresses.portId))
            .innerJoin(subnets, eq(subnets.id, ports.subnetId))
            .where(and(eq(subnets.vpcId, vpc.id), ne(providerAddresses.providerNetworkId, pn.id)))
            .limit(1);
          if (other)
            throw fieldError(
              "providerNetworkId",
              `Floating IP ${other.address} of provider network ${other.network} is attached in VPC ${vpc.name}; a VPC's router has one provider network. Detach it first.`,
              "PRECONDITION_FAILED",
            );
          name = pn.name;
        }
        if (vpc.externalNetworkId === input.providerNetworkId) return { id: vpc.id, externalNetworkId: vpc.externalNetworkId, changed: false };
        await tx.update(vpcs).set({ externalNetworkId: input.providerNetworkId, updatedAt: new Date() }).where(eq(vpcs.id, vpc.id));
        // The old network's SNAT addresses go now; the new one's come with the next overlay pass.
        await tx.delete(providerAddresses).where(and(eq(providerAddresses.vpcId, vpc.id), eq(providerAddresses.kind, "snat")));
        await audit(tx, ctx, {
          action: "vpc.external_gateway",
          targetType: "vpc",
          targetId: vpc.id,
          targetName: vpc.name,
          tenantId,
          details: { from: vpc.externalNetworkId, to: input.providerNetworkId, providerNetwork: name },
        });
        return { id: vpc.id, externalNetworkId: input.providerNetworkId, changed: true };
      });
      if (done.changed) await applyOverlaySoon();
      return { id: done.id, externalNetworkId: done.externalNetworkId };
    }),

  delete: tenantProcedure("tenant-admin", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, async (tx) => {
        const row = await tenantVpc(tx, ctx.tenant.id, input.id, true);
        const subnetIds = (await tx.select({ id: subnets.id }).from(subnets).where(eq(subnets.vpcId, row.id))).map((s) => s.id);
        const [pc] = subnetIds.length ? await tx.select({ n: count() }).from(ports).where(inArray(ports.subnetId, subnetIds)) : [{ n: 0 }];
        const reason = vpcDeleteBlocker({ name: row.name, subnetCount: subnetIds.length, portCount: pc!.n }, ctx.tenantRole);
        if (reason) throw new TRPCError({ code: "PRECONDITION_FAILED", message: reason });
        // Its security groups (and their rules) go with it: security_groups.vpc_id cascades.
        await deleteRow(tx, ctx, vpcs, row, { type: "vpc", tenantId: ctx.tenant.id, details: { cidr: row.cidr, vni: row.vni } });
        return { id: row.id };
      });
    }),
});
