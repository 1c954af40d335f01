// Volume facts more than one router selects (the tenant's volumes, the operator's storage view).
import { sql } from "drizzle-orm";
import { volumes } from "@/db/schema";

/** How many attachments a volume has (0 = detached). Correlated subqueries name their tables explicitly: drizzle
 *  renders columns unqualified in single-table selects, which would bind "id" to the inner table. */
export const attachmentCount = sql<number>`(select count(*)::int from volume_attachments va where va.volume_id = "volumes"."id")`;

/** The columns volume lists sort by, and their tie-breaker (listPage). */
export const volumeOrder = { sort: { name: volumes.name, createdAt: volumes.createdAt, sizeGiB: volumes.sizeGiB }, id: volumes.id };
