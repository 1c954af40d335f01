// Audit area: one row per mutation, written in the same transaction as the change (server/api/audit.ts).
import { index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { instant, uuidPk } from "./columns";

// Audit: one row per mutation, written in the same transaction as the change.
export const auditEvents = pgTable(
  "audit_events",
  {
    id: uuidPk(),
    at: instant("at").notNull().defaultNow(),
    actorUserId: text("actor_user_id"),
    actorEmail: text("actor_email"),
    tenantId: uuid("tenant_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    targetName: text("target_name"),
    requestId: text("request_id"),
    details: jsonb("details").$type<Record<string, unknown>>(),
  },
  (t) => [
    index("audit_at_idx").on(t.at, t.id),
    index("audit_tenant_idx").on(t.tenantId, t.at),
    index("audit_action_idx").on(t.action),
    // A tenant's activity log filtered by action or by person, newest first (server/api/routers/activity.ts).
    index("audit_tenant_action_idx").on(t.tenantId, t.action, t.at, t.id),
    index("audit_tenant_actor_idx").on(t.tenantId, t.actorEmail, t.at, t.id),
  ],
);
