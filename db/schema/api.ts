// Public REST API bookkeeping: idempotency keys of creates (server/rest/handler.ts). A retried request with the same
// key and the same body gets the first response back instead of acting twice; the same key with another request
// is refused. Rows older than 24 h no longer count (and are swept by housekeeping).
import { integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

export const apiIdempotencyKeys = pgTable(
  "api_idempotency_keys",
  {
    /** Whose key: the API token id or user id (keys are per caller, never shared). */
    principal: text("principal").notNull(),
    key: text("key").notNull(),
    /** "POST /tenants/acme/instances" and a hash of the body: what the key was first used for. */
    request: text("request").notNull(),
    requestHash: text("request_hash").notNull(),
    /** Null while the first request is still running. */
    status: integer("status"),
    body: jsonb("body"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.principal, t.key] })],
);
