// Who may open which node's serial console. Operators: any host or DPU (operator viewers read-only, as they
// are everywhere else). Tenant users: only hosts that run one of their instances — looked up in the
// `instances` table once the provisioning work has created it; until then every tenant request is refused.
// DPU consoles are never shown to tenants (Ironic's DPU spec: tenants must not reach the card).
import { sql } from "drizzle-orm";
import { type Db, getDb } from "@/db/client";
import type { Principal } from "@/server/auth/principal";

export interface ConsoleNode {
  id: string;
  name: string;
  kind: "host" | "dpu";
}

export type ConsoleAccess =
  | { ok: true; readOnly: boolean; tenantId: string | null }
  | { ok: false; /** WebSocket close code the proxy uses */ code: 4401 | 4403; reason: string };

export const REFUSALS = {
  signIn: "Sign in to open a serial console",
  dpu: "DPU consoles are for operators only",
  notYours: "This server is not one of your instances",
} as const;

/** The caller's effective platform role: an API token's scope when the call is made with one. */
function platformRoleOf(p: Principal): Principal["platformRole"] {
  return p.tokenScope ? p.tokenScope.platformRole : p.platformRole;
}

export async function canOpenConsole(principal: Principal | null, node: ConsoleNode, db: Db = getDb()): Promise<ConsoleAccess> {
  if (!principal) return { ok: false, code: 4401, reason: REFUSALS.signIn };
  const role = platformRoleOf(principal);
  if (role === "operator-admin") return { ok: true, readOnly: false, tenantId: null };
  if (role === "operator-viewer") return { ok: true, readOnly: true, tenantId: null };
  if (node.kind === "dpu") return { ok: false, code: 4403, reason: REFUSALS.dpu };
  const tenantId = await instanceTenantOf(db, node.id);
  if (!tenantId) return { ok: false, code: 4403, reason: REFUSALS.notYours };
  if (principal.tokenScope && principal.tokenScope.tenantId !== tenantId) return { ok: false, code: 4403, reason: REFUSALS.notYours };
  const member = await db.execute<{ role: string }>(
    sql`select m.role from memberships m join tenants t on t.id = m.tenant_id where m.tenant_id = ${tenantId} and m.user_id = ${principal.userId}`,
  );
  if (member.rows.length === 0) return { ok: false, code: 4403, reason: REFUSALS.notYours };
  return { ok: true, readOnly: false, tenantId };
}

/**
 * The tenant whose instance runs on this node, or null. The instances table belongs to the provisioning
 * work and may not exist yet; when it is missing (or shaped differently than DESIGN.md's "instances:
 * tenant, node"), nobody's instance is on the node.
 */
async function instanceTenantOf(db: Db, nodeId: string): Promise<string | null> {
  const has = await db.execute<{ ok: boolean }>(
    sql`select count(*) = 2 as ok from information_schema.columns
        where table_schema = current_schema() and table_name = 'instances' and column_name in ('node_id', 'tenant_id')`,
  );
  if (!has.rows[0]?.ok) return null;
  const deleted = await db.execute<{ ok: boolean }>(
    sql`select count(*) = 1 as ok from information_schema.columns
        where table_schema = current_schema() and table_name = 'instances' and column_name = 'deleted_at'`,
  );
  const rows = deleted.rows[0]?.ok
    ? await db.execute<{ tenant_id: string }>(sql`select tenant_id::text from instances where node_id = ${nodeId} and deleted_at is null limit 1`)
    : await db.execute<{ tenant_id: string }>(sql`select tenant_id::text from instances where node_id = ${nodeId} limit 1`);
  return rows.rows[0]?.tenant_id ?? null;
}
