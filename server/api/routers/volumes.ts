// Tenant volumes: blank, from an image (thin clone of its golden snapshot: a system disk) or from one of the
// tenant's snapshots; resize up; rename; delete (refused while attached or while volumes cloned from its
// snapshots exist). Creating never leaks: the row (state creating) and the quota check commit in one transaction,
// then the storage service is called with the row id as idempotency key, then the row becomes available; if the
// service refuses, the row is deleted and the service's message is reported.
import { TRPCError } from "@trpc/server";
import { eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { images, snapshots, volumeAttachments, volumes } from "@/db/schema";
import { GiB, volumeCreateSchema, volumeResizeSchema, volumeStates, volumeUpdateSchema } from "@/db/validation/storage";
import { enforceQuota } from "@/server/services/quotas";
import { defaultLogicalPoolId, getStorage, tenantNamespace } from "@/server/storage/backend";
import { visibleTo } from "@/server/storage/images";
import { storageUsage, volumeCount, volumeGiB } from "@/server/storage/usage";
import { audit } from "@/server/services/audit";
import { fieldError, storageError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantProcedure } from "../trpc";
import { updateById } from "../updates";
import { found, inTenant, tenantRow, columnsOf } from "@/server/services/rows";
import { matchesText } from "@/server/lib/like";
import { attachmentCount, SNAPSHOT_NOT_FOUND, snapshotWithPool, VOLUME_NOT_FOUND, volumeOrder } from "@/server/services/volumes";
import { transact } from "../transact";
import { dropFailedCreate, finishDelete, goneIsDone, startDelete } from "@/server/storage/records";

export const volumeUniques = { volumes_tenant_name_uq: { field: "name", message: "A volume with this name already exists in this tenant." } };

const volumeColumns = {
  ...columnsOf(volumes, "id", "tenantId", "name", "description", "sizeGiB", "kind", "logicalPoolId", "sourceImageId"),
  sourceImageName: sql<string | null>`(select i.name from images i where i.id = "volumes"."source_image_id")`,
  sourceSnapshotId: volumes.sourceSnapshotId,
  sourceSnapshotName: sql<string | null>`(select s.name from snapshots s where s.id = "volumes"."source_snapshot_id")`,
  ...columnsOf(volumes, "multiAttach", "state", "storageVolumeId", "error", "createdAt", "updatedAt"),
  attachments: attachmentCount,
};

/** The rule the UI and the server share: why a volume cannot be deleted right now (null = it can). */
export function volumeDeleteBlocker(v: { name: string; state: string; attachments: number }): string | null {
  if (v.attachments > 0) return `Volume ${v.name} is attached (${v.attachments}); detach it before deleting.`;
  if (v.state === "creating" || v.state === "deleting") return `Volume ${v.name} is ${v.state}; wait until it finishes.`;
  return null;
}

export const volumesRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(
      pageInput.extend({
        q: z.string().trim().max(100).optional(),
        state: z.enum(volumeStates).optional(),
        sort: z.enum(["name", "createdAt", "sizeGiB"]).default("createdAt"),
      }),
    )
    .query(async ({ ctx, input }) => {
      const state = input.state ? eq(volumes.state, input.state) : undefined;
      const p = await listPage(
        ctx.db.select(volumeColumns).from(volumes),
        input,
        volumeOrder,
        eq(volumes.tenantId, ctx.tenant.id),
        matchesText(input.q, volumes.name),
        state,
      );
      return { ...p, items: p.items.map((r) => ({ ...r, deleteBlocker: volumeDeleteBlocker(r) })) };
    }),

  /** Usage vs quota (volumes, GiB, snapshots) for the storage pages. */
  usage: tenantProcedure("tenant-member").query(({ ctx }) => storageUsage(ctx.db, ctx.tenant.id)),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(volumeColumns).from(volumes);
      const row = found(await query.where(inTenant(volumes, ctx.tenant.id, input.id)), VOLUME_NOT_FOUND);
      const snaps = await ctx.db
        .select({ id: snapshots.id, name: snapshots.name, sizeGiB: snapshots.sizeGiB, state: snapshots.state, createdAt: snapshots.createdAt })
        .from(snapshots)
        .where(eq(snapshots.volumeId, row.id))
        .orderBy(snapshots.createdAt);
      return { ...row, snapshots: snaps, deleteBlocker: volumeDeleteBlocker(row) };
    }),

  create: tenantProcedure("tenant-member", { write: true })
    .input(volumeCreateSchema)
    .mutation(async ({ ctx, input }) => {
      if (input.imageId && input.snapshotId) throw fieldError("snapshotId", "Create from an image or from a snapshot, not both.", "BAD_REQUEST");
      const storage = getStorage();
      // Resolve the source and the pool the volume must live in (a clone lives in its parent's pool).
      let source: { storageSnapshotId: string; logicalPoolId: string } | null = null;
      let kind = input.kind ?? "data";
      if (input.imageId) {
        const [img] = await ctx.db.select().from(images).where(eq(images.id, input.imageId));
        const image = visibleTo(img, ctx.tenant.id);
        if (image.state !== "available" || !image.storageSnapshotId)
          throw fieldError("imageId", `Image ${image.name} is ${image.state}; pick an available image.`, "PRECONDITION_FAILED");
        if (input.sizeGiB < image.minSizeGiB)
          throw fieldError("sizeGiB", `Image ${image.name} needs a disk of at least ${image.minSizeGiB} GiB.`, "BAD_REQUEST");
        source = { storageSnapshotId: image.storageSnapshotId, logicalPoolId: image.logicalPoolId };
        if (!input.kind) kind = "system";
      } else if (input.snapshotId) {
        const snap = found(await snapshotWithPool(ctx.db, ctx.tenant.id, input.snapshotId), SNAPSHOT_NOT_FOUND);
        if (snap.s.state !== "available" || !snap.s.storageSnapshotId)
          throw fieldError("snapshotId", `Snapshot ${snap.s.name} is ${snap.s.state}; wait until it is available.`, "PRECONDITION_FAILED");
        if (input.sizeGiB < snap.s.sizeGiB)
          throw fieldError("sizeGiB", `Snapshot ${snap.s.name} is ${snap.s.sizeGiB} GiB; the volume must be at least that big.`, "BAD_REQUEST");
        source = { storageSnapshotId: snap.s.storageSnapshotId, logicalPoolId: snap.pool };
      }
      const logicalPoolId = source?.logicalPoolId ?? (await defaultLogicalPoolId());

      let row: typeof volumes.$inferSelect;
      row = await transact(
        ctx.db,
        async (tx) => {
          await enforceQuota(tx, ctx.tenant.id, [
            { resource: "volumes", add: 1, used: (t) => volumeCount(t, ctx.tenant.id) },
            { resource: "volumeGiB", add: input.sizeGiB, used: (t) => volumeGiB(t, ctx.tenant.id) },
          ]);
          const [r] = await tx
            .insert(volumes)
            .values({
              tenantId: ctx.tenant.id,
              name: input.name,
              description: input.description ?? "",
              sizeGiB: input.sizeGiB,
              kind,
              logicalPoolId,
              sourceImageId: input.imageId ?? null,
              sourceSnapshotId: input.snapshotId ?? null,
              multiAttach: input.multiAttach ?? false,
              state: "creating",
            })
            .returning();
          await audit(tx, ctx, {
            action: "volume.create",
            targetType: "volume",
            targetId: r!.id,
            targetName: r!.name,
            tenantId: ctx.tenant.id,
            details: { sizeGiB: r!.sizeGiB, kind, imageId: input.imageId ?? null, snapshotId: input.snapshotId ?? null, multiAttach: r!.multiAttach },
          });
          return r!;
        },
        volumeUniques,
      );

      try {
        const name = `vol-${row.id}`;
        const sizeBytes = row.sizeGiB * GiB;
        const v = source
          ? await storage.cloneVolume(
              { name, sourceSnapshotId: source.storageSnapshotId, sizeBytes, multiAttach: row.multiAttach, namespace: tenantNamespace(ctx.tenant.id) },
              { idempotencyKey: row.id },
            )
          : await storage.createVolume(
              { name, logicalPoolId, sizeBytes, multiAttach: row.multiAttach, namespace: tenantNamespace(ctx.tenant.id) },
              { idempotencyKey: row.id },
            );
        const [done] = await ctx.db.update(volumes).set({ storageVolumeId: v.id, state: "available" }).where(eq(volumes.id, row.id)).returning();
        return done!;
      } catch (e) {
        await dropFailedCreate(ctx, volumes, row, { type: "volume", tenantId: ctx.tenant.id }, e);
        throw storageError(e, { sizeBytes: "sizeGiB", name: "name" }, "Storage service refused the volume");
      }
    }),

  update: tenantProcedure("tenant-member", { write: true })
    .input(volumeUpdateSchema)
    .mutation(({ ctx, input }) =>
      updateById(ctx, volumes, input, { type: "volume", tenantId: ctx.tenant.id, notFound: VOLUME_NOT_FOUND, uniques: volumeUniques, diff: true }),
    ),

  /** Grow a volume (volumes never shrink); the GiB quota is checked for the difference. */
  resize: tenantProcedure("tenant-member", { write: true })
    .input(volumeResizeSchema)
    .mutation(async ({ ctx, input }) => {
      const storage = getStorage();
      try {
        return await transact(
          ctx.db,
          async (tx) => {
            const v = await tenantRow(tx, volumes, ctx.tenant.id, input.id, VOLUME_NOT_FOUND, true);
            if (input.sizeGiB < v.sizeGiB)
              throw fieldError(
                "sizeGiB",
                `Volumes only grow: ${v.name} is ${v.sizeGiB} GiB; pick more than that (or create a smaller volume and copy the data).`,
                "BAD_REQUEST",
              );
            if (input.sizeGiB === v.sizeGiB) return v;
            if (!v.storageVolumeId || (v.state !== "available" && v.state !== "attached"))
              throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Volume ${v.name} is ${v.state}; it can be resized once it is available.` });
            await enforceQuota(tx, ctx.tenant.id, [{ resource: "volumeGiB", add: input.sizeGiB - v.sizeGiB, used: (t) => volumeGiB(t, ctx.tenant.id) }]);
            const [row] = await tx.update(volumes).set({ sizeGiB: input.sizeGiB }).where(eq(volumes.id, v.id)).returning();
            await audit(tx, ctx, {
              action: "volume.resize",
              targetType: "volume",
              targetId: v.id,
              targetName: v.name,
              tenantId: ctx.tenant.id,
              details: { sizeGiB: { from: v.sizeGiB, to: input.sizeGiB } },
            });
            // Last, inside the transaction: if the service refuses (pool full), nothing above is kept.
            await storage.resizeVolume(v.storageVolumeId, input.sizeGiB * GiB);
            return row!;
          },
          volumeUniques,
        );
      } catch (e) {
        throw storageError(e, { sizeBytes: "sizeGiB" }, "Storage service refused the resize");
      }
    }),

  delete: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const storage = getStorage();
      const v = await startDelete(ctx, volumes, { tenantId: ctx.tenant.id, id: input.id, notFound: VOLUME_NOT_FOUND }, async (tx, row) => {
        const [{ n }] = (await tx.select({ n: sql<number>`count(*)::int` }).from(volumeAttachments).where(eq(volumeAttachments.volumeId, row.id))) as [
          { n: number },
        ];
        const blocker = volumeDeleteBlocker({ ...row, attachments: n });
        if (blocker) throw new TRPCError({ code: "PRECONDITION_FAILED", message: blocker });
        const snapIds = (await tx.select({ id: snapshots.id }).from(snapshots).where(eq(snapshots.volumeId, row.id))).map((s) => s.id);
        if (snapIds.length > 0) {
          const clones = await tx.select({ name: volumes.name }).from(volumes).where(inArray(volumes.sourceSnapshotId, snapIds)).limit(5);
          if (clones.length > 0)
            throw new TRPCError({
              code: "PRECONDITION_FAILED",
              message: `Volume ${row.name} has snapshots that volume(s) ${clones.map((c) => c.name).join(", ")} were created from; delete those volumes first.`,
            });
        }
      });
      const removeObject = async () => {
        if (v.storageVolumeId) await goneIsDone(storage.deleteVolume(v.storageVolumeId));
      };
      const refusal = `Storage service refused to delete volume ${v.name}`;
      await finishDelete(ctx, volumes, v, removeObject, { type: "volume", tenantId: ctx.tenant.id, refusal, details: { sizeGiB: v.sizeGiB } });
      return { id: v.id };
    }),
});
