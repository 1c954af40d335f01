// Hardware events: SEL entries, power and health changes, faults, lost agent heartbeats — filtered by node,
// severity, kind and time on the server.
import { and, eq, gte, ilike, inArray, lte, or } from "drizzle-orm";
import { z } from "zod";
import { hardwareEvents, nodes } from "@/db/schema";
import { keyset, page, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { containing } from "@/server/lib/like";

export const eventsRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(
      pageInput.extend({
        dir: z.enum(["asc", "desc"]).default("desc"),
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
      const ks = keyset(hardwareEvents.at, hardwareEvents.id, input.dir, input.cursor);
      let nodeIds: string[] | undefined;
      if (input.nodeId) {
        nodeIds = [input.nodeId];
        if (input.includeChildren) {
          const kids = await ctx.db.select({ id: nodes.id }).from(nodes).where(eq(nodes.parentNodeId, input.nodeId));
          nodeIds.push(...kids.map((k) => k.id));
        }
      }
      const text = containing(input.q);
      const rows = await ctx.db
        .select({
          id: hardwareEvents.id,
          at: hardwareEvents.at,
          nodeId: hardwareEvents.nodeId,
          nodeName: nodes.name,
          nodeKind: nodes.kind,
          kind: hardwareEvents.kind,
          severity: hardwareEvents.severity,
          message: hardwareEvents.message,
        })
        .from(hardwareEvents)
        .innerJoin(nodes, eq(nodes.id, hardwareEvents.nodeId))
        .where(
          and(
            ks.where,
            nodeIds ? inArray(hardwareEvents.nodeId, nodeIds) : undefined,
            input.severity?.length ? inArray(hardwareEvents.severity, input.severity) : undefined,
            input.kind ? eq(hardwareEvents.kind, input.kind) : undefined,
            input.from ? gte(hardwareEvents.at, input.from) : undefined,
            input.to ? lte(hardwareEvents.at, input.to) : undefined,
            text ? or(ilike(hardwareEvents.message, text), ilike(nodes.name, text)) : undefined,
          ),
        )
        .orderBy(...ks.order)
        .limit(input.limit + 1);
      return page(rows, input.limit, (r) => r.at);
    }),
});
