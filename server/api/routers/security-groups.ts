// Tenant security groups and their rules. A group belongs to a VPC; rules allow new connections by direction,
// ethertype, protocol, port range and a remote CIDR or a remote group (same tenant and VPC; anything else is the
// field error "No such security group", so another tenant's groups do not leak). Every change bumps rules_version on
// the ports it reaches (portsAffectedByGroup) and enqueues a rules pass that pushes them to their DPU agents
// (server/workflows/rules.ts); rulesStatus says how many NICs enforce the current rules.
// Roles: tenant members create, edit and delete groups and rules; the VPC's default group is deleted only with it.
import { TRPCError } from "@trpc/server";
import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "@/db/client";
import { portSecurityGroups, ports, securityGroupRules, securityGroups, vpcs } from "@/db/schema";
import { checkRuleFields, securityGroupCreateSchema, securityGroupRuleFields, securityGroupUpdateSchema } from "@/db/validation/network";
import { cidrToString, parseCidr } from "@/domain/cidr";
import { enforceQuota, rowsOf } from "@/server/services/quotas";
import { bumpRulesVersion, portsAffectedByGroup, portsAffectedByGroupSql } from "@/server/domain/rule-compiler";
import { audit } from "@/server/services/audit";
import { applyRulesSoon, rulesStatusOf } from "@/server/services/rules-apply";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantInput, tenantProcedure } from "../trpc";
import { insertRow, updateById, deleteRow } from "../updates";
import { found, inTenant, tenantRow, columnsOf } from "@/server/services/rows";
import { matchesText } from "@/server/lib/like";
import { tenantVpc } from "@/server/services/network";
import { transact } from "../transact";

const uniques = { security_groups_vpc_name_uq: { field: "name", message: "This VPC already has a security group with this name." } };
export const GROUP_NOT_FOUND = "That security group does not exist (it may have been deleted).";
export const MAX_RULES_PER_GROUP = 100;

export function tenantGroup(db: Db | Tx, tenantId: string, id: string, lock = false) {
  return tenantRow(db, securityGroups, tenantId, id, GROUP_NOT_FOUND, lock);
}

const ruleCount = sql<number>`(select count(*)::int from security_group_rules r where r.group_id = "security_groups"."id")`;
const portCount = sql<number>`(select count(*)::int from port_security_groups psg where psg.group_id = "security_groups"."id")`;

const columns = {
  id: securityGroups.id,
  vpcId: securityGroups.vpcId,
  vpcName: vpcs.name,
  ...columnsOf(securityGroups, "name", "description", "isDefault", "createdAt"),
  ruleCount,
  portCount,
};

/** The columns the list sorts by, and its tie-breaker. */
const listOrder = { sort: { name: securityGroups.name, createdAt: securityGroups.createdAt }, id: securityGroups.id };

/** Why a group cannot be deleted now, or null (shared with the UI). */
function groupDeleteBlocker(g: { name: string; isDefault: boolean; portCount: number }, referencedBy: string[]): string | null {
  if (g.isDefault) return "The VPC's default group is deleted with its VPC.";
  if (g.portCount > 0) return `Security group ${g.name} is attached to ${g.portCount} port${g.portCount === 1 ? "" : "s"}; detach it first.`;
  if (referencedBy.length) return `Rules of ${referencedBy.join(", ")} name ${g.name} as their remote group; change those rules first.`;
  return null;
}

async function referencingGroups(db: Db | Tx, groupId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ name: securityGroups.name })
    .from(securityGroupRules)
    .innerJoin(securityGroups, eq(securityGroups.id, securityGroupRules.groupId))
    .where(and(eq(securityGroupRules.remoteGroupId, groupId), sql`${securityGroupRules.groupId} <> ${groupId}`))
    .orderBy(asc(securityGroups.name));
  return rows.map((r) => r.name);
}

/** After a change to a group's rules: bumps rules_version on every port the group reaches, and audits the change
 *  (`action`) with how many ports that was. */
async function ruleChanged(
  tx: Tx,
  ctx: Parameters<typeof audit>[1],
  g: { id: string; name: string; tenantId: string },
  action: string,
  details: Record<string, unknown>,
): Promise<void> {
  const affected = await bumpRulesVersion(tx, portsAffectedByGroupSql(g.id));
  const audited = { ...details, affectedPorts: affected };
  await audit(tx, ctx, { action, targetType: "security_group", targetId: g.id, targetName: g.name, tenantId: g.tenantId, details: audited });
}

const ruleInput = securityGroupRuleFields.extend(tenantInput.shape).strict().superRefine(checkRuleFields);

