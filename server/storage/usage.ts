// Storage quota usage: how much of its volumes / GiB / snapshots quota a tenant uses. Registered with the quota
// page (server/services/quotas-usage.ts) so quotas.get shows the same numbers the creates enforce.
import { count, eq, sum } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { type quotas, snapshots, volumes } from "@/db/schema";
import { registerUsage } from "@/server/services/quotas-usage";
import { lockQuota } from "@/server/services/quotas";

type Runner = Db | Tx;

export async function volumeCount(db: Runner, tenantId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(volumes).where(eq(volumes.tenantId, tenantId));
  return r?.n ?? 0;
}
export async function volumeGiB(db: Runner, tenantId: string): Promise<number> {
  const [r] = await db
    .select({ n: sum(volumes.sizeGiB) })
    .from(volumes)
    .where(eq(volumes.tenantId, tenantId));
  return Number(r?.n ?? 0);
}
export async function snapshotCount(db: Runner, tenantId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(snapshots).where(eq(snapshots.tenantId, tenantId));
  return r?.n ?? 0;
}

registerUsage("volumes", volumeCount);
registerUsage("volumeGiB", volumeGiB);
registerUsage("snapshots", snapshotCount);

export interface StorageUsage {
  volumes: { used: number; limit: number };
  volumeGiB: { used: number; limit: number };
  snapshots: { used: number; limit: number };
}

/** Usage vs quota for the storage pages. */
export async function storageUsage(db: Db, tenantId: string): Promise<StorageUsage> {
  const q = await db.transaction((tx) => lockQuota(tx, tenantId));
  const limits: Pick<typeof quotas.$inferSelect, "volumes" | "volumeGiB" | "snapshots"> = q;
  const [v, g, s] = await Promise.all([volumeCount(db, tenantId), volumeGiB(db, tenantId), snapshotCount(db, tenantId)]);
  return {
    volumes: { used: v, limit: limits.volumes },
    volumeGiB: { used: g, limit: limits.volumeGiB },
    snapshots: { used: s, limit: limits.snapshots },
  };
}
