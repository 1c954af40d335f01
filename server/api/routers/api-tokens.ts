// API tokens of the signed-in user: create (scoped to one tenant and a tenant role no wider than the user's, or
// to a platform role no wider than the user's; expiring within a year; the token shown once), list, revoke.
// Tokens are managed from a signed-in session only: a token can't mint or revoke tokens.
import { TRPCError } from "@trpc/server";
import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { z } from "zod";
import { apiTokens, memberships, tenants } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { apiTokenCreateSchema } from "@/db/validation/tenancy";
import { newToken } from "@/server/auth/tokens";
import { audit } from "@/server/services/audit";
import { fieldError } from "../errors";
import { decodeCursor, page, pageInput } from "../pagination";
import { authedProcedure, createTRPCRouter } from "../trpc";
import { transact } from "../transact";

const DAY_MS = 86_400_000;
const tenantRank = { "tenant-member": 1, "tenant-admin": 2 } as const;
const platformRank = { "operator-viewer": 1, "operator-admin": 2 } as const;

const sessionOnly = authedProcedure.use(({ ctx, next }) => {
  if (ctx.principal.tokenScope) throw new TRPCError({ code: "FORBIDDEN", message: "API tokens can't manage API tokens; sign in to the console to do this." });
  return next();
});

export const apiTokensRouter = createTRPCRouter({
  list: authedProcedure.input(pageInput.pick({ cursor: true, limit: true }).default({ limit: 50 })).query(async ({ ctx, input }) => {
    // Newest first; keyset on (created_at, id) descending.
    const c = input.cursor ? decodeCursor(input.cursor, apiTokens.createdAt, apiTokens.id) : null;
    const after = c ? or(lt(apiTokens.createdAt, c.value as Date), and(eq(apiTokens.createdAt, c.value as Date), lt(apiTokens.id, c.id))) : undefined;
    const rows = await ctx.db
      .select({
        ...columnsOf(apiTokens, "id", "name", "tenantId"),
        tenantSlug: tenants.slug,
        tenantName: tenants.name,
        ...columnsOf(apiTokens, "tenantRole", "platformRole", "expiresAt", "revokedAt", "lastUsedAt", "createdAt"),
      })
      .from(apiTokens)
      .leftJoin(tenants, eq(tenants.id, apiTokens.tenantId))
      .where(and(eq(apiTokens.userId, ctx.principal.userId), after))
      .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id))
      .limit(input.limit + 1);
    const now = Date.now();
    const items = rows.map((r) => ({ ...r, status: r.revokedAt ? "revoked" : r.expiresAt.getTime() <= now ? "expired" : "active" }) as const);
    return page(items, input.limit, (r) => r.createdAt);
  }),

  create: sessionOnly.input(apiTokenCreateSchema).mutation(async ({ ctx, input }) => {
    const p = ctx.principal;
    let scope: { tenantId: string | null; tenantRole: "tenant-admin" | "tenant-member" | null; platformRole: "operator-admin" | "operator-viewer" | null };
    let scopeLabel: string;
    if (input.scope.kind === "tenant") {
      const [m] = await ctx.db
        .select({ id: tenants.id, slug: tenants.slug, role: memberships.role })
        .from(tenants)
        .innerJoin(memberships, and(eq(memberships.tenantId, tenants.id), eq(memberships.userId, p.userId)))
        .where(eq(tenants.slug, input.scope.tenant));
      if (!m) throw fieldError("scope.tenant", "You are not a member of that tenant.", "NOT_FOUND");
      if (tenantRank[input.scope.role] > tenantRank[m.role])
        throw fieldError("scope.role", "A token can't have a wider role than yours in the tenant; choose tenant-member.", "FORBIDDEN");
      scope = { tenantId: m.id, tenantRole: input.scope.role, platformRole: null };
      scopeLabel = `${m.slug}:${input.scope.role}`;
    } else {
      if (!p.platformRole) throw fieldError("scope.role", "Only operators can create operator tokens.", "FORBIDDEN");
      if (platformRank[input.scope.role] > platformRank[p.platformRole])
        throw fieldError("scope.role", "A token can't have a wider role than yours; choose operator-viewer.", "FORBIDDEN");
      scope = { tenantId: null, tenantRole: null, platformRole: input.scope.role };
      scopeLabel = input.scope.role;
    }
    const t = newToken();
    const expiresAt = new Date(Date.now() + input.expiresInDays * DAY_MS);
    return transact(
      ctx.db,
      async (tx) => {
        const [row] = await tx
          .insert(apiTokens)
          .values({ id: t.id, userId: p.userId, name: input.name, secretHash: t.secretHash, expiresAt, ...scope })
          .returning({ id: apiTokens.id, name: apiTokens.name, expiresAt: apiTokens.expiresAt, createdAt: apiTokens.createdAt });
        await audit(tx, ctx, {
          action: "api_token.create",
          targetType: "api_token",
          targetId: t.id,
          targetName: input.name,
          tenantId: scope.tenantId,
          details: { scope: scopeLabel, expiresAt: expiresAt.toISOString() },
        });
        // The whole token exists only in this response.
        return { ...row!, token: t.token, scope: scopeLabel };
      },
      { api_tokens_user_name_uq: { field: "name", message: "You already have an active token with this name." } },
    );
  }),

  revoke: sessionOnly.input(z.object({ id: z.string().min(1).max(64) })).mutation(({ ctx, input }) =>
    ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .update(apiTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiTokens.id, input.id), eq(apiTokens.userId, ctx.principal.userId), isNull(apiTokens.revokedAt)))
        .returning();
      if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "No active token of yours has that id." });
      await audit(tx, ctx, { action: "api_token.revoke", targetType: "api_token", targetId: row.id, targetName: row.name, tenantId: row.tenantId });
      return { id: row.id };
    }),
  ),
});
