// Users (operator console): create/invite with a temporary password shown once, reset password, disable/enable
// (sessions revoked either way), platform roles. An operator admin cannot demote or disable themselves.
import { TRPCError } from "@trpc/server";
import { hashPassword } from "better-auth/crypto";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "@/db/client";
import { accounts, apiTokens, memberships, sessions, sshKeys, tenants, users } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { passwordRule, platformRoleInput, userCreateSchema, userSortKeys } from "@/db/validation/tenancy";
import { audit } from "@/server/services/audit";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { matchesText } from "@/server/lib/like";
import { createUserInTx, temporaryPassword, userUniques } from "@/server/services/users";
import { transact } from "../transact";

const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "That user does not exist." });

/** Ends every session of the user now; how many there were. */
async function endSessions(tx: Tx, userId: string): Promise<number> {
  return (await tx.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id })).length;
}

/** The audit row of an operator's action on a user (named by e-mail). */
function auditUser(tx: Tx, ctx: Parameters<typeof audit>[1], u: { id: string; email: string }, action: string, details: Record<string, unknown>) {
  return audit(tx, ctx, { action, targetType: "user", targetId: u.id, targetName: u.email, details });
}

async function lockUser(tx: Tx, id: string) {
  const [u] = await tx.select().from(users).where(eq(users.id, id)).for("update");
  if (!u) throw notFound();
  return u;
}

const userColumns = {
  ...columnsOf(users, "id", "email", "name", "platformRole", "disabled", "createdAt"),
  tenantCount: sql<number>`(select count(*)::int from ${memberships} where ${memberships.userId} = ${users.id})`,
};

