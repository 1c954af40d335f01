// Tenancy area: per-user API tokens (scoped to a tenant role or a platform role, hashed, expiring, revocable)
// and per-user SSH public keys (used by provisioning). Tenants and memberships live in core.ts (identity needs them).
import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { platformRole, tenantRole, tenants, users } from "./core";

export const apiTokens = pgTable(
  "api_tokens",
  {
    // The public half of the token (`anv_<id>_<secret>`): looked up by id, then the secret's hash compared.
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // sha256 of the 32-byte random secret (hex). A random token needs no slow hash.
    secretHash: text("secret_hash").notNull(),
    // Scope: a tenant + tenant role, or a platform role (operators); never wider than the user's own.
    tenantId: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    tenantRole: tenantRole("tenant_role"),
    platformRole: platformRole("platform_role"),
    expiresAt: timestamp("expires_at", { withTimezone: true, precision: 3 }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, precision: 3 }),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index("api_tokens_user_idx").on(t.userId, t.createdAt, t.id),
    index("api_tokens_tenant_idx").on(t.tenantId),
    uniqueIndex("api_tokens_user_name_uq").on(t.userId, sql`lower(${t.name})`).where(sql`${t.revokedAt} is null`),
  ],
);

export const sshKeys = pgTable(
  "ssh_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // Normalised "type base64" (the comment is kept separately).
    publicKey: text("public_key").notNull(),
    keyType: text("key_type").notNull(),
    bits: integer("bits").notNull(),
    comment: text("comment"),
    // "SHA256:<base64 without padding>", as `ssh-keygen -lf` prints it.
    fingerprint: text("fingerprint").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index("ssh_keys_user_idx").on(t.userId, t.createdAt, t.id),
    uniqueIndex("ssh_keys_user_fp_uq").on(t.userId, t.fingerprint),
    uniqueIndex("ssh_keys_user_name_uq").on(t.userId, sql`lower(${t.name})`),
  ],
);
