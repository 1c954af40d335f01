// Instance actions beyond the lifecycle: hot-plug attach / detach of data volumes (multi-attach volumes on several
// instances, one export per DPU), backup of the system disk (and optionally the data volumes) into a tenant image,
// and rebuild onto a fresh system volume from an image with the same port (MAC and address). The same rules as the
// create: idempotent pieces, compensations, progress on the operation.
import { and, eq, sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { images, instances, snapshots, volumeAttachments, volumes } from "@/db/schema";
import { GiB } from "@/db/validation/storage";
import { dpuHostNqn } from "@/server/drivers/dpu-agent/cidata";
import { isStorageError } from "@/server/drivers/storage/client";
import { getStorage } from "@/server/storage/backend";
import { buildImage } from "@/server/storage/images";
import { catalog } from "./catalog";
import { step } from "./engine";
import { defineSaga } from "./saga";
import {
  agentNames,
  attachDataVolumes,
  attachNetwork,
  attachSystemDisk,
  bootOverride,
  loadInstance,
  placement,
  powerOff,
  powerOn,
  ProvisionError,
  waitForOsStep,
} from "./instances";
import { finishOperation } from "./operations";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { applyInstanceEvent } from "@/server/services/instance-state";

const ignoreGone = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (e) {
    if (!(isStorageError(e) && e.status === 404)) throw e;
  }
};

/** Takes one data volume off the instance: agent disk, the export to this instance's DPU only, the attachment row. */
async function detachVolume(instanceId: string, volumeId: string): Promise<string> {
  const db = getDb();
  const inst = await loadInstance(instanceId);
  const pl = await placement(inst).catch(() => null);
  if (pl) await pl.agent.deleteDisk(agentNames.data(volumeId));
  const [v] = await db.select().from(volumes).where(eq(volumes.id, volumeId));
  if (v?.storageVolumeId && pl) {
    const storage = getStorage();
    for await (const t of storage.listAll(storage.listTargets, { volumeId: v.storageVolumeId, initiator: dpuHostNqn(pl.dpu.id) }))
      await ignoreGone(() => storage.deleteTarget(t.id));
  }
  await db.transaction(async (tx) => {
    await tx.delete(volumeAttachments).where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumeAttachments.volumeId, volumeId)));
    const [left] = await tx.select({ n: sql<number>`count(*)::int` }).from(volumeAttachments).where(eq(volumeAttachments.volumeId, volumeId));
    if (!left?.n)
      await tx
        .update(volumes)
        .set({ state: "available" })
        .where(and(eq(volumes.id, volumeId), eq(volumes.state, "attached")));
  });
  return v ? `${v.name} detached` : "volume gone";
}

export const attachVolumeWorkflow = defineSaga(catalog.instanceAttachVolume, {
  async run(saga, instanceId, opId, volumeId) {
    // The attach can fail half-way (disk on the DPU, record not yet): its undo runs then too.
    await saga.step("attach disk", () => attachDataVolumes(instanceId, null, volumeId), {
      undo: { name: "undo attach", fn: () => detachVolume(instanceId, volumeId), bestEffort: true },
      undoIfFailed: true,
    });
    await step("done", () => finishOperation(saga.db, opId, "succeeded"));
  },
});

export const detachVolumeWorkflow = defineSaga(catalog.instanceDetachVolume, {
  async run(saga, instanceId, opId, volumeId) {
    await saga.step("detach disk", () => detachVolume(instanceId, volumeId));
    await step("done", () => finishOperation(saga.db, opId, "succeeded"));
  },
});

/**
 * Backup: a crash-consistent snapshot of the system volume (the instance keeps running) made into a tenant image
 * (flattened, so it outlives the instance), plus a tenant snapshot of each data volume when asked.
 */
