// Operations: the progress of long-running work (steps, current step, percent, error), for operators — and the two
// things an operator can do about one: retry a failed instance operation (create, delete, recover) and abort a
// running create (cooperative: the workflow notices between pieces of work and rolls back what it did).
import { TRPCError } from "@trpc/server";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { images, instances, operations, volumeAttachments, volumes } from "@/db/schema";
import { startRecovery } from "@/server/workflows/recovery-start";
import { catalog } from "@/server/workflows/catalog";
import { type StartedOperation, startOperation } from "@/server/workflows/start";
import { audit } from "@/server/services/audit";
import { eqIf, listPage, newestFirstPageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { enforceCreateQuota, prepareCreate } from "@/server/services/instances";
import { applyInstanceEvent } from "@/server/services/instance-state";
import { transact } from "../transact";
import { OPERATION_NOT_FOUND, rowById } from "@/server/services/rows";

const refuse = (message: string) => new TRPCError({ code: "PRECONDITION_FAILED", message });

export const operationsRouter = createTRPCRouter({
  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      return rowById(ctx.db, operations, input.id, OPERATION_NOT_FOUND);
    }),

  list: operatorProcedure("operator-viewer")
    .input(
      newestFirstPageInput.extend({
        status: z.enum(["pending", "running", "succeeded", "failed", "cancelled"]).optional(),
        kind: z.string().max(64).optional(),
        targetId: z.string().max(64).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const filters = [eqIf(operations.status, input.status), eqIf(operations.kind, input.kind), eqIf(operations.targetId, input.targetId)];
      return listPage(ctx.db.select().from(operations), input, { sort: { createdAt: operations.createdAt }, id: operations.id }, ...filters);
    }),

  /** Runs a failed instance operation again: a create from scratch (the failed one holds nothing), a delete, a recovery. */
  retry: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const op = await rowById(ctx.db, operations, input.id, OPERATION_NOT_FOUND);
      if (op.status !== "failed" && op.status !== "cancelled") throw refuse(`Only a failed operation can be retried; this one is ${op.status}.`);
      if (![catalog.instanceCreate.name, catalog.instanceDelete.name, catalog.instanceRecover.name].includes(op.kind) || !op.targetId)
        throw refuse(`Operations of kind ${op.kind} are not retried from here; start the action again from its page.`);
      const instanceId = op.targetId;
      const email = ctx.principal.email;
      if (op.kind === catalog.instanceRecover.name) {
        const id = await startRecovery(instanceId, `retry of a failed recovery by ${email}`, email, ["failed"]);
        if (!id) throw refuse("The instance is no longer failed; nothing to retry.");
        await ctx.db.transaction((tx) =>
          audit(tx, ctx, {
            action: "operation.retry",
            targetType: "operation",
            targetId: op.id,
            targetName: op.kind,
            tenantId: op.tenantId,
            details: { operationId: id },
          }),
        );
        return { operationId: id };
      }
      let created: { op: StartedOperation; name: string };
      created = await transact(ctx.db, async (tx) => {
        const [inst] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
        if (!inst || inst.state === "deleted") throw refuse("The instance no longer exists.");
        if (inst.state !== "failed") throw refuse(`The instance is ${inst.state}, not failed; nothing to retry.`);
        if (inst.operationId !== op.id) throw refuse("A newer operation ran on this instance since; retry that one if it failed.");
        if (op.kind === catalog.instanceDelete.name) {
          const started = await startOperation(tx, catalog.instanceDelete, {
            target: { id: inst.id, name: inst.name, tenantId: inst.tenantId },
            createdBy: email,
            args: (opId) => [inst.id, opId],
          });
          await applyInstanceEvent(tx, inst.id, "delete", { operationId: started.id, strict: true });
          return { op: started, name: inst.name };
        }
        // A create: its rollback must have released everything; otherwise a delete is the way out.
        if (inst.nodeId || inst.portId || inst.storageVolumeId)
          throw refuse("The failed create could not release everything; delete the instance instead (it finishes the clean-up).");
        const [sys] = await tx
          .select({ id: volumes.id })
          .from(volumeAttachments)
          .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
          .where(and(eq(volumeAttachments.instanceId, inst.id), inArray(volumes.kind, ["system"])));
        if (sys) throw refuse("The failed create still has a system volume; delete the instance instead.");
        const [image] = inst.imageId ? await tx.select().from(images).where(eq(images.id, inst.imageId)) : [];
        if (!image || image.state !== "available")
          throw refuse("The instance's image is no longer available; delete the instance and create it from another image.");
        const started = await prepareCreate(tx, inst, image.logicalPoolId, [], email);
        await enforceCreateQuota(tx, inst.tenantId, { instances: 0, cores: 0, ramGiB: 0, systemGiB: inst.systemVolumeSizeGiB });
        return { op: started, name: inst.name };
      });
      await ctx.db.transaction((tx) =>
        audit(tx, ctx, {
          action: "operation.retry",
          targetType: "operation",
          targetId: op.id,
          targetName: `${op.kind} ${created.name}`,
          tenantId: op.tenantId,
          details: { operationId: created.op.id },
        }),
      );
      await created.op.enqueue();
      return { operationId: created.op.id };
    }),

  /** Aborts a running instance create: it stops between pieces of work and rolls back what it did (instance failed). */
  abort: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return ctx.db.transaction(async (tx) => {
        const op = await rowById(tx, operations, input.id, OPERATION_NOT_FOUND, true);
        if (op.kind !== catalog.instanceCreate.name) throw refuse(`Only an instance create can be aborted (it rolls back); a ${op.kind} runs to its end.`);
        if (op.status === "cancelling") throw refuse("An abort was already requested; the create is rolling back.");
        if (op.status !== "pending" && op.status !== "running") throw refuse(`The operation already ended (${op.status}).`);
        await tx.update(operations).set({ status: "cancelling" }).where(eq(operations.id, op.id));
        await audit(tx, ctx, {
          action: "operation.abort",
          targetType: "operation",
          targetId: op.id,
          targetName: `${op.kind} ${op.targetName ?? ""}`.trim(),
          tenantId: op.tenantId,
        });
        return { operationId: op.id, status: "cancelling" as const };
      });
    }),
});
