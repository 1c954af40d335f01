import { eq } from "drizzle-orm";
import { z } from "zod";
import { operations } from "@/db/schema";
import { eqIf, listPage, newestFirstPageInput } from "../pagination";
import { createTRPCRouter, tenantProcedure } from "../trpc";
import { found, inTenant, OPERATION_NOT_FOUND, columnsOf } from "@/server/services/rows";

/** What a tenant may see of an operation (never who started it on the operator side, never node ids). */
const tenantColumns = {
  ...columnsOf(
    operations,
    "id",
    "kind",
    "targetType",
    "targetId",
    "targetName",
    "status",
    "steps",
    "currentStep",
    "progress",
    "error",
    "createdAt",
    "updatedAt",
  ),
};

export const tenantOperationsRouter = createTRPCRouter({
  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      return found(
        await ctx.db
          .select(tenantColumns)
          .from(operations)
          .where(inTenant(operations, ctx.tenant.id, input.id)),
        OPERATION_NOT_FOUND,
      );
    }),

  list: tenantProcedure("tenant-member")
    .input(
      newestFirstPageInput.extend({
        status: z.enum(["pending", "running", "succeeded", "failed", "cancelled"]).optional(),
        targetId: z.uuid().optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const filters = [eqIf(operations.status, input.status), eqIf(operations.targetId, input.targetId)];
      const order = { sort: { createdAt: operations.createdAt }, id: operations.id };
      return listPage(ctx.db.select(tenantColumns).from(operations), input, order, eq(operations.tenantId, ctx.tenant.id), ...filters);
    }),
});
