// Bare-metal pools: the first resource end to end, and the pattern the others copy
// (server-side list with cursor/filter/sort, shared zod schema, audit in the same transaction).
import { TRPCError } from "@trpc/server";
import { count, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { nodes, pools } from "@/db/schema";
import { poolCreateSchema, poolSortKeys, poolUpdateSchema } from "@/db/validation/pools";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { insertRow, updateById, deleteRow } from "../updates";
import { found, rowById, columnsOf } from "@/server/services/rows";
import { matchesText } from "@/server/lib/like";
import { transact } from "../transact";

const uniques = { pools_name_uq: { field: "name", message: "A pool with this name already exists." } };

const nodeCount = sql<number>`(select count(*)::int from ${nodes} where ${nodes.poolId} = ${pools.id} and ${nodes.kind} = 'host')`;
const POOL_NOT_FOUND = "That pool does not exist (it may have been deleted).";

const columns = {
  ...columnsOf(pools, "id", "name", "description", "resourceClass", "maxSystemVolumeGiB", "requiredTraits", "createdAt", "updatedAt"),
  nodeCount,
};

export const poolsRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(pageInput.extend({ q: z.string().trim().max(100).optional(), sort: z.enum(poolSortKeys).default("name") }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(pools);
      const order = { sort: { name: pools.name, createdAt: pools.createdAt, resourceClass: pools.resourceClass }, id: pools.id };
      return listPage(query, input, order, matchesText(input.q, pools.name, pools.description, pools.resourceClass));
    }),

  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      return found(await ctx.db.select(columns).from(pools).where(eq(pools.id, input.id)), POOL_NOT_FOUND);
    }),

  create: operatorProcedure("operator-admin")
    .input(poolCreateSchema)
    .mutation(({ ctx, input }) => transact(ctx.db, (tx) => insertRow(tx, ctx, pools, input, { type: "pool", details: input }), uniques)),

  update: operatorProcedure("operator-admin")
    .input(poolUpdateSchema)
    .mutation(({ ctx, input }) => updateById(ctx, pools, input, { type: "pool", notFound: POOL_NOT_FOUND, uniques, diff: true })),

  delete: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, async (tx) => {
        const row = await rowById(tx, pools, input.id, POOL_NOT_FOUND, true);
        const [{ n }] = (await tx.select({ n: count() }).from(nodes).where(eq(nodes.poolId, input.id))) as [{ n: number }];
        if (n > 0)
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: `Pool ${row.name} still has ${n} node${n === 1 ? "" : "s"}; move or delete them before deleting the pool.`,
          });
        await deleteRow(tx, ctx, pools, row, { type: "pool" });
        return { id: row.id };
      });
    }),
});
