// A tenant's own operations (create, delete, power, attach, backup, rebuild, recover of its instances): the resource
// a client polls after starting long work (REST: 202 + Location), and the list of recent ones. Tenant-scoped by the
// procedure builder; another tenant's operation id is NOT_FOUND like a missing one.
import { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { operations } from "@/db/schema";
import { eqIf, listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantProcedure } from "../trpc";

/** What a tenant may see of an operation (never who started it on the operator side, never node ids). */
const tenantColumns = {
  id: operations.id,
  kind: operations.kind,
  targetType: operations.targetType,
  targetId: operations.targetId,
  targetName: operations.targetName,
  status: operations.status,
  steps: operations.steps,
  currentStep: operations.currentStep,
  progress: operations.progress,
  error: operations.error,
  createdAt: operations.createdAt,
  updatedAt: operations.updatedAt,
};

export const tenantOperationsRouter = createTRPCRouter({
  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [op] = await ctx.db
        .select(tenantColumns)
        .from(operations)
        .where(and(eq(operations.id, input.id), eq(operations.tenantId, ctx.tenant.id)));
      if (!op) throw new TRPCError({ code: "NOT_FOUND", message: "That operation does not exist." });
      return op;
    }),

  list: tenantProcedure("tenant-member")
    .input(
      pageInput.extend({
        dir: z.enum(["asc", "desc"]).default("desc"),
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
