// Identity area: users and the tables better-auth keeps for them (sessions, accounts, verifications, two-factor,
// login rate limits), and the platform and tenant roles. Uniqueness lives here as constraints.
import { bigint, boolean, index, integer, pgEnum, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { instant, timestamps } from "./columns";

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
  ...timestamps(),
});

/** The user a row belongs to: deleted with the user. */
export const userRef = () =>
  text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" });

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    expiresAt: instant("expires_at").notNull(),
    token: text("token").notNull().unique(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: userRef(),
    // The tenant the user last switched to in the portal (null for operators).
    activeTenantId: uuid("active_tenant_id"),
    ...timestamps(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const accounts = pgTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: userRef(),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: instant("access_token_expires_at"),
    refreshTokenExpiresAt: instant("refresh_token_expires_at"),
    scope: text("scope"),
    password: text("password"),
    ...timestamps(),
  },
  (t) => [index("accounts_user_idx").on(t.userId)],
);

export const verifications = pgTable("verifications", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull(),
  value: text("value").notNull(),
  expiresAt: instant("expires_at").notNull(),
  ...timestamps(),
});

// TOTP two-factor (better-auth's twoFactor plugin): the secret and backup codes, both encrypted by better-auth with
// the auth secret; `verified` is false between enabling and the first correct code.
export const twoFactors = pgTable(
  "two_factors",
  {
    id: text("id").primaryKey(),
    secret: text("secret").notNull(),
    backupCodes: text("backup_codes").notNull(),
    userId: userRef(),
    verified: boolean("verified").notNull().default(true),
    failedVerificationCount: integer("failed_verification_count").notNull().default(0),
    lockedUntil: instant("locked_until"),
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