export const backupInstance = defineSaga(catalog.instanceBackup, {
  async run(saga, instanceId, opId, imageName, includeDataVolumes) {
    const db = saga.db;
    const snap = await saga.step("snapshot system disk", async () => {
      const inst = await loadInstance(instanceId);
      if (!inst.storageVolumeId) throw new ProvisionError("The instance has no system volume to back up.");
      const s = await getStorage().createSnapshot({ volumeId: inst.storageVolumeId, name: `backup-${opId}` }, { idempotencyKey: `${opId}:system` });
      return { id: s.id, sizeBytes: s.sizeBytes };
    });
    const image = await saga.step("make image", async () => {
      const inst = await loadInstance(instanceId);
      const [done] = await db
        .select()
        .from(images)
        .where(and(eq(images.tenantId, inst.tenantId), sql`lower(${images.name}) = lower(${imageName})`));
      if (done?.state === "available") return { id: done.id, name: done.name };
      if (done) await db.delete(images).where(eq(images.id, done.id)); // a build a crash interrupted
      const [src] = inst.imageId ? await db.select().from(images).where(eq(images.id, inst.imageId)) : [];
      const [sys] = await db.select().from(volumes).where(eq(volumes.storageVolumeId, inst.storageVolumeId!));
      const img = await buildImage(
        { db, principal: null, requestId: `backup-${opId}` },
        {
          name: imageName,
          description: `Backup of instance ${inst.name}`,
          os: src?.os ?? "unknown",
          version: src?.version ?? "backup",
          visibility: "tenant",
          tenantId: inst.tenantId,
        },
        { kind: "snapshot", storageSnapshotId: snap.id },
        {
          sizeBytes: (sys?.sizeGiB ?? Math.ceil(snap.sizeBytes / GiB)) * GiB,
          logicalPoolId: sys?.logicalPoolId ?? src?.logicalPoolId ?? "",
          action: "image.backup",
        },
      );
      return { id: img.id, name: img.name };
    });
    // The image is a flattened copy: the temporary snapshot is not needed any more.
    await step("drop temporary snapshot", () => ignoreGone(() => getStorage().deleteSnapshot(snap.id)));
    const dataSnaps = includeDataVolumes
      ? await saga.step("snapshot data volumes", async () => {
          const inst = await loadInstance(instanceId);
          const rows = await db
            .select({ v: volumes })
            .from(volumeAttachments)
            .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
            .where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumes.kind, "data")));
          const names: string[] = [];
          for (const { v } of rows) {
            if (!v.storageVolumeId) continue;
            const name = `${imageName}-${v.name}`.slice(0, 63);
            const [have] = await db
              .select({ id: snapshots.id })
              .from(snapshots)
              .where(and(eq(snapshots.tenantId, inst.tenantId), sql`lower(${snapshots.name}) = lower(${name})`));
            if (!have) {
              const s = await getStorage().createSnapshot(
                { volumeId: v.storageVolumeId, name: `snap-${opId.slice(0, 8)}-${v.id}` },
                { idempotencyKey: `${opId}:${v.id}` },
              );
              await db.insert(snapshots).values({
                tenantId: inst.tenantId,
                volumeId: v.id,
                name,
                description: `Backup of instance ${inst.name}`,
                sizeGiB: v.sizeGiB,
                state: "available",
                storageSnapshotId: s.id,
              });
            }
            names.push(name);
          }
          return names;
        })
      : [];
    await step("done", () => finishOperation(db, opId, "succeeded", { result: { imageId: image.id, imageName: image.name, snapshots: dataSnaps } }));
  },
});

/**
 * Rebuild: a new system volume from an image under the same instance (same port: MAC and address, same instance-id
 * for cloud-init... a fresh disk runs first boot again). Until the new volume is recorded, a failure puts the old disk
 * back and boots it; after that, the old volume is deleted only once the new one is attached.
 */
