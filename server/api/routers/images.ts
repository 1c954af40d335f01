// System-disk images. Operators list/filter (by OS, visibility, tenant), create from a tenant snapshot, clone,
// import from an http(s) URL (server/storage/import-url.ts), edit and delete images (uploads go through
// app/api/images/upload, which calls server/storage/upload.ts);
// tenants list the images they may boot (public + their own) and delete their own backups.
// Delete is refused while volumes were cloned from the image, unless `flatten` is set: then each dependent
// volume gets the image's data copied in by the storage service (flatten) first, so nothing breaks.
import { TRPCError } from "@trpc/server";
import { and, eq, ilike, isNull, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { images, snapshots, volumes } from "@/db/schema";
import { imageCloneSchema, imageFromSnapshotSchema, imageImportSchema, imageUpdateSchema } from "@/db/validation/storage";
import { getStorage } from "@/server/storage/backend";
import { type ActorCtx, buildImage, type ImageRow, imageUniques } from "@/server/storage/images";
import { importImageFromUrl } from "@/server/storage/import-url";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure, tenantProcedure } from "../trpc";
import { updateRow } from "../updates";
import { found, rowById, tenantRow, columnsOf } from "@/server/services/rows";
import { matchesText } from "@/server/lib/like";
import { transact } from "../transact";
import { finishDelete, goneIsDone } from "@/server/storage/records";

const IMAGE_NOT_FOUND = "That image does not exist (it may have been deleted).";
const volumeCount = sql<number>`(select count(*)::int from volumes v where v.source_image_id = "images"."id")`;
const columns = {
  ...columnsOf(images, "id", "name", "description", "os", "version", "minSizeGiB", "sizeBytes", "format", "visibility", "tenantId"),
  tenantSlug: sql<string | null>`(select t.slug from tenants t where t.id = "images"."tenant_id")`,
  ...columnsOf(images, "source", "state", "logicalPoolId", "storageVolumeId", "storageSnapshotId", "checksumSha256", "createdAt"),
  volumeCount,
};

/** The columns the lists sort by, and their tie-breaker. */
const listOrder = { sort: { name: images.name, createdAt: images.createdAt, os: images.os }, id: images.id };

const listInput = pageInput.extend({
  q: z.string().trim().max(100).optional(),
  os: z.string().trim().max(63).optional(),
  sort: z.enum(["name", "createdAt", "os"]).default("name"),
});

async function listImages(ctx: { db: ActorCtx["db"] }, input: z.infer<typeof listInput>, scope: SQL | undefined) {
  const os = input.os ? ilike(images.os, input.os) : undefined;
  const text = matchesText(input.q, images.name, images.os, images.version);
  return listPage(ctx.db.select(columns).from(images), input, listOrder, scope, os, text);
}

