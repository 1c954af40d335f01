// Quota enforcement in the same transaction as the create: lock the tenant's quota row (created with the
// defaults if missing), count what is in use, refuse with a clear message when the request would exceed it.
// Every create that a quota covers calls enforceQuota inside its transaction before inserting.
import { type Column, count, eq } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Tx } from "@/db/client";
import { type QuotaResource, quotas } from "@/db/schema";
import { DomainError } from "@/domain/errors";

const LABEL: Record<QuotaResource, (n: number) => string> = {
  instances: (n) => `${n} instance${n === 1 ? "" : "s"}`,
  cores: (n) => `${n} core${n === 1 ? "" : "s"}`,
  ramGiB: (n) => `${n} GiB of RAM`,
  volumes: (n) => `${n} volume${n === 1 ? "" : "s"}`,
  volumeGiB: (n) => `${n} GiB of volumes`,
  snapshots: (n) => `${n} snapshot${n === 1 ? "" : "s"}`,
  vpcs: (n) => `${n} VPC${n === 1 ? "" : "s"}`,
  subnets: (n) => `${n} subnet${n === 1 ? "" : "s"}`,
  securityGroups: (n) => `${n} security group${n === 1 ? "" : "s"}`,
  addresses: (n) => `${n} address${n === 1 ? "" : "es"}`,
};

export async function lockQuota(tx: Tx, tenantId: string) {
  await tx.insert(quotas).values({ tenantId }).onConflictDoNothing();
  const [q] = await tx.select().from(quotas).where(eq(quotas.tenantId, tenantId)).for("update");
  return q!;
}

export class QuotaExceeded extends DomainError {
  constructor(
    public resource: QuotaResource,
    public limit: number,
    public used: number,
    public requested: number,
  ) {
    // A rule refusal like any other (PRECONDITION_FAILED), not an authorization one.
    super(
      "precondition",
      `Quota exceeded: this would use ${LABEL[resource](used + requested)} but the tenant's quota is ${LABEL[resource](limit)} (${LABEL[resource](used)} in use). Free some up or ask an operator to raise the quota.`,
    );
  }
}

/**
 * Call inside the create's transaction. `used` counts current usage with the same transaction (it runs after the
 * quota row is locked, so two concurrent creates are serialised per tenant).
 */
export async function enforceQuota(
  tx: Tx,
  tenantId: string,
  checks: { resource: QuotaResource; add: number; used: (tx: Tx) => Promise<number> }[],
): Promise<void> {
  const q = await lockQuota(tx, tenantId);
  for (const c of checks) {
    const used = await c.used(tx);
    const limit = q[c.resource] as number;
    if (used + c.add > limit) throw new QuotaExceeded(c.resource, limit, used, c.add);
  }
}

/** A quota check's `used` for a resource that is one row per unit: how many rows of `table` the tenant has. */
export function rowsOf(table: PgTable & { tenantId: Column }, tenantId: string): (tx: Tx) => Promise<number> {
  return async (tx) =>
    (
      await tx
        .select({ n: count() })
        .from(table as PgTable)
        .where(eq(table.tenantId, tenantId))
    )[0]!.n;
}
