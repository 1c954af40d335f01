// Finishes storage work a BFF died in the middle of, so neither side leaks: a volume/snapshot/image row left in
// "creating" (the service call may or may not have landed) or "deleting" (the delete may or may not have landed).
// Service objects are named after the row id (vol-<id>, snap-<id>, img-<id>), so the service is asked what exists:
//  - volume creating: on the service → record it, mark available; not there → remove the row (never created);
//  - snapshot creating: same, looked up among its volume's snapshots;
//  - image creating: remove whatever the half-built image left on the service, then the row;
//  - volume/snapshot deleting: delete on the service again (404 = done), then the row.
// Only rows older than `olderThanMs` are touched, so requests still in flight are left alone. Call it at start
// and periodically (e.g. from the workflow engine's schedules).
import { and, eq, inArray, lt } from "drizzle-orm";
import type { Db } from "@/db/client";
import { images, snapshots, volumes } from "@/db/schema";
import { deleteRow } from "@/server/api/updates";
import { getStorage } from "./backend";
import { dropFailedCreate, goneIsDone } from "./records";

export interface ReconcileReport {
  volumesCompleted: number;
  volumesRemoved: number;
  snapshotsCompleted: number;
  snapshotsRemoved: number;
  imagesRemoved: number;
  deletesFinished: number;
}

const actor = { principal: null, requestId: "storage-reconcile" };

export async function reconcileStorage(db: Db, opts: { olderThanMs?: number } = {}): Promise<ReconcileReport> {
  const storage = getStorage();
  const before = new Date(Date.now() - (opts.olderThanMs ?? 5 * 60_000));
  const r: ReconcileReport = { volumesCompleted: 0, volumesRemoved: 0, snapshotsCompleted: 0, snapshotsRemoved: 0, imagesRemoved: 0, deletesFinished: 0 };

  const stuckVolumes = await db
    .select()
    .from(volumes)
    .where(and(inArray(volumes.state, ["creating", "deleting"]), lt(volumes.updatedAt, before)));
  for (const v of stuckVolumes) {
    if (v.state === "creating") {
      const found = (await storage.listVolumes({ name: `vol-${v.id}`, limit: 1 })).items[0];
      if (found) {
        await db.update(volumes).set({ storageVolumeId: found.id, state: "available" }).where(eq(volumes.id, v.id));
        r.volumesCompleted++;
      } else {
        await dropFailedCreate({ ...actor, db }, volumes, v, { type: "volume", tenantId: v.tenantId }, "interrupted before the storage service created it");
        r.volumesRemoved++;
      }
    } else {
      if (v.storageVolumeId) await goneIsDone(storage.deleteVolume(v.storageVolumeId));
      await db.transaction((tx) => deleteRow(tx, actor, volumes, v, { type: "volume", tenantId: v.tenantId, details: { resumed: true } }));
      r.deletesFinished++;
    }
  }

  const stuckSnaps = await db
    .select({ s: snapshots, storageVolumeId: volumes.storageVolumeId })
    .from(snapshots)
    .innerJoin(volumes, eq(volumes.id, snapshots.volumeId))
    .where(and(inArray(snapshots.state, ["creating", "deleting"]), lt(snapshots.updatedAt, before)));
  for (const { s, storageVolumeId } of stuckSnaps) {
    if (s.state === "creating") {
      let found: { id: string } | undefined;
      if (storageVolumeId)
        for await (const x of storage.listAll(storage.listSnapshots, { volumeId: storageVolumeId })) if (x.name === `snap-${s.id}`) found = x;
      if (found) {
        await db.update(snapshots).set({ storageSnapshotId: found.id, state: "available" }).where(eq(snapshots.id, s.id));
        r.snapshotsCompleted++;
      } else {
        await db.delete(snapshots).where(eq(snapshots.id, s.id));
        r.snapshotsRemoved++;
      }
    } else {
      if (s.storageSnapshotId) await goneIsDone(storage.deleteSnapshot(s.storageSnapshotId));
      await db.delete(snapshots).where(eq(snapshots.id, s.id));
      r.deletesFinished++;
    }
  }

  const stuckImages = await db
    .select()
    .from(images)
    .where(and(eq(images.state, "creating"), lt(images.updatedAt, before)));
  for (const img of stuckImages) {
    const found = (await storage.listVolumes({ name: `img-${img.id}`, limit: 1 })).items[0];
    if (found) await goneIsDone(storage.deleteVolume(found.id));
    await dropFailedCreate({ ...actor, db }, images, img, { type: "image", tenantId: img.tenantId }, "interrupted while building; rebuild it");
    r.imagesRemoved++;
  }
  return r;
}