/** Deletes an image: refuses while volumes depend on it, or (flatten) detaches them from it first. */
async function deleteImage(ctx: ActorCtx, image: ImageRow, flatten: boolean) {
  const storage = getStorage();
  const deps = await ctx.db
    .select({ id: volumes.id, name: volumes.name, storageVolumeId: volumes.storageVolumeId })
    .from(volumes)
    .where(eq(volumes.sourceImageId, image.id));
  if (deps.length > 0 && !flatten)
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `${deps.length} volume(s) were cloned from image ${image.name} (${deps
        .slice(0, 5)
        .map((d) => d.name)
        .join(", ")}${deps.length > 5 ? ", …" : ""}); delete them, or delete the image with "flatten dependent volumes" to copy its data into each.`,
    });
  if (image.state === "creating" || image.state === "deleting")
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Image ${image.name} is ${image.state}; wait until it finishes.` });
  await ctx.db.update(images).set({ state: "deleting" }).where(eq(images.id, image.id));
  const removeObjects = async () => {
    for (const d of deps) {
      if (d.storageVolumeId) await storage.flattenVolume(d.storageVolumeId);
      await ctx.db.update(volumes).set({ sourceImageId: null }).where(eq(volumes.id, d.id));
    }
    if (image.storageVolumeId) await goneIsDone(storage.deleteVolume(image.storageVolumeId));
  };
  await finishDelete(ctx, images, image, removeObjects, {
    type: "image",
    tenantId: image.tenantId,
    refusal: `Storage service refused to delete image ${image.name}`,
    details: { flattened: deps.map((d) => d.id) },
  });
  return { id: image.id, flattened: deps.length };
}

export const imagesRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(listInput.extend({ visibility: z.enum(["public", "tenant"]).optional(), tenantId: z.uuid().optional() }))
    .query(({ ctx, input }) =>
      listImages(
        ctx,
        input,
        and(input.visibility ? eq(images.visibility, input.visibility) : undefined, input.tenantId ? eq(images.tenantId, input.tenantId) : undefined),
      ),
    ),

  /** Distinct OS names (for the filter). */
  osList: operatorProcedure("operator-viewer").query(async ({ ctx }) =>
    (await ctx.db.selectDistinct({ os: images.os }).from(images).orderBy(images.os)).map((r) => r.os),
  ),

  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const row = found(await ctx.db.select(columns).from(images).where(eq(images.id, input.id)), IMAGE_NOT_FOUND);
      const dependents = await ctx.db
        .select({ id: volumes.id, name: volumes.name, tenantId: volumes.tenantId, sizeGiB: volumes.sizeGiB, state: volumes.state })
        .from(volumes)
        .where(eq(volumes.sourceImageId, row.id))
        .limit(200);
      return { ...row, dependents };
    }),

  /** Images a tenant may boot from: public ones and its own. */
  available: tenantProcedure("tenant-member")
    .input(listInput)
    .query(({ ctx, input }) => listImages(ctx, input, and(or(isNull(images.tenantId), eq(images.tenantId, ctx.tenant.id)), eq(images.state, "available")))),

  createFromSnapshot: operatorProcedure("operator-admin")
    .input(imageFromSnapshotSchema)
    .mutation(async ({ ctx, input }) => {
      const { snapshotId, ...meta } = input;
      const [row] = await ctx.db
        .select({ s: snapshots, pool: volumes.logicalPoolId })
        .from(snapshots)
        .innerJoin(volumes, eq(volumes.id, snapshots.volumeId))
        .where(eq(snapshots.id, snapshotId));
      if (!row) throw fieldError("snapshotId", "That snapshot does not exist (it may have been deleted).", "NOT_FOUND");
      if (row.s.state !== "available" || !row.s.storageSnapshotId)
        throw fieldError("snapshotId", `Snapshot ${row.s.name} is ${row.s.state}; use it once it is available.`, "PRECONDITION_FAILED");
      return buildImage(
        ctx,
        meta,
        { kind: "snapshot", storageSnapshotId: row.s.storageSnapshotId, sourceSnapshotId: row.s.id },
        { sizeBytes: row.s.sizeGiB * 1024 ** 3, logicalPoolId: row.pool },
      );
    }),

  /**
   * Downloads a raw or qcow2 file from an http(s) URL and builds an image of it (checked like an upload, SHA-256
   * stored). It runs for as long as the download takes; the dialog shows it pending.
   */
  importFromUrl: operatorProcedure("operator-admin")
    .input(imageImportSchema)
    .mutation(({ ctx, input, signal }) => importImageFromUrl(ctx, input, signal)),

  /** A new image with the same bytes (e.g. a copy to restrict to one tenant, or to edit independently). */
  clone: operatorProcedure("operator-admin")
    .input(imageCloneSchema)
    .mutation(async ({ ctx, input }) => {
      const src = await rowById(ctx.db, images, input.id, IMAGE_NOT_FOUND);
      if (src.state !== "available" || !src.storageSnapshotId)
        throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Image ${src.name} is ${src.state}; clone it once it is available.` });
      return buildImage(
        ctx,
        {
          name: input.name,
          description: input.description ?? src.description,
          os: input.os ?? src.os,
          version: input.version ?? src.version,
          minSizeGiB: input.minSizeGiB ?? src.minSizeGiB,
          visibility: input.visibility ?? src.visibility,
          tenantId: input.visibility ? input.tenantId : (input.tenantId ?? src.tenantId),
        },
        { kind: "clone", storageSnapshotId: src.storageSnapshotId, sourceImageId: src.id },
        { sizeBytes: src.sizeBytes, logicalPoolId: src.logicalPoolId, action: "image.clone" },
      );
    }),

  update: operatorProcedure("operator-admin")
    .input(imageUpdateSchema)
    .mutation(async ({ ctx, input }) => {
      const { id, ...changes } = input;
      return transact(
        ctx.db,
        async (tx) => {
          const before = await rowById(tx, images, id, IMAGE_NOT_FOUND, true);
          const sizeGiB = Math.ceil(before.sizeBytes / 1024 ** 3);
          if (changes.minSizeGiB !== undefined && changes.minSizeGiB < sizeGiB)
            throw fieldError("minSizeGiB", `The image is ${sizeGiB} GiB, so a disk made from it needs at least ${sizeGiB} GiB.`, "BAD_REQUEST");
          return updateRow(tx, ctx, images, before, changes, { type: "image", tenantId: before.tenantId, diff: true });
        },
        imageUniques,
      );
    }),

  delete: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid(), flatten: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => deleteImage(ctx, await rowById(ctx.db, images, input.id, IMAGE_NOT_FOUND), input.flatten)),

  /** A tenant deletes one of its own (private) images, e.g. an old backup. */
  deleteOwn: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return deleteImage(ctx, await tenantRow(ctx.db, images, ctx.tenant.id, input.id, IMAGE_NOT_FOUND), false);
    }),
});
