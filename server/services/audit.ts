// Writes one audit row per mutation, inside the caller's transaction (so a rolled-back change leaves none).
import type { Tx } from "@/db/client";
import { auditEvents } from "@/db/schema";
import type { Principal } from "@/server/auth/principal";

export interface AuditEntry {
  action: string; // "<resource>.<verb>", e.g. "pool.create"
  targetType: string;
  targetId?: string | null;
  targetName?: string | null;
  tenantId?: string | null;
  details?: Record<string, unknown>;
}

export async function audit(tx: Tx, ctx: { principal: Principal | null; requestId: string }, entry: AuditEntry): Promise<void> {
  await tx.insert(auditEvents).values({
    actorUserId: ctx.principal?.userId ?? null,
    actorEmail: ctx.principal?.email ?? null,
    tenantId: entry.tenantId ?? null,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    targetName: entry.targetName ?? null,
    requestId: ctx.requestId,
    details: entry.details ?? null,
  });
}
