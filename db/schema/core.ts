// The Postgres schema (drizzle). One schema for the whole product; migrations in db/migrations are
// generated from this file by drizzle-kit (`npm run db:generate`) and applied at start.
// Uniqueness and exclusivity live here as constraints, not in application checks.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  check,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, updatedAt } from "./columns";


// ---------------------------------------------------------------------------------------------
// Identity (the first four tables are the shape better-auth expects; see server/auth/auth.ts)
// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Tenancy
// ---------------------------------------------------------------------------------------------
export const tenantState = pgEnum("tenant_state", ["active", "suspended"]);

export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  state: tenantState("state").notNull().default("active"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const memberships = pgTable(
  "memberships",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: tenantRole("role").notNull(),
    source: grantSource("source").notNull().default("manual"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), index("memberships_user_idx").on(t.userId)],
);

// ---------------------------------------------------------------------------------------------
// Audit: one row per mutation, written in the same transaction as the change.
// ---------------------------------------------------------------------------------------------
export const auditEvents = pgTable(
  "audit_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
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

// ---------------------------------------------------------------------------------------------
// Bare-metal pools and nodes
// ---------------------------------------------------------------------------------------------
export const pools = pgTable(
  "pools",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    // The hardware class every host of the pool belongs to, e.g. "bm.gpu.a100".
    resourceClass: text("resource_class").notNull(),
    // The flavour's largest system volume: an instance (or an image's minimum) above it does not fit this pool.
    maxSystemVolumeGiB: integer("max_system_volume_gib").notNull().default(2048),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("pools_name_uq").on(sql`lower(${t.name})`),
    index("pools_created_idx").on(t.createdAt, t.id),
    check("pools_max_system_volume", sql`${t.maxSystemVolumeGiB} between 1 and 65536`),
  ],
);

export const nodeKind = pgEnum("node_kind", ["host", "dpu"]);
export const bmcDriver = pgEnum("bmc_driver", ["redfish", "ipmi"]);

export const nodes = pgTable(
  "nodes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    kind: nodeKind("kind").notNull().default("host"),
    // A DPU is a child of its host (Ironic's parent/child model); deleted with it.
    parentNodeId: uuid("parent_node_id").references((): any => nodes.id, { onDelete: "cascade" }),
    poolId: uuid("pool_id").references(() => pools.id, { onDelete: "restrict" }),
    bmcDriver: bmcDriver("bmc_driver").notNull(),
    bmcAddress: text("bmc_address").notNull(),
    bmcVerifyTls: boolean("bmc_verify_tls").notNull().default(true),
    // AES-256-GCM sealed {username,password}; never leaves the server.
    bmcCredentials: text("bmc_credentials").notNull(),
    bmcCredentialsFingerprint: text("bmc_credentials_fingerprint").notNull(),
    provisionState: text("provision_state").notNull().default("enroll"),
    powerState: text("power_state").notNull().default("unknown"),
    health: text("health").notNull().default("unknown"),
    maintenance: boolean("maintenance").notNull().default(false),
    maintenanceReason: text("maintenance_reason"),
    fault: text("fault"),
    lastError: text("last_error"),
    inventory: jsonb("inventory").$type<Record<string, unknown>>(),
    dedicatedPower: boolean("dedicated_power").notNull().default(false),
    // DPU agent endpoint and its per-agent token (sealed like BMC credentials).
    agentUrl: text("agent_url"),
    agentToken: text("agent_token"),
    agentStatus: text("agent_status").notNull().default("unknown"),
    agentHeartbeatAt: timestamp("agent_heartbeat_at", { withTimezone: true, precision: 3 }),
    // Set when Anvil last heard from the BMC (any successful call).
    bmcSeenAt: timestamp("bmc_seen_at", { withTimezone: true, precision: 3 }),
    powerChangedAt: timestamp("power_changed_at", { withTimezone: true, precision: 3 }),
    inspectedAt: timestamp("inspected_at", { withTimezone: true, precision: 3 }),
    // Which poll shard the node belongs to (spreads BMC polling across workers and time).
    syncShard: integer("sync_shard").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("nodes_name_uq").on(t.name),
    uniqueIndex("nodes_bmc_address_uq").on(t.bmcAddress),
    index("nodes_pool_idx").on(t.poolId),
    index("nodes_parent_idx").on(t.parentNodeId),
    index("nodes_state_idx").on(t.provisionState),
    index("nodes_list_idx").on(t.kind, t.name, t.id),
    index("nodes_power_idx").on(t.powerState),
    index("nodes_health_idx").on(t.health),
    index("nodes_shard_idx").on(t.syncShard),
    index("nodes_fault_idx").on(t.id).where(sql`${t.fault} is not null`),
  ],
);

// Hardware events: SEL entries, power and health changes, faults, agent heartbeats lost, firmware steps.
export const hardwareEvents = pgTable(
  "hardware_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    nodeId: uuid("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    kind: text("kind").notNull(), // sel | power | health | fault | agent | firmware | lifecycle | console
    severity: text("severity").notNull(), // info | ok | warning | critical
    message: text("message").notNull(),
    // For SEL entries: the BMC's entry id, so re-reading the log never duplicates.
    sourceId: text("source_id"),
    details: jsonb("details").$type<Record<string, unknown>>(),
  },
  (t) => [
    index("hwevents_at_idx").on(t.at, t.id),
    index("hwevents_node_idx").on(t.nodeId, t.at),
    index("hwevents_sev_idx").on(t.severity, t.at),
    uniqueIndex("hwevents_source_uq").on(t.nodeId, t.kind, t.sourceId),
  ],
);

// Operations: the user-visible progress of a workflow (steps, current step, error), one per workflow run.
export const operations = pgTable(
  "operations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: text("kind").notNull(), // e.g. node.inspect, node.enroll_bulk, dpu.firmware_update, instance.create
    status: text("status").notNull().default("pending"), // pending | running | succeeded | failed | cancelled
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    targetName: text("target_name"),
    tenantId: uuid("tenant_id"),
    createdBy: text("created_by"),
    steps: jsonb("steps")
      .$type<{ name: string; status: "pending" | "running" | "done" | "failed" | "skipped" | "compensated"; startedAt?: string; endedAt?: string; error?: string; detail?: string }[]>()
      .notNull()
      .default([]),
    currentStep: text("current_step"),
    progress: integer("progress"), // 0..100 when known
    error: text("error"),
    input: jsonb("input").$type<Record<string, unknown>>(),
    result: jsonb("result").$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    endedAt: timestamp("ended_at", { withTimezone: true, precision: 3 }),
  },
  (t) => [
    index("operations_created_idx").on(t.createdAt, t.id),
    index("operations_target_idx").on(t.targetType, t.targetId),
    index("operations_status_idx").on(t.status),
    index("operations_tenant_idx").on(t.tenantId, t.createdAt),
    // A tenant's operations by status (its home's failed and running work, the activity filter).
    index("operations_tenant_status_idx").on(t.tenantId, t.status, t.createdAt, t.id),
  ],
);
