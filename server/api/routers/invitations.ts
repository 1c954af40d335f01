// Invitations to join a tenant. Tenant admins create them through members.add (server/api/routers/members.ts), list
// their tenant's pending ones and revoke them here; the invitee — signed in with the invited address — lists theirs
// (`mine`) and accepts (the membership is created in the same transaction) or declines. An invitation addressed to
// someone else is NOT_FOUND, exactly like one that does not exist. Answering is for a signed-in session: an API token
// (scoped to one tenant) must not join its user to another.
import { TRPCError } from "@trpc/server";
import { and, eq, gt } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { memberships, tenantInvitations, tenants, users } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { canAnswer, effectiveStatus } from "@/domain/invitations";
import { audit } from "@/server/services/audit";
import { listPage, newestFirstPageInput } from "../pagination";
import { authedProcedure, type Context, createTRPCRouter, tenantProcedure } from "../trpc";
import { lockTenantMembers } from "@/server/services/members";
import { transact } from "../transact";

const inviter = alias(users, "inviter");
const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "That invitation does not exist or is not addressed to you." });
const idInput = z.object({ id: z.uuid() });

const sessionOnly = authedProcedure.use(({ ctx, next }) => {
  if (ctx.principal.tokenScope) throw new TRPCError({ code: "FORBIDDEN", message: "API tokens can't answer invitations; sign in to the console to do this." });
  return next();
});

type SessionCtx = Context & { principal: NonNullable<Context["principal"]> };

/** Accept or decline: only the invited address's own user, only while the invitation is pending and unexpired. */
async function answer(ctx: SessionCtx, id: string, verb: "accept" | "decline") {
  return transact(ctx.db, async (tx) => {
    const [me] = await tx.select({ email: users.email }).from(users).where(eq(users.id, ctx.principal.userId));
    if (!me) throw notFound();
    const addressed = and(eq(tenantInvitations.id, id), eq(tenantInvitations.email, me.email.toLowerCase()));
    const [first] = await tx.select({ tenantId: tenantInvitations.tenantId }).from(tenantInvitations).where(addressed);
    if (!first) throw notFound();
    // Same lock order as inviting and membership changes: the tenant, then the invitation.
    await lockTenantMembers(tx, { id: first.tenantId });
    const [row] = await tx
      .select({ inv: tenantInvitations, tenantName: tenants.name, tenantSlug: tenants.slug })
      .from(tenantInvitations)
      .innerJoin(tenants, eq(tenants.id, tenantInvitations.tenantId))
      .where(addressed)
      .for("update", { of: tenantInvitations });
    if (!row) throw notFound();
    const verdict = canAnswer({ status: row.inv.status, expiresAt: row.inv.expiresAt, tenantName: row.tenantName });
    if (!verdict.ok) throw new TRPCError({ code: "PRECONDITION_FAILED", message: verdict.reason });
    if (verb === "accept")
      await tx.insert(memberships).values({ tenantId: row.inv.tenantId, userId: ctx.principal.userId, role: row.inv.role }).onConflictDoNothing();
    const status = verb === "accept" ? "accepted" : "declined";
    await tx.update(tenantInvitations).set({ status, closedAt: new Date(), closedBy: ctx.principal.userId }).where(eq(tenantInvitations.id, row.inv.id));
    await audit(tx, ctx, {
      action: `invitation.${verb}`,
      targetType: "invitation",
      targetId: row.inv.id,
      targetName: row.inv.email,
      tenantId: row.inv.tenantId,
      details: { role: row.inv.role, userId: ctx.principal.userId },
    });
    return { id: row.inv.id, status, role: row.inv.role, tenant: { slug: row.tenantSlug, name: row.tenantName } };
  });
}

/** Invitation lists: newest first by default, in creation order. */
const listOrder = { sort: { createdAt: tenantInvitations.createdAt }, id: tenantInvitations.id };

export const invitationsRouter = createTRPCRouter({
  /** Tenant admins: this tenant's pending invitations (an expired one shows as such until revoked or re-sent). */
  list: tenantProcedure("tenant-admin")
    .input(newestFirstPageInput)
    .query(async ({ ctx, input }) => {
      const query = ctx.db
        .select({
          ...columnsOf(tenantInvitations, "id", "email", "role", "status"),
          invitedBy: inviter.email,
          createdAt: tenantInvitations.createdAt,
          expiresAt: tenantInvitations.expiresAt,
        })
        .from(tenantInvitations)
        .leftJoin(inviter, eq(inviter.id, tenantInvitations.invitedBy));
      const p = await listPage(query, input, listOrder, eq(tenantInvitations.tenantId, ctx.tenant.id), eq(tenantInvitations.status, "pending"));
      const now = new Date();
      return { ...p, items: p.items.map((r) => ({ ...r, status: effectiveStatus(r, now) })) };
    }),

  /** Tenant admins: withdraw a pending invitation (an expired one too, to clear it). */
  revoke: tenantProcedure("tenant-admin")
    .input(idInput)
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, async (tx) => {
        await lockTenantMembers(tx, ctx.tenant);
        const [inv] = await tx
          .select()
          .from(tenantInvitations)
          .where(and(eq(tenantInvitations.id, input.id), eq(tenantInvitations.tenantId, ctx.tenant.id)))
          .for("update");
        if (!inv) throw new TRPCError({ code: "NOT_FOUND", message: "That invitation does not exist (it may have been revoked)." });
        if (inv.status !== "pending")
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: `The invitation of ${inv.email} was already ${inv.status}; there is nothing to revoke.`,
          });
        await tx
          .update(tenantInvitations)
          .set({ status: "revoked", closedAt: new Date(), closedBy: ctx.principal.userId })
          .where(eq(tenantInvitations.id, inv.id));
        await audit(tx, ctx, {
          action: "invitation.revoke",
          targetType: "invitation",
          targetId: inv.id,
          targetName: inv.email,
          tenantId: ctx.tenant.id,
          details: { role: inv.role },
        });
        return { id: inv.id, email: inv.email };
      });
    }),

  /** The signed-in user's pending, unexpired invitations (addressed to their e-mail), newest first. */
  mine: sessionOnly.input(newestFirstPageInput.default({ dir: "desc", limit: 50 })).query(async ({ ctx, input }) => {
    const [me] = await ctx.db.select({ email: users.email }).from(users).where(eq(users.id, ctx.principal.userId));
    if (!me) return { items: [], nextCursor: null };
    const query = ctx.db
      .select({
        id: tenantInvitations.id,
        tenantName: tenants.name,
        tenantSlug: tenants.slug,
        role: tenantInvitations.role,
        invitedByName: inviter.name,
        createdAt: tenantInvitations.createdAt,
        expiresAt: tenantInvitations.expiresAt,
      })
      .from(tenantInvitations)
      .innerJoin(tenants, eq(tenants.id, tenantInvitations.tenantId))
      .leftJoin(inviter, eq(inviter.id, tenantInvitations.invitedBy));
    const pending = [eq(tenantInvitations.status, "pending"), gt(tenantInvitations.expiresAt, new Date())] as const;
    return listPage(query, input, listOrder, eq(tenantInvitations.email, me.email.toLowerCase()), ...pending);
  }),

  accept: sessionOnly.input(idInput).mutation(({ ctx, input }) => answer(ctx, input.id, "accept")),

  decline: sessionOnly.input(idInput).mutation(({ ctx, input }) => answer(ctx, input.id, "decline")),
});
