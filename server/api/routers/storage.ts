// Operator view of the distributed storage: capacity overview, storage nodes and physical disks with health,
// disk pools and logical pools (create/edit/delete; the service refuses deletes while in use and its reason is
// shown), every tenant's volumes (filters: tenant, pool, state, attached) with their targets and attachments,
// and the targets list (NQN/IQN, which initiator each is exported to). The service is the source of truth for
// capacity; Anvil's rows say which tenant owns which volume.
import { TRPCError } from "@trpc/server";
import { eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { nodes, snapshots, tenants, volumeAttachments, volumes } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { diskPoolCreateSchema, diskPoolUpdateSchema, logicalPoolCreateSchema, logicalPoolUpdateSchema, volumeStates } from "@/db/validation/storage";
import type { Disk, LogicalPool, StorageClient, StorageNode, Target } from "@/server/drivers/storage/client";
import type { Db } from "@/db/client";
import type { Principal } from "@/server/auth/principal";
import { changedFields } from "../updates";
import { getStorage } from "@/server/storage/backend";
import { audit } from "@/server/services/audit";
import { storageError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { attachmentCount, VOLUME_NOT_FOUND, volumeOrder } from "@/server/services/volumes";
import { matchesText } from "@/server/lib/like";

async function all<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

const poolFields = { sizeBytes: "overcommitRatio" };

/**
 * An operator's change to a pool on the storage service: `change` makes it and answers with the pool; then it is
 * audited as `action` ("<target type>.<verb>") with `details`. A refusal is the service's message (`fields`: its
 * field names → the form's).
 */
async function changeOnService<P extends { id: string; name: string }>(
  ctx: { db: Db; principal: Principal | null; requestId: string },
  action: string,
  change: (s: StorageClient) => Promise<P>,
  details?: Record<string, unknown> | (() => Record<string, unknown>),
  fields: Record<string, string> = {},
): Promise<P> {
  try {
    const p = await change(getStorage());
    const targetType = action.slice(0, action.indexOf("."));
    const what = typeof details === "function" ? details() : details;
    await ctx.db.transaction((tx) => audit(tx, ctx, { action, targetType, targetId: p.id, targetName: p.name, details: what }));
    return p;
  } catch (e) {
    throw storageError(e, fields);
  }
}

/** Deletes a pool on the storage service (read first, for the audit row's name); answers with its id. */
async function deleteOnService(
  ctx: Parameters<typeof changeOnService>[0],
  action: string,
  read: (s: StorageClient) => Promise<{ id: string; name: string }>,
  remove: (s: StorageClient) => Promise<void>,
): Promise<{ id: string }> {
  const p = await changeOnService(ctx, action, async (s) => {
    const pool = await read(s);
    await remove(s);
    return pool;
  });
  return { id: p.id };
}

export const storageRouter = createTRPCRouter({
  /** Capacity / used / provisioned by disk pool and logical pool, nodes and disks with health. */
  overview: operatorProcedure("operator-viewer").query(async () => {
    const s = getStorage();
    try {
      const [nodeList, disks, diskPools, logicalPools] = await Promise.all([
        all<StorageNode>(s.listAll(s.listNodes)),
        all<Disk>(s.listAll(s.listDisks)),
        all(s.listAll(s.listDiskPools)),
        all<LogicalPool>(s.listAll(s.listLogicalPools)),
      ]);
      const totals = {
        rawBytes: diskPools.reduce((n, p) => n + p.capacityBytes, 0),
        allocatedRawBytes: diskPools.reduce((n, p) => n + p.allocatedRawBytes, 0),
        usableBytes: logicalPools.reduce((n, p) => n + p.usableBytes, 0),
        usedBytes: logicalPools.reduce((n, p) => n + p.usedBytes, 0),
        provisionedBytes: logicalPools.reduce((n, p) => n + p.provisionedBytes, 0),
        unassignedDisks: disks.filter((d) => d.diskPoolId === null).length,
        unhealthyDisks: disks.filter((d) => d.health !== "ok").length,
      };
      return {
        totals,
        diskPools,
        logicalPools,
        nodes: nodeList.map((n) => ({ ...n, disks: disks.filter((d) => d.nodeId === n.id) })),
        disks,
      };
    } catch (e) {
      throw storageError(e);
    }
  }),

  createDiskPool: operatorProcedure("operator-admin")
    .input(diskPoolCreateSchema)
    .mutation(({ ctx, input }) => {
      const create = (s: StorageClient) => s.createDiskPool(input, { idempotencyKey: `${ctx.requestId}:dp:${input.name}` });
      return changeOnService(ctx, "disk_pool.create", create, { disks: input.diskIds.length });
    }),
  updateDiskPool: operatorProcedure("operator-admin")
    .input(diskPoolUpdateSchema)
    .mutation(({ ctx, input }) => changeOnService(ctx, "disk_pool.update", (s) => s.updateDiskPool(input.id, { name: input.name }), { name: input.name })),
  deleteDiskPool: operatorProcedure("operator-admin")
    .input(z.object({ id: z.string().min(1).max(200) }))
    .mutation(({ ctx, input }) =>
      deleteOnService(
        ctx,
        "disk_pool.delete",
        (s) => s.getDiskPool(input.id),
        (s) => s.deleteDiskPool(input.id),
      ),
    ),

  createLogicalPool: operatorProcedure("operator-admin")
    .input(logicalPoolCreateSchema)
    .mutation(({ ctx, input }) => {
      const create = (s: StorageClient) => s.createLogicalPool(input, { idempotencyKey: `${ctx.requestId}:lp:${input.name}` });
      return changeOnService(ctx, "logical_pool.create", create, { ...input }, poolFields);
    }),
  updateLogicalPool: operatorProcedure("operator-admin")
    .input(logicalPoolUpdateSchema)
    .mutation(async ({ ctx, input }) => {
      const { id, ...patch } = input;
      let before: LogicalPool;
      const update = async (s: StorageClient) => {
        before = await s.getLogicalPool(id);
        return s.updateLogicalPool(id, patch);
      };
      return changeOnService(ctx, "logical_pool.update", update, () => changedFields(before, patch), poolFields);
    }),
  deleteLogicalPool: operatorProcedure("operator-admin")
    .input(z.object({ id: z.string().min(1).max(200) }))
    .mutation(({ ctx, input }) =>
      deleteOnService(
        ctx,
        "logical_pool.delete",
        (s) => s.getLogicalPool(input.id),
        (s) => s.deleteLogicalPool(input.id),
      ),
    ),

  /** Every tenant's volumes. */
  volumes: operatorProcedure("operator-viewer")
    .input(
      pageInput.extend({
        q: z.string().trim().max(100).optional(),
        tenant: z.string().trim().max(63).optional(),
        logicalPoolId: z.string().max(200).optional(),
        state: z.enum(volumeStates).optional(),
        attached: z.boolean().optional(),
        sort: z.enum(["name", "createdAt", "sizeGiB"]).default("createdAt"),
      }),
    )
    .query(async ({ ctx, input }) => {
      const hasAttachment = sql`exists (select 1 from volume_attachments va where va.volume_id = "volumes"."id")`;
      const query = ctx.db
        .select({
          ...columnsOf(volumes, "id", "name", "tenantId"),
          tenantSlug: tenants.slug,
          ...columnsOf(volumes, "sizeGiB", "kind", "logicalPoolId", "state", "multiAttach"),
          sourceImageName: sql<string | null>`(select i.name from images i where i.id = "volumes"."source_image_id")`,
          storageVolumeId: volumes.storageVolumeId,
          createdAt: volumes.createdAt,
          attachments: attachmentCount,
        })
        .from(volumes)
        .innerJoin(tenants, eq(tenants.id, volumes.tenantId));
      return listPage(
        query,
        input,
        volumeOrder,
        input.tenant ? eq(tenants.slug, input.tenant) : undefined,
        input.logicalPoolId ? eq(volumes.logicalPoolId, input.logicalPoolId) : undefined,
        input.state ? eq(volumes.state, input.state) : undefined,
        input.attached === undefined ? undefined : input.attached ? hasAttachment : sql`not ${hasAttachment}`,
        matchesText(input.q, volumes.name),
      );
    }),

  /** One volume: Anvil's record, the service's view (used bytes, parent), its targets, attachments and snapshots. */
  volume: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [row] = await ctx.db
        .select({ v: volumes, tenantSlug: tenants.slug })
        .from(volumes)
        .innerJoin(tenants, eq(tenants.id, volumes.tenantId))
        .where(eq(volumes.id, input.id));
      if (!row) throw new TRPCError({ code: "NOT_FOUND", message: VOLUME_NOT_FOUND });
      const attachments = await ctx.db
        .select({
          id: volumeAttachments.id,
          nodeId: volumeAttachments.nodeId,
          nodeName: nodes.name,
          ...columnsOf(volumeAttachments, "instanceId", "storageTargetId", "createdAt"),
        })
        .from(volumeAttachments)
        .leftJoin(nodes, eq(nodes.id, volumeAttachments.nodeId))
        .where(eq(volumeAttachments.volumeId, row.v.id));
      const snaps = await ctx.db
        .select({ id: snapshots.id, name: snapshots.name, state: snapshots.state, createdAt: snapshots.createdAt })
        .from(snapshots)
        .where(eq(snapshots.volumeId, row.v.id));
      let service = null;
      let targets: Awaited<ReturnType<ReturnType<typeof getStorage>["listTargets"]>>["items"] = [];
      if (row.v.storageVolumeId) {
        const s = getStorage();
        try {
          [service, targets] = await Promise.all([s.getVolume(row.v.storageVolumeId), all(s.listAll(s.listTargets, { volumeId: row.v.storageVolumeId }))]);
        } catch (e) {
          throw storageError(e);
        }
      }
      return { ...row.v, tenantSlug: row.tenantSlug, attachments, snapshots: snaps, service, targets };
    }),

  /** Every tenant's snapshots (e.g. to make a public image from one). */
  snapshots: operatorProcedure("operator-viewer")
    .input(pageInput.extend({ tenant: z.string().trim().max(63).optional(), q: z.string().trim().max(100).optional() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db
        .select({
          id: snapshots.id,
          name: snapshots.name,
          tenantSlug: tenants.slug,
          volumeName: volumes.name,
          ...columnsOf(snapshots, "sizeGiB", "state", "createdAt"),
        })
        .from(snapshots)
        .innerJoin(volumes, eq(volumes.id, snapshots.volumeId))
        .innerJoin(tenants, eq(tenants.id, snapshots.tenantId));
      const tenant = input.tenant ? eq(tenants.slug, input.tenant) : undefined;
      return listPage(query, input, { sort: { createdAt: snapshots.createdAt }, id: snapshots.id }, tenant, matchesText(input.q, snapshots.name));
    }),

  /** Targets (NVMe-oF subsystems / iSCSI targets / RBD cephx identities; never their keys) and the initiator each is exported to, with the owning volume. */
  targets: operatorProcedure("operator-viewer")
    .input(z.object({ protocol: z.enum(["nvme-tcp", "iscsi", "rbd"]).optional(), initiator: z.string().max(300).optional() }).default({}))
    .query(async ({ ctx, input }) => {
      const s = getStorage();
      let list: Target[];
      try {
        list = await all(s.listAll(s.listTargets, { protocol: input.protocol, initiator: input.initiator }));
      } catch (e) {
        throw storageError(e);
      }
      const ids = [...new Set(list.map((t) => t.volumeId))];
      const owners = ids.length
        ? await ctx.db
            .select({ storageVolumeId: volumes.storageVolumeId, id: volumes.id, name: volumes.name, tenantSlug: tenants.slug })
            .from(volumes)
            .innerJoin(tenants, eq(tenants.id, volumes.tenantId))
            .where(inArray(volumes.storageVolumeId, ids))
        : [];
      const byId = new Map(owners.map((o) => [o.storageVolumeId, o]));
      return list.map((t) => ({ ...t, volume: byId.get(t.volumeId) ?? null }));
    }),
});
