// Webhooks: HTTPS endpoints tenants and operators register for events. Events are written to an outbox by triggers
// (migration 0017: an instance's state changes, an operation ends, a node's fault is raised or cleared), fanned out to
// the matching webhooks as deliveries, and each delivery is POSTed, HMAC-signed, by a durable workflow that retries
// with backoff (server/webhooks/, server/workflows/webhooks.ts). A tenant's webhooks get only its own events.
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, instant, uuidPk, timestamps } from "./columns";
import { tenants } from "./tenancy";

export const webhooks = pgTable(
  "webhooks",
  {
    id: uuidPk(),
    /** The tenant whose events it receives; null = a platform webhook (operators), which gets every event. */
    tenantId: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    url: text("url").notNull(),
    /** Event types it wants (instance.state_changed, operation.succeeded, operation.failed, node.fault). */
    events: jsonb("events").$type<string[]>().notNull(),
    /** The signing secret, sealed (server/lib/secrets.ts); shown once at creation. */
    secret: text("secret").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdBy: text("created_by"),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("webhooks_owner_name_uq").on(sql`coalesce(${t.tenantId}, '00000000-0000-0000-0000-000000000000'::uuid)`, sql`lower(${t.name})`),
    index("webhooks_tenant_idx").on(t.tenantId),
  ],
);

/** The outbox the triggers write; the dispatcher turns each event into deliveries once. */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    type: text("type").notNull(),
    tenantId: uuid("tenant_id"),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    dispatched: boolean("dispatched").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_events_pending_idx").on(t.id).where(sql`not ${t.dispatched}`)],
);

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuidPk(),
    webhookId: uuid("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: bigint("event_id", { mode: "number" }).notNull(),
    type: text("type").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    /** pending → delivered | failed (after the last retry). */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    responseStatus: integer("response_status"),
    /** The first KiB of the last response body, or the connection error. */
    responseBody: text("response_body"),
    error: text("error"),
    lastAttemptAt: instant("last_attempt_at"),
    deliveredAt: instant("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("webhook_deliveries_once_uq").on(t.webhookId, t.eventId), index("webhook_deliveries_webhook_idx").on(t.webhookId, t.createdAt, t.id)],
);
