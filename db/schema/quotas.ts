// Per-tenant quotas. One row per tenant (created on demand with the defaults below); enforcement locks the
// row, counts usage and inserts in ONE transaction (server/services/quotas.ts), so concurrent creates can't
// overshoot.
import { integer, pgTable, uuid } from "drizzle-orm/pg-core";
import { instant } from "./columns";
import { tenants } from "./tenancy";

export const QUOTA_DEFAULTS = {
  instances: 10,
  cores: 512,
  ramGiB: 4096,
  volumes: 20,
  volumeGiB: 2000,
  snapshots: 20,
  vpcs: 5,
  subnets: 20,
  securityGroups: 20,
  addresses: 100,
} as const;
export type QuotaResource = keyof typeof QUOTA_DEFAULTS;

export const quotas = pgTable("quotas", {
  tenantId: uuid("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  instances: integer("instances").notNull().default(QUOTA_DEFAULTS.instances),
  cores: integer("cores").notNull().default(QUOTA_DEFAULTS.cores),
  ramGiB: integer("ram_gib").notNull().default(QUOTA_DEFAULTS.ramGiB),
  volumes: integer("volumes").notNull().default(QUOTA_DEFAULTS.volumes),
  volumeGiB: integer("volume_gib").notNull().default(QUOTA_DEFAULTS.volumeGiB),
  snapshots: integer("snapshots").notNull().default(QUOTA_DEFAULTS.snapshots),
  vpcs: integer("vpcs").notNull().default(QUOTA_DEFAULTS.vpcs),
  subnets: integer("subnets").notNull().default(QUOTA_DEFAULTS.subnets),
  securityGroups: integer("security_groups").notNull().default(QUOTA_DEFAULTS.securityGroups),
  addresses: integer("addresses").notNull().default(QUOTA_DEFAULTS.addresses),
  updatedAt: instant("updated_at").notNull().defaultNow(),
});
