// The signed-in user's own account security: how they sign in (password, two-factor, single sign-on link) and their
// sessions — listed (where, when, which is this one) and revoked one by one or all but this one. For a signed-in
// session only: an API token can't see or end its user's sessions. Changing the password and two-factor go through
// better-auth's own endpoints (/api/auth/change-password, /api/auth/two-factor/*), which check the password.
import { TRPCError } from "@trpc/server";
import { and, desc, eq, gt, lt, ne, or } from "drizzle-orm";
import { z } from "zod";
import { accounts, sessions, users } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { OIDC_PROVIDER_ID, ssoButton } from "@/server/auth/sso";
import { audit } from "@/server/services/audit";
import { decodeCursor, page, pageInput } from "../pagination";
import { authedProcedure, createTRPCRouter } from "../trpc";

const sessionOnly = authedProcedure.use(({ ctx, next }) => {
  if (ctx.principal.tokenScope)
    throw new TRPCError({ code: "FORBIDDEN", message: "API tokens can't manage sign-in or sessions; sign in to the console to do this." });
  return next();
});

/** A short, readable description of a browser's user agent ("Firefox on Linux"); the full string is kept too. */
export function describeUserAgent(ua: string | null): string {
  if (!ua) return "Unknown client";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : /curl\//i.test(ua)
            ? "curl"
            : /node|undici/i.test(ua)
              ? "Script"
              : "Browser";
  const os = /Windows/.test(ua)
    ? "Windows"
    : /Mac OS X|Macintosh/.test(ua)
      ? "macOS"
      : /Android/.test(ua)
        ? "Android"
        : /iPhone|iPad/.test(ua)
          ? "iOS"
          : /Linux/.test(ua)
            ? "Linux"
            : null;
  return os ? `${browser} on ${os}` : browser;
}

export const accountRouter = createTRPCRouter({
  /** What the Account → Security page shows: password, two-factor, SSO link. */
  security: sessionOnly.query(async ({ ctx }) => {
    const [u] = await ctx.db.select({ twoFactorEnabled: users.twoFactorEnabled }).from(users).where(eq(users.id, ctx.principal.userId));
    const rows = await ctx.db.select({ providerId: accounts.providerId }).from(accounts).where(eq(accounts.userId, ctx.principal.userId));
    const sso = ssoButton();
    return {
      hasPassword: rows.some((r) => r.providerId === "credential"),
      twoFactorEnabled: u?.twoFactorEnabled ?? false,
      sso: { linked: rows.some((r) => r.providerId === OIDC_PROVIDER_ID), providerName: sso?.name ?? null },
    };
  }),

  /** The caller's unexpired sessions, most recently active first; `current` marks the one making this call. */
  sessions: sessionOnly.input(pageInput.pick({ cursor: true, limit: true }).default({ limit: 50 })).query(async ({ ctx, input }) => {
    const c = input.cursor ? decodeCursor(input.cursor, sessions.updatedAt, sessions.id) : null;
    const after = c ? or(lt(sessions.updatedAt, c.value as Date), and(eq(sessions.updatedAt, c.value as Date), lt(sessions.id, c.id))) : undefined;
    const rows = await ctx.db
      .select({
        id: sessions.id,
        createdAt: sessions.createdAt,
        lastActiveAt: sessions.updatedAt,
        ...columnsOf(sessions, "expiresAt", "ipAddress", "userAgent"),
      })
      .from(sessions)
      .where(and(eq(sessions.userId, ctx.principal.userId), gt(sessions.expiresAt, new Date()), after))
      .orderBy(desc(sessions.updatedAt), desc(sessions.id))
      .limit(input.limit + 1);
    const items = rows.map((r) => ({ ...r, client: describeUserAgent(r.userAgent), current: r.id === ctx.principal.sessionId }));
    return page(items, input.limit, (r) => r.lastActiveAt);
  }),

  /** Ends one of the caller's sessions (its browser is signed out at its next request; open consoles close). */
  revokeSession: sessionOnly.input(z.object({ id: z.string().min(1).max(100) }).strict()).mutation(async ({ ctx, input }) => {
    return ctx.db.transaction(async (tx) => {
      const gone = await tx
        .delete(sessions)
        .where(and(eq(sessions.id, input.id), eq(sessions.userId, ctx.principal.userId)))
        .returning({ id: sessions.id, userAgent: sessions.userAgent, ipAddress: sessions.ipAddress });
      if (!gone.length) throw new TRPCError({ code: "NOT_FOUND", message: "That session does not exist or has already ended." });
      await audit(tx, ctx, {
        action: "session.revoke",
        targetType: "user",
        targetId: ctx.principal.userId,
        targetName: ctx.principal.email,
        details: { client: describeUserAgent(gone[0]!.userAgent), ipAddress: gone[0]!.ipAddress, current: input.id === ctx.principal.sessionId },
      });
      return { id: input.id, current: input.id === ctx.principal.sessionId };
    });
  }),

  /** Ends every session of the caller except the one making this call. */
  revokeOtherSessions: sessionOnly.mutation(async ({ ctx }) => {
    return ctx.db.transaction(async (tx) => {
      const mine = eq(sessions.userId, ctx.principal.userId);
      const gone = await tx
        .delete(sessions)
        .where(ctx.principal.sessionId ? and(mine, ne(sessions.id, ctx.principal.sessionId)) : mine)
        .returning({ id: sessions.id });
      await audit(tx, ctx, {
        action: "session.revoke_others",
        targetType: "user",
        targetId: ctx.principal.userId,
        targetName: ctx.principal.email,
        details: { sessionsRevoked: gone.length },
      });
      return { sessionsRevoked: gone.length };
    });
  }),
});
