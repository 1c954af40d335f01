// Tenancy area: tenants and memberships, per-user API tokens (scoped to a tenant role or a platform role, hashed,
// expiring, revocable), per-user SSH public keys (used by provisioning) and invitations to join a tenant.
import { sql } from "drizzle-orm";
import { check, index, integer, pgEnum, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, instant, uuidPk, timestamps } from "./columns";
import { grantSource, platformRole, tenantRole, userRef, users } from "./identity";

// Tenancy
export const tenantState = pgEnum("tenant_state", ["active", "suspended"]);

export const tenants = pgTable("tenants", {
  id: uuidPk(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  state: tenantState("state").notNull().default("active"),
  ...timestamps(),
});

/** The owning tenant of a tenant's resource: deleted with the tenant. */
export const tenantRef = () =>
  uuid("tenant_id")
    .notNull()
    .references(() => tenants.id, { onDelete: "cascade" });

export const memberships = pgTable(
  "memberships",
  {
    tenantId: tenantRef(),
    userId: userRef(),
    role: tenantRole("role").notNull(),
    source: grantSource("source").notNull().default("manual"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), index("memberships_user_idx").on(t.userId)],
);

export const apiTokens = pgTable(
  "api_tokens",
  {
    // The public half of the token (`anv_<id>_<secret>`): looked up by id, then the secret's hash compared.
    id: text("id").primaryKey(),
    userId: userRef(),
    name: text("name").notNull(),
    // sha256 of the 32-byte random secret (hex). A random token needs no slow hash.
    secretHash: text("secret_hash").notNull(),
    // Scope: a tenant + tenant role, or a platform role (operators); never wider than the user's own.
    tenantId: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    tenantRole: tenantRole("tenant_role"),
    platformRole: platformRole("platform_role"),
    expiresAt: instant("expires_at").notNull(),
    revokedAt: instant("revoked_at"),
    lastUsedAt: instant("last_used_at"),
    createdAt: createdAt(),
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
    id: uuidPk(),
    userId: userRef(),
    name: text("name").notNull(),
    // Normalised "type base64" (the comment is kept separately).
    publicKey: text("public_key").notNull(),
    keyType: text("key_type").notNull(),
    bits: integer("bits").notNull(),
    comment: text("comment"),
    // "SHA256:<base64 without padding>", as `ssh-keygen -lf` prints it.
    fingerprint: text("fingerprint").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("ssh_keys_user_idx").on(t.userId, t.createdAt, t.id),
    uniqueIndex("ssh_keys_user_fp_uq").on(t.userId, t.fingerprint),
    uniqueIndex("ssh_keys_user_name_uq").on(t.userId, sql`lower(${t.name})`),
  ],
);

export const invitationStatus = pgEnum("invitation_status", ["pending", "accepted", "declined", "revoked", "expired"]);

/**
 * A tenant admin's invitation of an e-mail address into their tenant: the person joins only when they accept it
 * (signed in with that address). Addressed to an e-mail, not a user, so inviting says nothing about whether an
 * account exists. A pending invitation past `expires_at` counts as expired (the status is brought up to date when
 * the address is invited again); at most one pending invitation per tenant and address.
 */
export const tenantInvitations = pgTable(
  "tenant_invitations",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    // Lower-case, as users.email is stored.
    email: text("email").notNull(),
    role: tenantRole("role").notNull(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    status: invitationStatus("status").notNull().default("pending"),
    createdAt: createdAt(),
    expiresAt: instant("expires_at").notNull(),
    // When and by whom it stopped being pending (accepted, declined, revoked).
    closedAt: instant("closed_at"),
    closedBy: text("closed_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [
    uniqueIndex("tenant_invitations_pending_uq").on(t.tenantId, t.email).where(sql`${t.status} = 'pending'`),
    index("tenant_invitations_tenant_idx").on(t.tenantId, t.status, t.createdAt, t.id),
    index("tenant_invitations_email_idx").on(t.email, t.createdAt, t.id).where(sql`${t.status} = 'pending'`),
    check("tenant_invitations_email_lower", sql`${t.email} = lower(${t.email})`),
    check("tenant_invitations_expiry", sql`${t.expiresAt} > ${t.createdAt}`),
  ],
);
