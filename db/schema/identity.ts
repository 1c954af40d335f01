// Identity area: users and the tables better-auth keeps for them (sessions, accounts, verifications, two-factor,
// login rate limits), and the platform and tenant roles. Uniqueness lives here as constraints.
import { bigint, boolean, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, updatedAt } from "./columns";

// Identity (the first four tables are the shape better-auth expects; see server/auth/auth.ts)
export const platformRole = pgEnum("platform_role", ["operator-admin", "operator-viewer"]);
export const tenantRole = pgEnum("tenant_role", ["tenant-admin", "tenant-member"]);
// Who granted a membership: an operator or tenant admin by hand, or single sign-on from the user's IdP groups
// (re-synced at every SSO sign-in; hand grants are never changed by SSO — server/auth/sso.ts).
export const grantSource = pgEnum("grant_source", ["manual", "sso"]);

export const users = pgTable("users", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: boolean("email_verified").notNull().default(false),
  image: text("image"),
  platformRole: platformRole("platform_role"),
  // True when platform_role was set by single sign-on (from the IdP's groups), so the next SSO sign-in may change or
  // clear it; a role set by hand (false) is never touched by SSO.
  platformRoleFromSso: boolean("platform_role_from_sso").notNull().default(false),
  disabled: boolean("disabled").notNull().default(false),
  // better-auth's twoFactor plugin: set once a TOTP authenticator has been verified (two_factors holds the secret).
  twoFactorEnabled: boolean("two_factor_enabled").notNull().default(false),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    expiresAt: timestamp("expires_at", { withTimezone: true, precision: 3 }).notNull(),
    token: text("token").notNull().unique(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // The tenant the user last switched to in the portal (null for operators).
    activeTenantId: uuid("active_tenant_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const accounts = pgTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true, precision: 3 }),
    refreshTokenExpiresAt: timestamp("refresh_token_expires_at", { withTimezone: true, precision: 3 }),
    scope: text("scope"),
    password: text("password"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("accounts_user_idx").on(t.userId)],
);

export const verifications = pgTable("verifications", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull(),
  value: text("value").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, precision: 3 }).notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

// TOTP two-factor (better-auth's twoFactor plugin): the secret and backup codes, both encrypted by better-auth with
// the auth secret; `verified` is false between enabling and the first correct code.
export const twoFactors = pgTable(
  "two_factors",
  {
    id: text("id").primaryKey(),
    secret: text("secret").notNull(),
    backupCodes: text("backup_codes").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    verified: boolean("verified").notNull().default(true),
    failedVerificationCount: integer("failed_verification_count").notNull().default(0),
    lockedUntil: timestamp("locked_until", { withTimezone: true, precision: 3 }),
  },
  (t) => [uniqueIndex("two_factors_user_uq").on(t.userId)],
);

// Login rate limiting (better-auth's database storage).
export const rateLimits = pgTable("rate_limits", {
  id: text("id").primaryKey(),
  key: text("key").notNull().unique(),
  count: integer("count").notNull(),
  lastRequest: bigint("last_request", { mode: "number" }).notNull(),
});
