// Instance actions beyond the lifecycle: attach / detach data volumes (hot-plug; multi-attach volumes on several
// instances), backup to a tenant image, rebuild from an image. Spread into the instances router (instances.<name>).
// Each validates and records intent in one transaction (with quota where it grows usage), then enqueues its workflow
// (server/workflows/instance-actions.ts); the instance's own state changes only for a rebuild.
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { images, instances, pools, volumeAttachments, volumes } from "@/db/schema";
import { enforceQuota } from "@/server/services/quotas";
import { snapshotCount, volumeGiB } from "@/server/storage/usage";
import { catalog } from "@/server/workflows/catalog";
import { startOperation } from "@/server/workflows/start";
import { audit } from "@/server/services/audit";
import { fieldError } from "../errors";
import { transact } from "../transact";
import { tenantProcedure } from "../trpc";
import { type Ctx, lockInstance, refuse, bootImage } from "@/server/services/instances";
import { applyInstanceEvent } from "@/server/services/instance-state";

const byId = z.object({ id: z.uuid(), volumeId: z.uuid() });

async function volumeAction(ctx: Ctx, input: { id: string; volumeId: string }, kind: "attach" | "detach") {
  // The database allows one attachment of a volume that is not multi-attach, whatever raced us.
  const single = {
    volume_attachments_single_uq: {
      field: "volumeId",
      message: "The volume is attached elsewhere and is not multi-attach.",
      code: "PRECONDITION_FAILED" as const,
    },
  };
  const op = await transact(
    ctx.db,
    async (tx) => {
      const inst = await lockInstance(tx, ctx.tenant.id, input.id);
      refuse("attach", inst.state);
      const [v] = await tx
        .select()
        .from(volumes)
        .where(and(eq(volumes.id, input.volumeId), eq(volumes.tenantId, ctx.tenant.id)))
        .for("update");
      if (!v) throw fieldError("volumeId", "No such volume in this tenant.", "BAD_REQUEST");
      if (v.kind === "system")
        throw fieldError(
          "volumeId",
          `Volume ${v.name} is a system disk; it is attached and detached with its instance (rebuild replaces it).`,
          "PRECONDITION_FAILED",
        );
      const [held] = await tx
        .select({ id: volumeAttachments.id })
        .from(volumeAttachments)
        .where(and(eq(volumeAttachments.volumeId, v.id), eq(volumeAttachments.instanceId, inst.id)));
      if (kind === "attach") {
        if (held) throw fieldError("volumeId", `Volume ${v.name} is already attached to ${inst.name}.`, "PRECONDITION_FAILED");
        if (!v.storageVolumeId || (v.state !== "available" && !(v.state === "attached" && v.multiAttach)))
          throw fieldError(
            "volumeId",
            v.state === "attached"
              ? `Volume ${v.name} is attached elsewhere and is not multi-attach.`
              : `Volume ${v.name} is ${v.state}; attach it once it is available.`,
            "PRECONDITION_FAILED",
          );
        await tx.insert(volumeAttachments).values({ volumeId: v.id, multiAttach: v.multiAttach, instanceId: inst.id });
        await tx.update(volumes).set({ state: "attached" }).where(eq(volumes.id, v.id));
      } else if (!held) throw fieldError("volumeId", `Volume ${v.name} is not attached to ${inst.name}.`, "PRECONDITION_FAILED");
      const started = await startOperation(tx, kind === "attach" ? catalog.instanceAttachVolume : catalog.instanceDetachVolume, {
        target: { id: inst.id, name: inst.name, tenantId: ctx.tenant.id },
        createdBy: ctx.principal.email,
        args: (opId) => [inst.id, opId, v.id],
        input: { volumeId: v.id, volumeName: v.name },
      });
      // The instance's page shows its latest operation, whatever kind.
      await tx.update(instances).set({ operationId: started.id }).where(eq(instances.id, inst.id));
      await audit(tx, ctx, {
        action: `instance.${kind}_volume`,
        targetType: "instance",
        targetId: inst.id,
        targetName: inst.name,
        tenantId: ctx.tenant.id,
        details: { volumeId: v.id, volume: v.name },
      });
      return started;
    },
    single,
  );
  await op.enqueue();
  return { operationId: op.id };
}

