// Volume facts more than one router selects (the tenant's volumes, the operator's storage view).
import { eq, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { snapshots, volumes } from "@/db/schema";
import { inTenant } from "./rows";

/** The tenant's snapshot with the logical pool of its volume (where a clone of it lives); [] when there is none. */
export function snapshotWithPool(db: Db | Tx, tenantId: string, id: string) {
  return db
    .select({ s: snapshots, pool: volumes.logicalPoolId })
    .from(snapshots)
    .innerJoin(volumes, eq(volumes.id, snapshots.volumeId))
    .where(inTenant(snapshots, tenantId, id));
}

export const VOLUME_NOT_FOUND = "That volume does not exist (it may have been deleted).";
export const SNAPSHOT_NOT_FOUND = "That snapshot does not exist (it may have been deleted).";

/** How many attachments a volume has (0 = detached). Correlated subqueries name their tables explicitly: drizzle
 *  renders columns unqualified in single-table selects, which would bind "id" to the inner table. */
export const attachmentCount = sql<number>`(select count(*)::int from volume_attachments va where va.volume_id = "volumes"."id")`;

/** The columns volume lists sort by, and their tie-breaker (listPage). */
export const volumeOrder = { sort: { name: volumes.name, createdAt: volumes.createdAt, sizeGiB: volumes.sizeGiB }, id: volumes.id };
