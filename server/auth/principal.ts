// Who is calling: a signed-in user (session cookie) or an API token (Bearer) scoped to a tenant/role.
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { apiTokens, users } from "@/db/schema";
import { parseToken, secretMatches } from "./tokens";

export interface TokenScope {
  platformRole: "operator-admin" | "operator-viewer" | null;
  tenantId: string | null;
  tenantRole: "tenant-admin" | "tenant-member" | null;
}

export interface Principal {
  userId: string;
  email: string;
  name: string;
  platformRole: "operator-admin" | "operator-viewer" | null;
  sessionId: string | null;
  /** Set when the caller authenticated with an API token: the token's scope, never wider than the user's. */
  tokenScope: TokenScope | null;
}

const platformRank = { "operator-viewer": 1, "operator-admin": 2 } as const;
/** last_used_at is written at most this often per token, so a busy script does not write on every call. */
const LAST_USED_EVERY_MS = 60_000;

/**
 * A Bearer token → the principal it stands for, or null (unknown, wrong secret, revoked, expired, or the user is
 * disabled). A platform scope is narrowed to the user's current platform role (a demoted operator's token loses
 * the rights with them); tenant membership and role are re-checked by tenantProcedure on every call.
 */
export async function resolveApiToken(db: Db, token: string): Promise<Principal | null> {
  const parsed = parseToken(token);
  if (!parsed) return null;
  const [row] = await db
    .select({ t: apiTokens, u: { id: users.id, email: users.email, name: users.name, platformRole: users.platformRole, disabled: users.disabled } })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.id, parsed.id));
  if (!row || !secretMatches(parsed.secret, row.t.secretHash)) return null;
  const now = new Date();
  if (row.t.revokedAt || row.t.expiresAt <= now || row.u.disabled) return null;
  let platformRole = row.t.platformRole;
  if (platformRole) {
    const userRole = row.u.platformRole;
    platformRole = !userRole ? null : platformRank[userRole] < platformRank[platformRole] ? userRole : platformRole;
  }
  if (!row.t.lastUsedAt || now.getTime() - row.t.lastUsedAt.getTime() > LAST_USED_EVERY_MS) {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(apiTokens.id, row.t.id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, new Date(now.getTime() - LAST_USED_EVERY_MS)))));
  }
  return {
    userId: row.u.id,
    email: row.u.email,
    name: row.u.name,
    platformRole,
    sessionId: null,
    tokenScope: { platformRole, tenantId: row.t.tenantId, tenantRole: row.t.tenantRole },
  };
}
