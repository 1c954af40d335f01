// Who am I: the signed-in principal, their tenants, and switching the active tenant in the portal.
import { TRPCError } from "@trpc/server";
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { memberships, sessions, tenants } from "@/db/schema";
import { authedProcedure, createTRPCRouter, publicProcedure } from "../trpc";

export const sessionRouter = createTRPCRouter({
  me: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.principal) return null;
    const rows = await ctx.db
      .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, state: tenants.state, role: memberships.role })
      .from(memberships)
      .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
      .where(eq(memberships.userId, ctx.principal.userId))
      .orderBy(asc(tenants.name));
    return {
      userId: ctx.principal.userId,
      email: ctx.principal.email,
      name: ctx.principal.name,
      platformRole: ctx.principal.platformRole,
      tenants: rows,
    };
  }),

  switchTenant: authedProcedure.input(z.object({ tenant: z.string().min(1).max(63) })).mutation(async ({ ctx, input }) => {
    const [row] = await ctx.db
      .select({ id: tenants.id, slug: tenants.slug })
      .from(tenants)
      .innerJoin(memberships, and(eq(memberships.tenantId, tenants.id), eq(memberships.userId, ctx.principal.userId)))
      .where(eq(tenants.slug, input.tenant));
    if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "Not found." });
    if (ctx.principal.sessionId) await ctx.db.update(sessions).set({ activeTenantId: row.id }).where(eq(sessions.id, ctx.principal.sessionId));
    return row;
  }),
});
