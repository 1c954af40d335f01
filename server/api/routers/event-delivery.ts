// How a node's hardware events reach Anvil, for its page: an SSE stream a replica holds open, a push subscription at
// its BMC (server/live-events/service.ts records both in bmc_event_subscriptions), or neither — then the sync's polling
// alone (every ANVIL_SYNC_INTERVAL_S). Operators only, as the node itself.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { bmcEventSubscriptions, nodes } from "@/db/schema";
import { createTRPCRouter, operatorProcedure } from "../trpc";

/** The sync's period (server/workflows/sync.ts SYNC_INTERVAL_S), read here without loading the workflow module. */
const SYNC_INTERVAL_S = Number(process.env.ANVIL_SYNC_INTERVAL_S ?? 30);

export const eventDeliveryRouter = createTRPCRouter({
  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [row] = await ctx.db
        .select({ id: nodes.id, delivery: bmcEventSubscriptions.delivery, since: bmcEventSubscriptions.updatedAt })
        .from(nodes)
        .leftJoin(bmcEventSubscriptions, eq(bmcEventSubscriptions.nodeId, nodes.id))
        .where(eq(nodes.id, input.id));
      if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
      return { delivery: row.delivery ?? ("polling" as const), since: row.since, pollSeconds: SYNC_INTERVAL_S };
    }),
});
