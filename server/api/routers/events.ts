// Hardware events: SEL entries, power and health changes, faults, lost agent heartbeats — filtered by node,
// severity, kind and time on the server.
import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { hardwareEvents, nodes } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { eqIf, listPage, newestFirstPageInput, within } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { matchesText } from "@/server/lib/like";

export const eventsRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(
      newestFirstPageInput.extend({
        nodeId: z.uuid().optional(),
        includeChildren: z.boolean().default(true),
        severity: z
          .array(z.enum(["info", "ok", "warning", "critical"]))
          .max(4)
          .optional(),
        kind: z.enum(["sel", "power", "health", "fault", "agent", "firmware", "lifecycle", "console"]).optional(),
        from: z.date().optional(),
        to: z.date().optional(),
        q: z.string().trim().max(100).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      let nodeIds: string[] | undefined;
      if (input.nodeId) {
        nodeIds = [input.nodeId];
        if (input.includeChildren) {
          const kids = await ctx.db.select({ id: nodes.id }).from(nodes).where(eq(nodes.parentNodeId, input.nodeId));
          nodeIds.push(...kids.map((k) => k.id));
        }
      }
      const query = ctx.db
        .select({
          ...columnsOf(hardwareEvents, "id", "at", "nodeId"),
          nodeName: nodes.name,
          nodeKind: nodes.kind,
          ...columnsOf(hardwareEvents, "kind", "severity", "message"),
        })
        .from(hardwareEvents)
        .innerJoin(nodes, eq(nodes.id, hardwareEvents.nodeId));
      return listPage(
        query,
        input,
        { sort: { at: hardwareEvents.at }, id: hardwareEvents.id },
        nodeIds ? inArray(hardwareEvents.nodeId, nodeIds) : undefined,
        input.severity?.length ? inArray(hardwareEvents.severity, input.severity) : undefined,
        eqIf(hardwareEvents.kind, input.kind),
        within(hardwareEvents.at, input),
        matchesText(input.q, hardwareEvents.message, nodes.name),
      );
    }),
});
