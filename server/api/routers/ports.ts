// Tenant ports (vNICs): a MAC (locally administered, unique), an address from the subnet's IPAM (and an IPv6 one too
// on a dual-stack subnet), and security groups
// (the VPC's default group when none are named). Provisioning binds a port to a node's DPU function later and pushes
// the compiled rules (`ports.rules`) whenever rules_version moves. Adding or removing a port changes the membership
// of its groups, so ports whose rules name those groups as remote are bumped too.
// Roles: tenant members create, edit and delete ports.
import { TRPCError } from "@trpc/server";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "@/db/client";
import { ipAllocations, portSecurityGroups, ports, securityGroups, subnets } from "@/db/schema";
import { portCreateSchema, portUpdateSchema } from "@/db/validation/network";
import { allocateAddress, ensurePortIpv6 } from "@/server/services/ipam";
import { enforceQuota, rowsOf } from "@/server/services/quotas";
import { bumpRulesVersion, compileRules, loadCompileInput, portsAffectedByGroup } from "@/server/domain/rule-compiler";
import { audit } from "@/server/services/audit";
import { applyRulesSoon } from "@/server/services/rules-apply";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantInput, tenantProcedure } from "../trpc";
import { updateSet } from "../updates";
import { matchesText } from "@/server/lib/like";
import { tenantSubnet, PORT_NOT_FOUND, randomMac, tenantPort } from "@/server/services/network";
import { transact } from "../transact";
import { found, inTenant, columnsOf } from "@/server/services/rows";

const uniques = { ports_tenant_name_uq: { field: "name", message: "A port with this name already exists." } };
/** Resolves group ids to the tenant's groups of this VPC; anything else is "No such security group". */
async function resolveGroups(tx: Tx, tenantId: string, vpcId: string, ids: string[] | undefined): Promise<string[]> {
  if (ids === undefined || ids.length === 0) {
    const [def] = await tx
      .select({ id: securityGroups.id })
      .from(securityGroups)
      .where(and(eq(securityGroups.vpcId, vpcId), eq(securityGroups.isDefault, true)));
    return def ? [def.id] : [];
  }
  const unique = [...new Set(ids)];
  const found = await tx
    .select({ id: securityGroups.id, vpcId: securityGroups.vpcId, name: securityGroups.name })
    .from(securityGroups)
    .where(and(inArray(securityGroups.id, unique), eq(securityGroups.tenantId, tenantId)));
  for (const id of unique) {
    const g = found.find((f) => f.id === id);
    if (!g) throw fieldError("securityGroupIds", "No such security group", "BAD_REQUEST");
    if (g.vpcId !== vpcId) throw fieldError("securityGroupIds", `Security group ${g.name} belongs to another VPC`, "BAD_REQUEST");
  }
  return unique;
}

/** Bumps the port itself and every port whose rules reach it through these groups (membership changed). */
async function touchMembership(tx: Tx, portId: string, groupIds: string[]): Promise<void> {
  const affected = new Set<string>([portId]);
  for (const g of groupIds) for (const p of await portsAffectedByGroup(tx, g)) affected.add(p);
  await bumpRulesVersion(tx, [...affected]);
}

const address = sql<string | null>`(select host(a.address) from ip_allocations a where a.port_id = "ports"."id" and family(a.address) = 4)`;
const ipv6Address = sql<string | null>`(select host(a.address) from ip_allocations a where a.port_id = "ports"."id" and family(a.address) = 6)`;
const columns = {
  ...columnsOf(ports, "id", "name", "description", "subnetId"),
  subnetName: subnets.name,
  vpcId: subnets.vpcId,
  mac: ports.mac,
  address,
  ipv6Address,
  ...columnsOf(ports, "nodeId", "dpuFunction", "rulesVersion", "createdAt"),
};