export const usersRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(
      pageInput.extend({
        q: z.string().trim().max(100).optional(),
        role: z.enum(["operator-admin", "operator-viewer", "operator", "none"]).optional(),
        disabled: z.boolean().optional(),
        sort: z.enum(userSortKeys).default("email"),
      }),
    )
    .query(async ({ ctx, input }) => {
      const role =
        input.role === "none"
          ? isNull(users.platformRole)
          : input.role === "operator"
            ? isNotNull(users.platformRole)
            : input.role
              ? eq(users.platformRole, input.role)
              : undefined;
      const order = { sort: { email: users.email, name: users.name, createdAt: users.createdAt }, id: users.id };
      const disabled = input.disabled === undefined ? undefined : eq(users.disabled, input.disabled);
      return listPage(ctx.db.select(userColumns).from(users), input, order, matchesText(input.q, users.email, users.name), role, disabled);
    }),

  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.string().min(1).max(100) }))
    .query(async ({ ctx, input }) => {
      const [u] = await ctx.db.select(userColumns).from(users).where(eq(users.id, input.id));
      if (!u) throw notFound();
      const tenantRows = await ctx.db
        .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, role: memberships.role })
        .from(memberships)
        .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
        .where(eq(memberships.userId, u.id))
        .orderBy(tenants.name);
      const [{ n: activeSessions }] = (await ctx.db
        .select({ n: sql<number>`count(*)::int` })
        .from(sessions)
        .where(and(eq(sessions.userId, u.id), sql`${sessions.expiresAt} > now()`))) as [{ n: number }];
      const [{ n: keys }] = (await ctx.db.select({ n: sql<number>`count(*)::int` }).from(sshKeys).where(eq(sshKeys.userId, u.id))) as [{ n: number }];
      return { ...u, tenants: tenantRows, activeSessions, sshKeys: keys };
    }),

  create: operatorProcedure("operator-admin")
    .input(userCreateSchema)
    .mutation(async ({ ctx, input }) => {
      const password = input.password ?? temporaryPassword();
      return transact(
        ctx.db,
        async (tx) => {
          const row = await createUserInTx(tx, { email: input.email, name: input.name, password, platformRole: input.platformRole });
          await auditUser(tx, ctx, row, "user.create", { platformRole: input.platformRole, generatedPassword: !input.password });
          // The password is returned this once and never stored or logged in clear.
          return { user: { id: row.id, email: row.email, name: row.name, platformRole: row.platformRole }, temporaryPassword: password };
        },
        userUniques,
      );
    }),

  resetPassword: operatorProcedure("operator-admin")
    .input(z.object({ id: z.string().min(1).max(100), password: passwordRule.optional() }).strict())
    .mutation(async ({ ctx, input }) => {
      const password = input.password ?? temporaryPassword();
      const hash = await hashPassword(password);
      return ctx.db.transaction(async (tx) => {
        const u = await lockUser(tx, input.id);
        const updated = await tx
          .update(accounts)
          .set({ password: hash })
          .where(and(eq(accounts.userId, u.id), eq(accounts.providerId, "credential")))
          .returning({ id: accounts.id });
        if (updated.length === 0)
          await tx.insert(accounts).values({ id: crypto.randomUUID(), accountId: u.id, providerId: "credential", userId: u.id, password: hash });
        const revoked = await endSessions(tx, u.id);
        await auditUser(tx, ctx, u, "user.reset_password", { sessionsRevoked: revoked });
        return { id: u.id, temporaryPassword: password, sessionsRevoked: revoked };
      });
    }),

  setDisabled: operatorProcedure("operator-admin")
    .input(z.object({ id: z.string().min(1).max(100), disabled: z.boolean() }).strict())
    .mutation(async ({ ctx, input }) => {
      if (input.disabled && input.id === ctx.principal.userId)
        throw new TRPCError({ code: "PRECONDITION_FAILED", message: "You can't disable your own account; ask another operator admin." });
      return ctx.db.transaction(async (tx) => {
        const u = await lockUser(tx, input.id);
        await tx.update(users).set({ disabled: input.disabled }).where(eq(users.id, u.id));
        // Disabling ends every session now (sign-in is refused in auth.ts); tokens stop resolving for disabled users.
        const revoked = input.disabled ? await endSessions(tx, u.id) : 0;
        await auditUser(tx, ctx, u, input.disabled ? "user.disable" : "user.enable", { sessionsRevoked: revoked });
        return { id: u.id, disabled: input.disabled, sessionsRevoked: revoked };
      });
    }),

  /**
   * "Sign out everywhere": ends every session of the user now (their browsers are signed out at the next request and
   * their open consoles close — the console proxy re-checks on session deletion). API tokens are not sessions and keep
   * working; revoke them or disable the user to stop those too.
   */
  signOutEverywhere: operatorProcedure("operator-admin")
    .input(z.object({ id: z.string().min(1).max(100) }).strict())
    .mutation(async ({ ctx, input }) => {
      return ctx.db.transaction(async (tx) => {
        const u = await lockUser(tx, input.id);
        const revoked = await endSessions(tx, u.id);
        await auditUser(tx, ctx, u, "user.sign_out_everywhere", { sessionsRevoked: revoked });
        return { id: u.id, sessionsRevoked: revoked };
      });
    }),

  setPlatformRole: operatorProcedure("operator-admin")
    .input(z.object({ id: z.string().min(1).max(100), role: platformRoleInput }).strict())
    .mutation(async ({ ctx, input }) => {
      if (input.id === ctx.principal.userId && input.role !== "operator-admin")
        throw new TRPCError({ code: "PRECONDITION_FAILED", message: "You can't remove your own operator admin role; ask another operator admin." });
      return ctx.db.transaction(async (tx) => {
        const u = await lockUser(tx, input.id);
        // A role set here is a hand grant: single sign-on will not change it (server/auth/sso.ts).
        await tx.update(users).set({ platformRole: input.role, platformRoleFromSso: false }).where(eq(users.id, u.id));
        // Platform-scoped tokens are narrowed to the user's current role when used (principal.ts); a user with
        // no platform role left has no use for them, so they are revoked.
        if (!input.role)
          await tx
            .update(apiTokens)
            .set({ revokedAt: new Date() })
            .where(and(eq(apiTokens.userId, u.id), isNotNull(apiTokens.platformRole), isNull(apiTokens.revokedAt)));
        await auditUser(tx, ctx, u, "user.set_platform_role", { from: u.platformRole, to: input.role });
        return { id: u.id, platformRole: input.role };
      });
    }),
});
