// What a tenant uses, per quota resource, and what it still owns (for "delete only when empty").
// Resource tables are being added by other areas over time, so usage is computed defensively: a counter
// registered with registerUsage() wins; otherwise a count-resource is counted from the schema table of the
// conventional name if that table exists (and has a tenant_id column); otherwise the usage is "not tracked" (null).
import { count, eq, getTableColumns, is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import type { Db, Tx } from "@/db/client";
import * as s from "@/db/schema";
import { QUOTA_DEFAULTS, type QuotaResource, quotas } from "@/db/schema";

type Runner = Db | Tx;
export type UsageFn = (db: Runner, tenantId: string) => Promise<number>;

const registry = new Map<QuotaResource, UsageFn>();

/** Another area tells the quota page how to measure a resource (e.g. cores = sum of flavours of instances). */
export function registerUsage(resource: QuotaResource, fn: UsageFn): void {
  registry.set(resource, fn);
}

/** A tenant's limits without writing: its quota row, or the defaults when none was created yet. */
export async function readQuotaLimits(db: Runner, tenantId: string): Promise<Record<QuotaResource, number>> {
  const [row] = await db.select().from(quotas).where(eq(quotas.tenantId, tenantId));
  return Object.fromEntries((Object.keys(QUOTA_DEFAULTS) as QuotaResource[]).map((k) => [k, row ? row[k] : QUOTA_DEFAULTS[k]])) as Record<
    QuotaResource,
    number
  >;
}

/** Count-resources and the schema export that holds them, when it exists. */
const COUNTED_TABLES: Partial<Record<QuotaResource, string>> = {
  instances: "instances",
  volumes: "volumes",
  snapshots: "snapshots",
  vpcs: "vpcs",
  subnets: "subnets",
  securityGroups: "securityGroups",
  addresses: "ipAllocations",
};

function tenantTable(exportName: string): { table: PgTable; tenantId: ReturnType<typeof getTableColumns>[string] } | null {
  const v = (s as Record<string, unknown>)[exportName];
  if (!is(v, PgTable)) return null;
  const col = getTableColumns(v).tenantId;
  return col ? { table: v, tenantId: col } : null;
}

async function countRows(db: Runner, exportName: string, tenantId: string): Promise<number | null> {
  const t = tenantTable(exportName);
  if (!t) return null;
  const [row] = await db.select({ n: count() }).from(t.table).where(eq(t.tenantId, tenantId));
  return row?.n ?? 0;
}

/** Usage of every quota resource; null where nothing measures it yet. */
export async function tenantUsage(db: Runner, tenantId: string): Promise<Record<QuotaResource, number | null>> {
  const out = {} as Record<QuotaResource, number | null>;
  for (const r of Object.keys(QUOTA_DEFAULTS) as QuotaResource[]) {
    const fn = registry.get(r);
    if (fn) out[r] = await fn(db, tenantId);
    else {
      const name = COUNTED_TABLES[r];
      out[r] = name ? await countRows(db, name, tenantId) : null;
    }
  }
  return out;
}

/** Tables that describe the tenant itself (removed with it), not resources it runs. */
const TENANT_OWN_TABLES = new Set(["memberships", "quotas", "audit_events", "operations", "api_tokens", "tenant_network_policies", "tenant_invitations"]);

/**
 * Every resource table (any schema table with a tenant_id column that is not the tenant's own bookkeeping) with
 * how many rows the tenant still has there. Empty when the tenant can be deleted.
 */
export async function remainingResources(db: Runner, tenantId: string): Promise<{ table: string; count: number }[]> {
  const out: { table: string; count: number }[] = [];
  for (const [name, v] of Object.entries(s)) {
    if (!is(v, PgTable)) continue;
    const tableName = getTableConfig(v).name;
    if (TENANT_OWN_TABLES.has(tableName)) continue;
    const n = await countRows(db, name, tenantId);
    if (n) out.push({ table: tableName.replaceAll("_", " "), count: n });
  }
  return out;
}