export const portsRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(pageInput.extend({ subnetId: z.uuid().optional(), vpcId: z.uuid().optional(), q: z.string().trim().max(100).optional() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(ports).innerJoin(subnets, eq(subnets.id, ports.subnetId));
      const subnet = input.subnetId ? eq(ports.subnetId, input.subnetId) : undefined;
      const vpc = input.vpcId ? eq(subnets.vpcId, input.vpcId) : undefined;
      const text = matchesText(input.q, ports.name, sql`${ports.mac}::text`);
      return listPage(query, input, { sort: { createdAt: ports.createdAt }, id: ports.id }, eq(ports.tenantId, ctx.tenant.id), subnet, vpc, text);
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(ports).innerJoin(subnets, eq(subnets.id, ports.subnetId));
      const row = found(await query.where(inTenant(ports, ctx.tenant.id, input.id)), PORT_NOT_FOUND);
      const groups = await ctx.db
        .select({ id: securityGroups.id, name: securityGroups.name })
        .from(portSecurityGroups)
        .innerJoin(securityGroups, eq(securityGroups.id, portSecurityGroups.groupId))
        .where(eq(portSecurityGroups.portId, row.id))
        .orderBy(asc(securityGroups.name));
      return { ...row, securityGroups: groups };
    }),

  /** The port's compiled rule set, exactly what its DPU agent receives, with the source rules of each entry. */
  rules: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const port = await tenantPort(ctx.db, ctx.tenant.id, input.id);
      // A rule set the compiler refuses becomes PRECONDITION_FAILED with its reason (errors.ts toTrpcError).
      const compiled = compileRules(await loadCompileInput(ctx.db, port.id));
      return { rulesVersion: port.rulesVersion, ...compiled };
    }),

  create: tenantProcedure("tenant-member", { write: true })
    .input(portCreateSchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const { tenant: _t, securityGroupIds, address: fixed, ipv6Address: fixedV6, ...values } = input;
      const tenantId = ctx.tenant.id;
      const subnet = await tenantSubnet(ctx.db, tenantId, values.subnetId);
      const created = await transact(
        ctx.db,
        async (tx) => {
          const addresses = subnet.ipv6Cidr ? 2 : 1;
          await enforceQuota(tx, tenantId, [{ resource: "addresses", add: addresses, used: rowsOf(ipAllocations, tenantId) }]);
          const groupIds = await resolveGroups(tx, tenantId, subnet.vpcId, securityGroupIds);
          let row: typeof ports.$inferSelect | undefined;
          // A MAC collision (2^46 space) is astronomically rare, but the unique index is what decides; try again.
          for (let attempt = 0; !row; attempt++) {
            try {
              row = await tx.transaction(
                async (sp) =>
                  (
                    await sp
                      .insert(ports)
                      .values({ ...values, tenantId, mac: randomMac() })
                      .returning()
                  )[0],
              );
            } catch (e) {
              const c = e as { cause?: { constraint?: string }; constraint?: string };
              if ((c.constraint ?? c.cause?.constraint) !== "ports_mac_uq" || attempt >= 5) throw e;
            }
          }
          const ip = await allocateAddress(tx, { ...subnet, gateway: subnet.gateway }, { tenantId, portId: row.id, address: fixed });
          const ipv6 = await ensurePortIpv6(tx, subnet, { tenantId, portId: row.id, address: fixedV6 });
          if (groupIds.length) await tx.insert(portSecurityGroups).values(groupIds.map((groupId) => ({ portId: row.id, groupId })));
          await touchMembership(tx, row.id, groupIds);
          await audit(tx, ctx, {
            action: "port.create",
            targetType: "port",
            targetId: row.id,
            targetName: row.name,
            tenantId,
            details: { subnetId: subnet.id, mac: row.mac, address: ip.address, ipv6Address: ipv6, securityGroupIds: groupIds },
          });
          return { ...row, address: ip.address, ipv6Address: ipv6, securityGroupIds: groupIds };
        },
        uniques,
      );
      await applyRulesSoon(); // members of its groups changed: ports naming them as remote get new rules
      return created;
    }),

  update: tenantProcedure("tenant-member", { write: true })
    .input(portUpdateSchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const { tenant: _t, id, securityGroupIds, ...changes } = input;
      const updated = await transact(
        ctx.db,
        async (tx) => {
          const port = await tenantPort(tx, ctx.tenant.id, id, true);
          const set = updateSet(ports, changes);
          if (set) await tx.update(ports).set(set).where(eq(ports.id, id));
          let groups: string[] | undefined;
          if (securityGroupIds !== undefined) {
            const subnet = await tenantSubnet(tx, ctx.tenant.id, port.subnetId);
            const before = (await tx.select({ g: portSecurityGroups.groupId }).from(portSecurityGroups).where(eq(portSecurityGroups.portId, id))).map(
              (r) => r.g,
            );
            // An explicit empty list means "no groups" (deny everything new), unlike create's default.
            groups = securityGroupIds.length ? await resolveGroups(tx, ctx.tenant.id, subnet.vpcId, securityGroupIds) : [];
            await tx.delete(portSecurityGroups).where(eq(portSecurityGroups.portId, id));
            if (groups.length) await tx.insert(portSecurityGroups).values(groups.map((groupId) => ({ portId: id, groupId })));
            await touchMembership(tx, id, [...new Set([...before, ...groups])]);
          }
          const [row] = await tx.select().from(ports).where(eq(ports.id, id));
          await audit(tx, ctx, {
            action: "port.update",
            targetType: "port",
            targetId: id,
            targetName: row!.name,
            tenantId: ctx.tenant.id,
            details: { ...set, securityGroupIds: groups },
          });
          return row!;
        },
        uniques,
      );
      if (securityGroupIds !== undefined) await applyRulesSoon();
      return updated;
    }),

  delete: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const deleted = await transact(ctx.db, async (tx) => {
        const port = await tenantPort(tx, ctx.tenant.id, input.id, true);
        if (port.nodeId) throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Port ${port.name} is plugged into a server; release the server first.` });
        const groups = (await tx.select({ g: portSecurityGroups.groupId }).from(portSecurityGroups).where(eq(portSecurityGroups.portId, port.id))).map(
          (r) => r.g,
        );
        const others = new Set<string>();
        for (const g of groups) for (const p of await portsAffectedByGroup(tx, g)) if (p !== port.id) others.add(p);
        // The address and group attachments go with the port (ON DELETE CASCADE).
        await tx.delete(ports).where(eq(ports.id, port.id));
        await bumpRulesVersion(tx, [...others]);
        await audit(tx, ctx, {
          action: "port.delete",
          targetType: "port",
          targetId: port.id,
          targetName: port.name,
          tenantId: ctx.tenant.id,
          details: { mac: port.mac },
        });
        return { id: port.id };
      });
      await applyRulesSoon();
      return deleted;
    }),
});
