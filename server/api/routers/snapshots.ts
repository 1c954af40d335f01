// Tenant snapshots: point-in-time copies of a volume (O(1) on the storage service), the source of new volumes,
// and the tenant's "backup" path: promote a snapshot to an image only that tenant sees. Same no-leak recipe as
// volumes: row + quota in one transaction, service call keyed by the row id, row removed if the service refuses.
import { TRPCError } from "@trpc/server";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { snapshots, volumes } from "@/db/schema";
import { snapshotCreateSchema, snapshotPromoteSchema } from "@/db/validation/storage";
import { enforceQuota } from "@/server/services/quotas";
import { getStorage } from "@/server/storage/backend";
import { buildImage } from "@/server/storage/images";
import { snapshotCount } from "@/server/storage/usage";
import { audit } from "@/server/services/audit";
import { storageError } from "../errors";
import { transact } from "../transact";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantProcedure } from "../trpc";
import { found, inTenant, tenantRow, columnsOf } from "@/server/services/rows";
import { SNAPSHOT_NOT_FOUND, snapshotWithPool, VOLUME_NOT_FOUND } from "@/server/services/volumes";
import { matchesText } from "@/server/lib/like";
import { dropFailedCreate, finishDelete, goneIsDone, startDelete } from "@/server/storage/records";

const uniques = { snapshots_tenant_name_uq: { field: "name", message: "A snapshot with this name already exists in this tenant." } };

const cloneCount = sql<number>`(select count(*)::int from volumes v where v.source_snapshot_id = "snapshots"."id")`;
const columns = {
  ...columnsOf(snapshots, "id", "name", "description", "volumeId"),
  volumeName: volumes.name,
  ...columnsOf(snapshots, "sizeGiB", "state", "storageSnapshotId", "createdAt"),
  volumeCount: cloneCount,
};

/** The columns the list sorts by, and its tie-breaker. */
const listOrder = { sort: { name: snapshots.name, createdAt: snapshots.createdAt }, id: snapshots.id };

export const snapshotsRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(
      pageInput.extend({ q: z.string().trim().max(100).optional(), volumeId: z.uuid().optional(), sort: z.enum(["name", "createdAt"]).default("createdAt") }),
    )
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(snapshots).innerJoin(volumes, eq(volumes.id, snapshots.volumeId));
      const volume = input.volumeId ? eq(snapshots.volumeId, input.volumeId) : undefined;
      return listPage(query, input, listOrder, eq(snapshots.tenantId, ctx.tenant.id), matchesText(input.q, snapshots.name), volume);
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(snapshots).innerJoin(volumes, eq(volumes.id, snapshots.volumeId));
      return found(await query.where(inTenant(snapshots, ctx.tenant.id, input.id)), SNAPSHOT_NOT_FOUND);
    }),

  create: tenantProcedure("tenant-member", { write: true })
    .input(snapshotCreateSchema)
    .mutation(async ({ ctx, input }) => {
      const storage = getStorage();
      const { row, storageVolumeId } = await transact(
        ctx.db,
        async (tx) => {
          const v = await tenantRow(tx, volumes, ctx.tenant.id, input.volumeId, VOLUME_NOT_FOUND);
          if (!v.storageVolumeId || (v.state !== "available" && v.state !== "attached"))
            throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Volume ${v.name} is ${v.state}; snapshot it once it is available.` });
          await enforceQuota(tx, ctx.tenant.id, [{ resource: "snapshots", add: 1, used: (t) => snapshotCount(t, ctx.tenant.id) }]);
          const [r] = await tx
            .insert(snapshots)
            .values({ tenantId: ctx.tenant.id, volumeId: v.id, name: input.name, description: input.description ?? "", sizeGiB: v.sizeGiB, state: "creating" })
            .returning();
          await audit(tx, ctx, {
            action: "snapshot.create",
            targetType: "snapshot",
            targetId: r!.id,
            targetName: r!.name,
            tenantId: ctx.tenant.id,
            details: { volumeId: v.id, volumeName: v.name },
          });
          return { row: r!, storageVolumeId: v.storageVolumeId };
        },
        uniques,
      );
      try {
        const s = await storage.createSnapshot({ volumeId: storageVolumeId, name: `snap-${row.id}` }, { idempotencyKey: row.id });
        const [done] = await ctx.db.update(snapshots).set({ storageSnapshotId: s.id, state: "available" }).where(eq(snapshots.id, row.id)).returning();
        return done!;
      } catch (e) {
        await dropFailedCreate(ctx, snapshots, row, { type: "snapshot", tenantId: ctx.tenant.id }, e);
        throw storageError(e, {}, "Storage service refused the snapshot");
      }
    }),

  delete: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const storage = getStorage();
      const s = await startDelete(ctx, snapshots, { tenantId: ctx.tenant.id, id: input.id, notFound: SNAPSHOT_NOT_FOUND }, async (tx, row) => {
        if (row.state === "creating" || row.state === "deleting")
          throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Snapshot ${row.name} is ${row.state}; wait until it finishes.` });
        const clones = await tx.select({ name: volumes.name }).from(volumes).where(eq(volumes.sourceSnapshotId, row.id)).limit(5);
        if (clones.length > 0)
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: `Volume(s) ${clones.map((c) => c.name).join(", ")} were created from snapshot ${row.name} and still share its data; delete them first.`,
          });
      });
      const removeObject = async () => {
        if (s.storageSnapshotId) await goneIsDone(storage.deleteSnapshot(s.storageSnapshotId));
      };
      const refusal = `Storage service refused to delete snapshot ${s.name}`;
      await finishDelete(ctx, snapshots, s, removeObject, { type: "snapshot", tenantId: ctx.tenant.id, refusal });
      return { id: s.id };
    }),

  /** The tenant's backup: a private image made from one of its snapshots (a flattened copy: it outlives the volume). */
  promote: tenantProcedure("tenant-member", { write: true })
    .input(snapshotPromoteSchema)
    .mutation(async ({ ctx, input }) => {
      const { id, ...meta } = input;
      const row = found(await snapshotWithPool(ctx.db, ctx.tenant.id, id), SNAPSHOT_NOT_FOUND);
      if (row.s.state !== "available" || !row.s.storageSnapshotId)
        throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Snapshot ${row.s.name} is ${row.s.state}; promote it once it is available.` });
      return buildImage(
        ctx,
        { ...meta, visibility: "tenant", tenantId: ctx.tenant.id },
        { kind: "snapshot", storageSnapshotId: row.s.storageSnapshotId, sourceSnapshotId: row.s.id },
        { sizeBytes: row.s.sizeGiB * 1024 ** 3, logicalPoolId: row.pool, action: "snapshot.promote" },
      );
    }),
});