export const securityGroupsRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(pageInput.extend({ vpcId: z.uuid().optional(), q: z.string().trim().max(100).optional(), sort: z.enum(["name", "createdAt"]).default("createdAt") }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(securityGroups).innerJoin(vpcs, eq(vpcs.id, securityGroups.vpcId));
      const vpc = input.vpcId ? eq(securityGroups.vpcId, input.vpcId) : undefined;
      const text = matchesText(input.q, securityGroups.name, securityGroups.description);
      return listPage(query, input, listOrder, eq(securityGroups.tenantId, ctx.tenant.id), vpc, text);
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(securityGroups).innerJoin(vpcs, eq(vpcs.id, securityGroups.vpcId));
      const row = found(await query.where(inTenant(securityGroups, ctx.tenant.id, input.id)), GROUP_NOT_FOUND);
      const remote = sql<string | null>`(select g.name from security_groups g where g.id = "security_group_rules"."remote_group_id")`;
      const rules = await ctx.db
        .select({
          ...columnsOf(securityGroupRules, "id", "direction", "ethertype", "protocol", "portMin", "portMax", "remoteCidr", "remoteGroupId"),
          remoteGroupName: remote,
          description: securityGroupRules.description,
          createdAt: securityGroupRules.createdAt,
        })
        .from(securityGroupRules)
        .where(eq(securityGroupRules.groupId, row.id))
        .orderBy(asc(securityGroupRules.direction), asc(securityGroupRules.createdAt), asc(securityGroupRules.id));
      const refs = await referencingGroups(ctx.db, row.id);
      return { ...row, rules, deleteBlockedReason: groupDeleteBlocker(row, refs) };
    }),

  create: tenantProcedure("tenant-member", { write: true })
    .input(securityGroupCreateSchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const { tenant: _t, ...values } = input;
      const tenantId = ctx.tenant.id;
      const vpc = await tenantVpc(ctx.db, tenantId, values.vpcId);
      return transact(
        ctx.db,
        async (tx) => {
          await enforceQuota(tx, tenantId, [{ resource: "securityGroups", add: 1, used: rowsOf(securityGroups, tenantId) }]);
          return insertRow(tx, ctx, securityGroups, { ...values, tenantId, vpcId: vpc.id }, { type: "security_group", tenantId, details: values });
        },
        uniques,
      );
    }),

  update: tenantProcedure("tenant-member", { write: true })
    .input(securityGroupUpdateSchema.extend(tenantInput.shape))
    .mutation(({ ctx, input }) =>
      updateById(ctx, securityGroups, input, { type: "security_group", tenantId: ctx.tenant.id, notFound: GROUP_NOT_FOUND, uniques }),
    ),

  delete: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, async (tx) => {
        const g = await tenantGroup(tx, ctx.tenant.id, input.id, true);
        const [pc] = await tx.select({ n: count() }).from(portSecurityGroups).where(eq(portSecurityGroups.groupId, g.id));
        const reason = groupDeleteBlocker({ ...g, portCount: pc!.n }, await referencingGroups(tx, g.id));
        if (reason) throw new TRPCError({ code: "PRECONDITION_FAILED", message: reason });
        await deleteRow(tx, ctx, securityGroups, g, { type: "security_group", tenantId: ctx.tenant.id });
        return { id: g.id };
      });
    }),

  addRule: tenantProcedure("tenant-member", { write: true })
    .input(ruleInput)
    .mutation(async ({ ctx, input }) => {
      const { tenant: _t, groupId, ...rule } = input;
      const tenantId = ctx.tenant.id;
      const added = await transact(ctx.db, async (tx) => {
        const g = await tenantGroup(tx, tenantId, groupId, true);
        if (rule.remoteGroupId) {
          // Another tenant's group (or a made-up id) looks exactly like one that does not exist.
          const [remote] = await tx
            .select({ id: securityGroups.id, vpcId: securityGroups.vpcId, name: securityGroups.name })
            .from(securityGroups)
            .where(and(eq(securityGroups.id, rule.remoteGroupId), eq(securityGroups.tenantId, tenantId)));
          if (!remote) throw fieldError("remoteGroupId", "No such security group", "BAD_REQUEST");
          if (remote.vpcId !== g.vpcId)
            throw fieldError("remoteGroupId", `Security group ${remote.name} is in another VPC; its members are not reachable from this one`, "BAD_REQUEST");
        }
        const [rc] = await tx.select({ n: count() }).from(securityGroupRules).where(eq(securityGroupRules.groupId, g.id));
        if (rc!.n >= MAX_RULES_PER_GROUP)
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: `Security group ${g.name} already has ${rc!.n} rules (at most ${MAX_RULES_PER_GROUP}); merge some first.`,
          });
        const remoteCidr = rule.remoteCidr ? cidrToString((parseCidr(rule.remoteCidr) as { ok: true; cidr: never }).cidr) : null;
        const [row] = await tx
          .insert(securityGroupRules)
          .values({
            ...rule,
            remoteCidr,
            tenantId,
            groupId: g.id,
            portMin: rule.portMin ?? null,
            portMax: rule.portMin != null ? (rule.portMax ?? rule.portMin) : null,
          })
          .returning();
        await ruleChanged(tx, ctx, g, "security_group.add_rule", { ruleId: row!.id, ...rule });
        return row!;
      });
      await applyRulesSoon();
      return added;
    }),

  deleteRule: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const deleted = await transact(ctx.db, async (tx) => {
        const rule = await tenantRow(tx, securityGroupRules, ctx.tenant.id, input.id, "That rule does not exist (it may have been deleted).", true);
        const g = await tenantGroup(tx, ctx.tenant.id, rule.groupId, true);
        await tx.delete(securityGroupRules).where(eq(securityGroupRules.id, rule.id));
        await ruleChanged(tx, ctx, g, "security_group.delete_rule", { ruleId: rule.id });
        return { id: rule.id };
      });
      await applyRulesSoon();
      return deleted;
    }),

  /** Whether the group's current rules are enforced on every NIC they reach (the page polls while some are behind). */
  rulesStatus: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const g = await tenantGroup(ctx.db, ctx.tenant.id, input.id);
      return rulesStatusOf(ctx.db, portsAffectedByGroupSql(g.id));
    }),

  /** The ports a change to this group reaches (attached, or attached to a group that names it as remote). */
  affectedPorts: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const g = await tenantGroup(ctx.db, ctx.tenant.id, input.id);
      const ids = await portsAffectedByGroup(ctx.db, g.id);
      if (!ids.length) return [];
      return ctx.db
        .select({ id: ports.id, name: ports.name, rulesVersion: ports.rulesVersion })
        .from(ports)
        .where(and(inArray(ports.id, ids), eq(ports.tenantId, ctx.tenant.id)))
        .orderBy(asc(ports.name));
    }),
});
