// Building system-disk images on the storage service. Every image owns one storage volume holding its bytes and
// a "golden" snapshot of it; system disks are thin clones of the golden snapshot. Three ways in:
//  - upload (a file sent to Anvil, or imported from a URL): a new volume of the image's size, the file's bytes
//    written to it through the storage data plane (qcow2 converted to raw), then the golden snapshot; the file's
//    SHA-256 is kept on the image;
//  - from a tenant snapshot or another image (clone): a thin clone of that snapshot, flattened so the image no
//    longer depends on its source (the tenant may delete the volume; the source image may go), then snapshotted.
// The record is written first (state creating, audited) and every service call carries an idempotency key derived
// from the image id; on failure the storage objects made so far and the record are removed and the service's
// message is reported. Nothing leaks on either side.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { images, tenants } from "@/db/schema";
import { GiB, type ImageMeta } from "@/db/validation/storage";
import type { Principal } from "@/server/auth/principal";
import type { StorageClient } from "@/server/drivers/storage/client";
import { DiskFileError } from "@/server/drivers/storage/disk-file";
import { audit } from "@/server/services/audit";
import { fieldError, storageError } from "../api/errors";
import { transact } from "../api/transact";
import { getStorage, IMAGES_NAMESPACE } from "./backend";
import { dropFailedCreate } from "./records";

export interface ActorCtx {
  db: Db;
  principal: Principal | null;
  requestId: string;
}

export type ImageRow = typeof images.$inferSelect;
export const imageUniques = { images_scope_name_uq: { field: "name", message: "An image with this name already exists here." } };

export type ImageBuild =
  | { kind: "upload"; file: { path: string; format: "raw" | "qcow2" }; checksumSha256: string; details?: Record<string, unknown> }
  | { kind: "snapshot" | "clone"; storageSnapshotId: string; sourceSnapshotId?: string; sourceImageId?: string };

/** Checks meta against the image size and scope; returns the values to insert. */
async function resolveMeta(db: Db, meta: ImageMeta, sizeBytes: number) {
  const sizeGiB = Math.ceil(sizeBytes / GiB);
  const minSizeGiB = meta.minSizeGiB ?? sizeGiB;
  if (minSizeGiB < sizeGiB) throw fieldError("minSizeGiB", `The image is ${sizeGiB} GiB, so a disk made from it needs at least ${sizeGiB} GiB.`, "BAD_REQUEST");
  const visibility = meta.visibility ?? "public";
  let tenantId: string | null = null;
  if (visibility === "tenant") {
    if (!meta.tenantId) throw fieldError("tenantId", "Pick the tenant that may use this image.", "BAD_REQUEST");
    const [t] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, meta.tenantId));
    if (!t) throw fieldError("tenantId", "That tenant does not exist.", "BAD_REQUEST");
    tenantId = t.id;
  } else if (meta.tenantId) {
    throw fieldError("tenantId", "A public image belongs to no tenant; choose visibility 'tenant' to restrict it.", "BAD_REQUEST");
  }
  return { minSizeGiB, visibility, tenantId };
}

/**
 * Records the image, builds it on the storage service, and marks it available. Throws (having cleaned up) with
 * the service's message when a step fails.
 */
export async function buildImage(
  ctx: ActorCtx,
  meta: ImageMeta,
  build: ImageBuild,
  opts: { sizeBytes: number; logicalPoolId: string; action?: string },
): Promise<ImageRow> {
  const resolved = await resolveMeta(ctx.db, meta, opts.sizeBytes);
  const row = await transact(
    ctx.db,
    async (tx) => {
      const [r] = await tx
        .insert(images)
        .values({
          name: meta.name,
          description: meta.description ?? "",
          os: meta.os,
          version: meta.version,
          ...resolved,
          sizeBytes: opts.sizeBytes,
          format: build.kind === "upload" ? build.file.format : "raw",
          checksumSha256: build.kind === "upload" ? build.checksumSha256 : null,
          source: build.kind,
          sourceSnapshotId: build.kind === "upload" ? null : (build.sourceSnapshotId ?? null),
          sourceImageId: build.kind === "upload" ? null : (build.sourceImageId ?? null),
          logicalPoolId: opts.logicalPoolId,
          state: "creating",
        })
        .returning();
      await audit(tx, ctx, {
        action: opts.action ?? "image.create",
        targetType: "image",
        targetId: r!.id,
        targetName: r!.name,
        tenantId: r!.tenantId,
        details: {
          source: build.kind,
          os: r!.os,
          version: r!.version,
          visibility: r!.visibility,
          sizeBytes: r!.sizeBytes,
          ...(build.kind === "upload" ? { checksumSha256: build.checksumSha256, ...build.details } : {}),
        },
      });
      return r!;
    },
    imageUniques,
  );

  const storage = getStorage();
  let storageVolumeId: string | undefined;
  try {
    let logicalPoolId = opts.logicalPoolId;
    if (build.kind === "upload") {
      const v = await storage.createVolume(
        { name: `img-${row.id}`, logicalPoolId, sizeBytes: opts.sizeBytes, namespace: IMAGES_NAMESPACE },
        { idempotencyKey: `${row.id}:volume` },
      );
      storageVolumeId = v.id;
      await storage.writeVolumeData(v.id, build.file);
    } else {
      const v = await storage.cloneVolume(
        { name: `img-${row.id}`, sourceSnapshotId: build.storageSnapshotId, sizeBytes: opts.sizeBytes, namespace: IMAGES_NAMESPACE },
        { idempotencyKey: `${row.id}:volume` },
      );
      storageVolumeId = v.id;
      logicalPoolId = v.logicalPoolId;
      // Copy the shared blocks in so the image stands alone (its source may be deleted later).
      await storage.flattenVolume(v.id);
    }
    const snap = await storage.createSnapshot({ volumeId: storageVolumeId, name: "golden" }, { idempotencyKey: `${row.id}:golden` });
    const [done] = await ctx.db
      .update(images)
      .set({ storageVolumeId, storageSnapshotId: snap.id, logicalPoolId, state: "available" })
      .where(eq(images.id, row.id))
      .returning();
    return done!;
  } catch (e) {
    await undoImage(ctx, row, storage, storageVolumeId, e);
    if (e instanceof DiskFileError) throw fieldError("file", e.message, "BAD_REQUEST");
    throw storageError(e, { sizeBytes: "minSizeGiB" }, "Storage service refused the image");
  }
}

async function undoImage(ctx: ActorCtx, row: ImageRow, storage: StorageClient, storageVolumeId: string | undefined, cause: unknown) {
  if (storageVolumeId) await storage.deleteVolume(storageVolumeId).catch(() => {});
  await dropFailedCreate(ctx, images, row, { type: "image", tenantId: row.tenantId }, cause);
}

/** An image a tenant may use: public, or private to that tenant. Others are NOT_FOUND. */
export function visibleTo(image: ImageRow | undefined, tenantId: string): ImageRow {
  if (!image || (image.visibility === "tenant" && image.tenantId !== tenantId))
    throw new TRPCError({ code: "NOT_FOUND", message: "That image does not exist (it may have been deleted)." });
  return image;
}