export const rebuildInstance = defineSaga(catalog.instanceRebuild, {
  async run(saga, instanceId, opId, imageId, sizeGiB) {
    const db = saga.db;
    const old = await step("remember old disk", async () => {
      const inst = await loadInstance(instanceId);
      const [row] = await db
        .select({ id: volumes.id, storageVolumeId: volumes.storageVolumeId, imageId: instances.imageId })
        .from(volumeAttachments)
        .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
        .innerJoin(instances, eq(instances.id, volumeAttachments.instanceId))
        .where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumes.kind, "system")));
      return { volumeRowId: row?.id ?? null, storageVolumeId: row?.storageVolumeId ?? inst.storageVolumeId, imageId: inst.imageId };
    });
    // Until the new volume is recorded, a failure puts the old disk back and boots it: the instance is as it was.
    const restore = {
      name: "restore old boot disk",
      fn: async () => {
        await attachSystemDisk(instanceId, null);
        await bootOverride(instanceId);
        await powerOn(instanceId);
        return "restored";
      },
    };
    await saga.step(
      "power off",
      async () => {
        const pl = await placement(await loadInstance(instanceId));
        if (!pl) throw new ProvisionError("The instance holds no host.");
        return powerOff(pl.host);
      },
      { undo: restore, undoIfFailed: true },
    );
    await saga.step("detach old boot disk", async () => {
      const inst = await loadInstance(instanceId);
      const pl = await placement(inst);
      if (!pl) throw new ProvisionError("The instance holds no host.");
      await pl.agent.deleteDisk(agentNames.boot(instanceId));
      if (old.storageVolumeId) {
        const storage = getStorage();
        for await (const t of storage.listAll(storage.listTargets, { volumeId: old.storageVolumeId })) await ignoreGone(() => storage.deleteTarget(t.id));
      }
    });
    // The point of no return: from here a failure leaves the instance failed (the old volume kept, detached).
    await saga.step(
      "record new system volume",
      async () => {
        const inst = await loadInstance(instanceId);
        const [image] = await db.select().from(images).where(eq(images.id, imageId));
        if (!image) throw new ProvisionError("The image was deleted meanwhile; pick another.");
        await db.transaction(async (tx) => {
          const [have] = await tx
            .select({ id: volumes.id })
            .from(volumeAttachments)
            .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
            .where(
              and(
                eq(volumeAttachments.instanceId, instanceId),
                eq(volumes.kind, "system"),
                sql`${volumes.id} <> ${old.volumeRowId ?? "00000000-0000-0000-0000-000000000000"}`,
              ),
            );
          if (!have) {
            const [v] = await tx
              .insert(volumes)
              .values({
                tenantId: inst.tenantId,
                name: `${inst.name}-system-${opId.slice(0, 8)}`,
                description: `System disk of instance ${inst.name} (rebuilt)`,
                sizeGiB,
                kind: "system",
                logicalPoolId: image.logicalPoolId,
                sourceImageId: image.id,
                state: "creating",
              })
              .returning({ id: volumes.id });
            await tx.insert(volumeAttachments).values({ volumeId: v!.id, multiAttach: false, instanceId });
          }
          // The old disk stays a tenant volume (detached) until the new one works; then it is deleted.
          if (old.volumeRowId) {
            await tx.delete(volumeAttachments).where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumeAttachments.volumeId, old.volumeRowId)));
            await tx.update(volumes).set({ state: "available" }).where(eq(volumes.id, old.volumeRowId));
          }
          await tx
            .update(instances)
            .set({ imageId: image.id, systemVolumeSizeGiB: sizeGiB, storageVolumeId: null, storageTargetId: null })
            .where(eq(instances.id, instanceId));
        });
      },
      { pivot: true },
    );
    await saga.step("attach new boot disk", () => attachSystemDisk(instanceId, null));
    await saga.step("delete old system volume", async () => {
      if (!old.storageVolumeId) return;
      await ignoreGone(() => getStorage().deleteVolume(old.storageVolumeId!));
      if (old.volumeRowId) await db.delete(volumes).where(eq(volumes.id, old.volumeRowId));
    });
    await saga.step("publish cloud-init and NIC", () => attachNetwork(instanceId, null));
    await saga.step("boot override to disk", () => bootOverride(instanceId));
    await saga.step("power on", () => powerOn(instanceId));
    await waitForOsStep(db, opId, instanceId, { abortable: true });
    await saga.step("mark running", async () => {
      await applyInstanceEvent(db, instanceId, "rebuilt");
      await finishOperation(db, opId, "succeeded", { result: { imageId } });
    });
    await applyOverlaySoon();
  },
  async failed({ reason: why, undone, undoError }, instanceId) {
    if (undone.includes("restore old boot disk") || undoError) {
      const back = undoError ? `could not restore: ${undoError}` : "restored";
      if (back === "restored") await applyInstanceEvent(getDb(), instanceId, "rebuild_reverted", { reason: `Rebuild failed: ${why}` });
      else await applyInstanceEvent(getDb(), instanceId, "rebuild_failed", { reason: `Rebuild failed: ${why}; ${back}` });
      return;
    }
    await applyInstanceEvent(getDb(), instanceId, "rebuild_failed", {
      reason: `Rebuild failed after the new disk was recorded: ${why}. The old system volume is kept as a detached volume if it was not deleted yet.`,
    });
  },
});