export const instanceActionProcedures = {
  attachVolume: tenantProcedure("tenant-member", { write: true })
    .input(byId)
    .mutation(({ ctx, input }) => volumeAction(ctx as Ctx, input, "attach")),
  detachVolume: tenantProcedure("tenant-member", { write: true })
    .input(byId)
    .mutation(({ ctx, input }) => volumeAction(ctx as Ctx, input, "detach")),

  backup: tenantProcedure("tenant-member", { write: true })
    .input(
      z.object({
        id: z.uuid(),
        imageName: z
          .string()
          .trim()
          .min(2, "At least 2 characters")
          .max(63, "At most 63 characters")
          .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, "Lowercase letters, digits, dots and dashes"),
        includeDataVolumes: z.boolean().default(false),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const c = ctx as Ctx;
      const op = await ctx.db.transaction(async (tx) => {
        const inst = await lockInstance(tx, c.tenant.id, input.id);
        refuse("backup", inst.state);
        const [dup] = await tx
          .select({ id: images.id })
          .from(images)
          .where(and(eq(images.tenantId, c.tenant.id), sql`lower(${images.name}) = lower(${input.imageName})`));
        if (dup) throw fieldError("imageName", `An image named ${input.imageName} already exists in this tenant.`);
        const data = input.includeDataVolumes
          ? await tx
              .select({ n: sql<number>`count(*)::int` })
              .from(volumeAttachments)
              .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
              .where(and(eq(volumeAttachments.instanceId, inst.id), eq(volumes.kind, "data")))
          : [{ n: 0 }];
        if (data[0]!.n) await enforceQuota(tx, c.tenant.id, [{ resource: "snapshots", add: data[0]!.n, used: (t) => snapshotCount(t, c.tenant.id) }]);
        const started = await startOperation(tx, catalog.instanceBackup, {
          target: { id: inst.id, name: inst.name, tenantId: c.tenant.id },
          createdBy: c.principal.email,
          args: (opId) => [inst.id, opId, input.imageName, input.includeDataVolumes],
          input: { imageName: input.imageName },
        });
        await tx.update(instances).set({ operationId: started.id }).where(eq(instances.id, inst.id));
        await audit(tx, ctx, {
          action: "instance.backup",
          targetType: "instance",
          targetId: inst.id,
          targetName: inst.name,
          tenantId: c.tenant.id,
          details: { imageName: input.imageName, includeDataVolumes: input.includeDataVolumes },
        });
        return started;
      });
      await op.enqueue();
      return { operationId: op.id };
    }),

  rebuild: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid(), imageId: z.uuid(), systemVolumeSizeGiB: z.int().min(1).max(16_384).optional() }))
    .mutation(async ({ ctx, input }) => {
      const c = ctx as Ctx;
      const image = await bootImage(ctx.db, c.tenant.id, input.imageId);
      const op = await ctx.db.transaction(async (tx) => {
        const inst = await lockInstance(tx, c.tenant.id, input.id);
        refuse("rebuild", inst.state);
        const [pool] = await tx.select({ max: pools.maxSystemVolumeGiB, name: pools.name }).from(pools).where(eq(pools.id, inst.poolId));
        const size = input.systemVolumeSizeGiB ?? Math.max(image.minSizeGiB, inst.systemVolumeSizeGiB);
        if (size < image.minSizeGiB)
          throw fieldError("systemVolumeSizeGiB", `Image ${image.name} needs a system volume of at least ${image.minSizeGiB} GiB.`, "BAD_REQUEST");
        if (pool && size > pool.max) throw fieldError("systemVolumeSizeGiB", `Pool ${pool.name} allows system volumes up to ${pool.max} GiB.`, "BAD_REQUEST");
        // The old disk is deleted once the new one works: the peak is both; count the growth at least.
        await enforceQuota(tx, c.tenant.id, [
          { resource: "volumeGiB", add: Math.max(0, size - inst.systemVolumeSizeGiB), used: (t) => volumeGiB(t, c.tenant.id) },
        ]);
        const started = await startOperation(tx, catalog.instanceRebuild, {
          target: { id: inst.id, name: inst.name, tenantId: c.tenant.id },
          createdBy: c.principal.email,
          args: (opId) => [inst.id, opId, image.id, size],
          input: { imageId: image.id, imageName: image.name, systemVolumeSizeGiB: size },
        });
        await applyInstanceEvent(tx, inst.id, "rebuild", { operationId: started.id, strict: true });
        await audit(tx, ctx, {
          action: "instance.rebuild",
          targetType: "instance",
          targetId: inst.id,
          targetName: inst.name,
          tenantId: c.tenant.id,
          details: { image: image.name, systemVolumeSizeGiB: size },
        });
        return started;
      });
      await op.enqueue();
      return { operationId: op.id };
    }),
};
