// Operations: the progress of long-running work (steps, current step, percent, error), for operators.
import { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { operations } from "@/db/schema";
import { keyset, page, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";

export const operationsRouter = createTRPCRouter({
  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [op] = await ctx.db.select().from(operations).where(eq(operations.id, input.id));
      if (!op) throw new TRPCError({ code: "NOT_FOUND", message: "That operation does not exist." });
      return op;
    }),

  list: operatorProcedure("operator-viewer")
    .input(
      pageInput.extend({
        dir: z.enum(["asc", "desc"]).default("desc"),
        status: z.enum(["pending", "running", "succeeded", "failed", "cancelled"]).optional(),
        kind: z.string().max(64).optional(),
        targetId: z.string().max(64).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const ks = keyset(operations.createdAt, operations.id, input.dir, input.cursor);
      const rows = await ctx.db
        .select()
        .from(operations)
        .where(
          and(
            ks.where,
            input.status ? eq(operations.status, input.status) : undefined,
            input.kind ? eq(operations.kind, input.kind) : undefined,
            input.targetId ? eq(operations.targetId, input.targetId) : undefined,
          ),
        )
        .orderBy(...ks.order)
        .limit(input.limit + 1);
      return page(rows, input.limit, (r) => r.createdAt);
    }),
});
