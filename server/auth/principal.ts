// Who is calling: a signed-in user (session cookie) or an API token (Bearer) scoped to a tenant/role.
import type { Db } from "@/db/client";

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

/** API tokens arrive with the tenancy issue; until then a Bearer token authenticates nobody. */
export async function resolveApiToken(_db: Db, _token: string): Promise<Principal | null> {
  return null;
}
