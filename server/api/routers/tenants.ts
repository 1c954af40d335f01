// Tenants (operator console): create, rename, suspend/resume, delete only when it runs nothing, list with
// filter/sort/cursor, detail with members and usage vs quota; operators also manage a tenant's members here.
import { TRPCError } from "@trpc/server";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "@/db/client";
import type { Principal } from "@/server/auth/principal";
import { memberships, tenants } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { memberAddSchema, tenantCreateSchema, tenantRenameSchema, tenantRoleInput, tenantSortKeys } from "@/db/validation/tenancy";
import { lockQuota } from "@/server/services/quotas";
import { readQuotaLimits, remainingResources, tenantUsage } from "@/server/services/quotas-usage";
import { audit } from "@/server/services/audit";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { addMemberDirect, adminCount, listMembers, memberListInput, memberUniques, removeMember, setMemberRole } from "@/server/services/members";
import { matchesText } from "@/server/lib/like";
import { transact } from "../transact";
import { deleteRow } from "../updates";

const uniques = { tenants_slug_unique: { field: "slug", message: "A tenant with this slug already exists." } };
const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "That tenant does not exist (it may have been deleted)." });

const memberCount = sql<number>`(select count(*)::int from ${memberships} where ${memberships.tenantId} = ${tenants.id})`;
const tenantColumns = {
  ...columnsOf(tenants, "id", "slug", "name", "state", "createdAt", "updatedAt"),
  memberCount,
};

async function lockTenant(tx: Tx, id: string) {
  const [t] = await tx.select().from(tenants).where(eq(tenants.id, id)).for("update");
  if (!t) throw notFound();
  return t;
}

const tenantIdInput = z.object({ id: z.uuid() });

export const tenantsRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(
      pageInput.extend({
        q: z.string().trim().max(100).optional(),
        state: z.enum(["active", "suspended"]).optional(),
        sort: z.enum(tenantSortKeys).default("name"),
      }),
    )
    .query(async ({ ctx, input }) => {
      const order = { sort: { name: tenants.name, slug: tenants.slug, createdAt: tenants.createdAt }, id: tenants.id };
      const state = input.state ? eq(tenants.state, input.state) : undefined;
      return listPage(ctx.db.select(tenantColumns).from(tenants), input, order, matchesText(input.q, tenants.name, tenants.slug), state);
    }),

  get: operatorProcedure("operator-viewer")
    .input(tenantIdInput)
    .query(async ({ ctx, input }) => {
      const [t] = await ctx.db.select(tenantColumns).from(tenants).where(eq(tenants.id, input.id));
      if (!t) throw notFound();
      return { ...t, adminCount: await adminCount(ctx.db, t.id), quota: await readQuotaLimits(ctx.db, t.id), usage: await tenantUsage(ctx.db, t.id) };
    }),

  members: operatorProcedure("operator-viewer")
    .input(memberListInput.extend({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [t] = await ctx.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.id));
      if (!t) throw notFound();
      return listMembers(ctx.db, t.id, input);
    }),

  create: operatorProcedure("operator-admin")
    .input(tenantCreateSchema)
    .mutation(async ({ ctx, input }) => {
      return transact(
        ctx.db,
        async (tx) => {
          const [row] = await tx.insert(tenants).values(input).returning();
          await lockQuota(tx, row!.id); // the quota row with the defaults, so operators see the limits at once
          await audit(tx, ctx, { action: "tenant.create", targetType: "tenant", targetId: row!.id, targetName: row!.slug, tenantId: row!.id, details: input });
          return row!;
        },
        uniques,
      );
    }),

  rename: operatorProcedure("operator-admin")
    .input(tenantRenameSchema)
    .mutation(({ ctx, input }) =>
      ctx.db.transaction(async (tx) => {
        const before = await lockTenant(tx, input.id);
        const [row] = await tx.update(tenants).set({ name: input.name }).where(eq(tenants.id, input.id)).returning();
        await audit(tx, ctx, {
          action: "tenant.rename",
          targetType: "tenant",
          targetId: row!.id,
          targetName: row!.slug,
          tenantId: row!.id,
          details: { name: { from: before.name, to: input.name } },
        });
        return row!;
      }),
    ),

  suspend: operatorProcedure("operator-admin")
    .input(tenantIdInput)
    .mutation(({ ctx, input }) => setState(ctx, input.id, "suspended")),

  resume: operatorProcedure("operator-admin")
    .input(tenantIdInput)
    .mutation(({ ctx, input }) => setState(ctx, input.id, "active")),

  delete: operatorProcedure("operator-admin")
    .input(tenantIdInput)
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, async (tx) => {
        const t = await lockTenant(tx, input.id);
        const left = await remainingResources(tx, t.id);
        if (left.length > 0)
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: `Tenant ${t.name} still has ${left.map((r) => `${r.count} ${r.table}`).join(", ")}; they must be deleted before the tenant can be.`,
          });
        const [{ n }] = (await tx.select({ n: sql<number>`count(*)::int` }).from(memberships).where(eq(memberships.tenantId, t.id))) as [{ n: number }];
        // Memberships, quota and tenant-scoped tokens go with the tenant (FK cascade); the users stay.
        await deleteRow(tx, ctx, tenants, { id: t.id, name: t.slug }, { type: "tenant", tenantId: t.id, details: { membersRemoved: n } });
        return { id: t.id };
      });
    }),

  // Operators add directly, without an invitation: they administer users platform-wide (tenant admins invite).
  addMember: operatorProcedure("operator-admin")
    .input(memberAddSchema.extend({ id: z.uuid() }).strict())
    .mutation(async ({ ctx, input }) => {
      const { id, ...rest } = input;
      return transact(ctx.db, async (tx) => addMemberDirect(tx, ctx, await lockTenant(tx, id), rest), memberUniques);
    }),

  removeMember: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid(), userId: z.string().min(1).max(100) }))
    .mutation(({ ctx, input }) => ctx.db.transaction(async (tx) => removeMember(tx, ctx, await lockTenant(tx, input.id), input.userId))),

  setMemberRole: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid(), userId: z.string().min(1).max(100), role: tenantRoleInput }))
    .mutation(({ ctx, input }) => ctx.db.transaction(async (tx) => setMemberRole(tx, ctx, await lockTenant(tx, input.id), input.userId, input.role))),
});

async function setState(ctx: { db: Db; principal: Principal | null; requestId: string }, id: string, state: "active" | "suspended") {
  return ctx.db.transaction(async (tx) => {
    const t = await lockTenant(tx, id);
    if (t.state === state)
      throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Tenant ${t.name} is already ${state === "active" ? "active" : "suspended"}.` });
    const [row] = await tx.update(tenants).set({ state }).where(eq(tenants.id, id)).returning();
    await audit(tx, ctx, {
      action: state === "suspended" ? "tenant.suspend" : "tenant.resume",
      targetType: "tenant",
      targetId: t.id,
      targetName: t.slug,
      tenantId: t.id,
    });
    return row!;
  });
}
