// Rescue and unrescue of a tenant's instance (server/workflows/instance-rescue.ts). Spread into the instances router
// (instances.rescue, instances.unrescue). Each checks the state rule and its input, then records the state change, the
// operation and the audit entry in one transaction and enqueues the workflow.
import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import { images, sshKeys } from "@/db/schema";
import { precondition } from "@/domain/errors";
import { catalog } from "@/server/workflows/catalog";
import { startOperation } from "@/server/workflows/start";
import { audit } from "@/server/services/audit";
import { applyInstanceEvent } from "@/server/services/instance-state";
import { type Ctx, bootImage, lockInstance, refuse } from "@/server/services/instances";
import { fieldError } from "../errors";
import { tenantProcedure } from "../trpc";

const rescueInput = z.object({
  id: z.uuid(),
  /** The rescue image; default: the one an operator marked for rescue, else the instance's own image. */
  imageId: z.uuid().optional(),
  /** SSH keys (the caller's own) the rescue OS accepts besides the instance's. */
  sshKeyIds: z.array(z.uuid()).max(32, "At most 32 SSH keys").default([]),
});

/** The image a rescue boots when the tenant names none: the newest operator-marked public rescue image, else the own. */
async function defaultRescueImage(ctx: Ctx, ownImageId: string | null): Promise<string> {
  const [marked] = await ctx.db
    .select({ id: images.id })
    .from(images)
    .where(and(eq(images.rescue, true), eq(images.state, "available"), isNull(images.tenantId)))
    .orderBy(desc(images.createdAt))
    .limit(1);
  const id = marked?.id ?? ownImageId;
  if (!id) throw precondition("No rescue image is marked and the instance's own image is gone; pick an image.", "imageId");
  return id;
}

export const instanceRescueProcedures = {
  rescue: tenantProcedure("tenant-member", { write: true })
    .input(rescueInput)
    .mutation(async ({ ctx, input }) => {
      const c = ctx as Ctx;
      const keyIds = [...new Set(input.sshKeyIds)];
      if (keyIds.length) {
        const mine = await ctx.db
          .select({ id: sshKeys.id })
          .from(sshKeys)
          .where(and(inArray(sshKeys.id, keyIds), eq(sshKeys.userId, c.principal.userId)));
        if (mine.length !== keyIds.length) throw fieldError("sshKeyIds", "One of the SSH keys is not yours (or was deleted).", "BAD_REQUEST");
      }
      const op = await ctx.db.transaction(async (tx) => {
        const inst = await lockInstance(tx, c.tenant.id, input.id);
        refuse("rescue", inst.state);
        const image = await bootImage(tx, c.tenant.id, input.imageId ?? (await defaultRescueImage(c, inst.imageId)));
        const started = await startOperation(tx, catalog.instanceRescue, {
          target: { id: inst.id, name: inst.name, tenantId: c.tenant.id },
          createdBy: c.principal.email,
          args: (opId) => [inst.id, opId, image.id, keyIds],
          input: { imageId: image.id, imageName: image.name, extraSshKeys: keyIds.length },
        });
        await applyInstanceEvent(tx, inst.id, "rescue", { operationId: started.id, strict: true });
        await audit(tx, ctx, {
          action: "instance.rescue",
          targetType: "instance",
          targetId: inst.id,
          targetName: inst.name,
          tenantId: c.tenant.id,
          details: { image: image.name, extraSshKeys: keyIds.length },
        });
        return started;
      });
      await op.enqueue();
      return { operationId: op.id };
    }),

  unrescue: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const c = ctx as Ctx;
      const op = await ctx.db.transaction(async (tx) => {
        const inst = await lockInstance(tx, c.tenant.id, input.id);
        refuse("unrescue", inst.state);
        const started = await startOperation(tx, catalog.instanceUnrescue, {
          target: { id: inst.id, name: inst.name, tenantId: c.tenant.id },
          createdBy: c.principal.email,
          args: (opId) => [inst.id, opId],
          input: {},
        });
        await applyInstanceEvent(tx, inst.id, "unrescue", { operationId: started.id, strict: true });
        await audit(tx, ctx, { action: "instance.unrescue", targetType: "instance", targetId: inst.id, targetName: inst.name, tenantId: c.tenant.id });
        return started;
      });
      await op.enqueue();
      return { operationId: op.id };
    }),
};
