// Who may open which serial console, and under which grant. Operators: any host or DPU (operator viewers
// read-only, as they are everywhere else). Tenant users: only a host that runs one of their instances, and only
// while that instance stays on it — the grant records the instance and the node's console epoch (a counter the
// database bumps at every handover of the host, db/schema/console.ts), and the proxy re-checks the grant on a
// short interval and on every revocation notice, ending the session the moment it no longer holds. A suspended
// tenant's consoles are closed. DPU consoles are never shown to tenants (Ironic's DPU spec).
import { sql } from "drizzle-orm";
import { type Db, getDb } from "@/db/client";
import type { Principal } from "@/server/auth/principal";

export interface ConsoleNode {
  id: string;
  name: string;
  kind: "host" | "dpu";
}

export type ConsoleAccess =
  | {
      ok: true;
      readOnly: boolean;
      /** The tenant whose instance the grant is for; null for operators. */
      tenantId: string | null;
      /** The instance a tenant's grant is tied to (null for operators). */
      instance: { id: string; name: string } | null;
      /** The node's console epoch when the grant was made: a handover of the host moves it and ends the grant. */
      epoch: number;
    }
  | { ok: false /** WebSocket close code the proxy uses */; code: 4401 | 4403 | 4404; reason: string };

export const REFUSALS = {
  signIn: "Sign in to open a serial console",
  dpu: "DPU consoles are for operators only",
  notYours: "This server is not one of your instances",
  noInstance: "No such instance",
} as const;

/** The caller's effective platform role: an API token's scope when the call is made with one. */
export function platformRoleOf(p: Principal): Principal["platformRole"] {
  return p.tokenScope ? p.tokenScope.platformRole : p.platformRole;
}

/** The node's console epoch (0 until its first handover). */
export async function consoleEpoch(db: Db, nodeId: string): Promise<number> {
  const r = await db.execute<{ epoch: string }>(sql`select epoch::text from console_epochs where node_id = ${nodeId}`);
  return Number(r.rows[0]?.epoch ?? 0);
}

type InstanceOnNode = {
  id: string;
  name: string;
  tenant_id: string;
  tenant_name: string;
  tenant_state: string;
  epoch: string;
};

/** The not-deleted instance on a node (at most one: instances_node_uq), its tenant, and the node's epoch — one read. */
async function instanceOn(db: Db, nodeId: string): Promise<InstanceOnNode | null> {
  const r = await db.execute<InstanceOnNode>(
    sql`select i.id::text, i.name, i.tenant_id::text, t.name as tenant_name, t.state::text as tenant_state,
               coalesce((select e.epoch from console_epochs e where e.node_id = i.node_id), 0)::text as epoch
          from instances i join tenants t on t.id = i.tenant_id
         where i.node_id = ${nodeId} and i.deleted_at is null
         limit 1`,
  );
  return r.rows[0] ?? null;
}

/**
 * May this caller open this node's console? `viaInstance` is the instance the caller asked for (the instance form
 * of the console URL): a tenant's grant then holds only while that very instance is on the node.
 */
export async function canOpenConsole(principal: Principal | null, node: ConsoleNode, db: Db = getDb(), viaInstance?: string): Promise<ConsoleAccess> {
  if (!principal) return { ok: false, code: 4401, reason: REFUSALS.signIn };
  const role = platformRoleOf(principal);
  if (role === "operator-admin" || role === "operator-viewer") {
    return { ok: true, readOnly: role === "operator-viewer", tenantId: null, instance: null, epoch: await consoleEpoch(db, node.id) };
  }
  const notYours = viaInstance
    ? ({ ok: false, code: 4404, reason: REFUSALS.noInstance } as const)
    : ({ ok: false, code: 4403, reason: REFUSALS.notYours } as const);
  if (node.kind === "dpu") return viaInstance ? notYours : { ok: false, code: 4403, reason: REFUSALS.dpu };
  const inst = await instanceOn(db, node.id);
  if (!inst || (viaInstance && inst.id !== viaInstance)) return notYours;
  if (principal.tokenScope && principal.tokenScope.tenantId !== inst.tenant_id) return notYours;
  const member = await db.execute(sql`select 1 from memberships where tenant_id = ${inst.tenant_id} and user_id = ${principal.userId}`);
  if (member.rows.length === 0) return notYours;
  if (inst.tenant_state === "suspended")
    return { ok: false, code: 4403, reason: `Tenant ${inst.tenant_name} is suspended: its consoles are closed until an operator resumes it` };
  return { ok: true, readOnly: false, tenantId: inst.tenant_id, instance: { id: inst.id, name: inst.name }, epoch: Number(inst.epoch) };
}
