// Host traits: an operator admin labels a host with traits (CUSTOM_GPU…) and gives a pool the traits every host of
// it must have to be scheduled; tenants read which traits the pool's hosts offer, to ask for some when creating an
// instance (instances.create requiredTraits; the scheduler, server/workflows/instances.ts reserveNode, honours both).
// Traits are normalized (domain/traits.ts); every change is audited with what it replaced.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { nodes, pools } from "@/db/schema";
import { nodeTraitsSchema, poolTraitsSchema } from "@/db/validation/traits";
import { audit } from "@/server/services/audit";
import { traitsInPool } from "@/server/services/traits";
import { createTRPCRouter, operatorProcedure, tenantProcedure } from "../trpc";

export const traitsRouter = createTRPCRouter({
  setNode: operatorProcedure("operator-admin")
    .input(nodeTraitsSchema)
    .mutation(async ({ ctx, input }) =>
      ctx.db.transaction(async (tx) => {
        const [n] = await tx.select().from(nodes).where(eq(nodes.id, input.id)).for("update");
        if (!n) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
        if (n.kind !== "host") throw new TRPCError({ code: "PRECONDITION_FAILED", message: `${n.name} is a DPU; traits label hosts, which instances run on.` });
        await tx.update(nodes).set({ traits: input.traits }).where(eq(nodes.id, n.id));
        await audit(tx, ctx, {
          action: "node.set_traits",
          targetType: "node",
          targetId: n.id,
          targetName: n.name,
          details: { traits: { from: n.traits, to: input.traits } },
        });
        return { traits: input.traits };
      }),
    ),

  setPool: operatorProcedure("operator-admin")
    .input(poolTraitsSchema)
    .mutation(async ({ ctx, input }) =>
      ctx.db.transaction(async (tx) => {
        const [p] = await tx.select().from(pools).where(eq(pools.id, input.id)).for("update");
        if (!p) throw new TRPCError({ code: "NOT_FOUND", message: "That pool does not exist (it may have been deleted)." });
        await tx.update(pools).set({ requiredTraits: input.requiredTraits }).where(eq(pools.id, p.id));
        await audit(tx, ctx, {
          action: "pool.set_required_traits",
          targetType: "pool",
          targetId: p.id,
          targetName: p.name,
          details: { requiredTraits: { from: p.requiredTraits, to: input.requiredTraits } },
        });
        return { requiredTraits: input.requiredTraits };
      }),
    ),

  /** The traits an instance of the pool can ask for: those of its schedulable hosts. */
  ofPool: tenantProcedure("tenant-member")
    .input(z.object({ poolId: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [p] = await ctx.db.select({ id: pools.id, requiredTraits: pools.requiredTraits }).from(pools).where(eq(pools.id, input.poolId));
      if (!p) throw new TRPCError({ code: "NOT_FOUND", message: "No such pool." });
      return { required: p.requiredTraits, available: await traitsInPool(ctx.db, p.id) };
    }),
});
