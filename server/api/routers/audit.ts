// The audit log: every mutation's row, newest first, filtered on the server.
import { eq } from "drizzle-orm";
import { z } from "zod";
import { auditEvents, tenants } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { eqIf, listPage, newestFirstPageInput, within } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { matchesText } from "@/server/lib/like";

export const auditRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(
      newestFirstPageInput.extend({
        q: z.string().trim().max(100).optional(),
        action: z.string().trim().max(64).optional(),
        targetType: z.string().trim().max(64).optional(),
        tenantId: z.uuid().optional(),
        from: z.date().optional(),
        to: z.date().optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const query = ctx.db
        .select({
          ...columnsOf(auditEvents, "id", "at", "actorEmail", "action", "targetType", "targetId", "targetName", "tenantId"),
          tenantName: tenants.name,
          requestId: auditEvents.requestId,
          details: auditEvents.details,
        })
        .from(auditEvents)
        .leftJoin(tenants, eq(tenants.id, auditEvents.tenantId));
      const filters = [eqIf(auditEvents.action, input.action), eqIf(auditEvents.targetType, input.targetType), eqIf(auditEvents.tenantId, input.tenantId)];
      const text = matchesText(input.q, auditEvents.actorEmail, auditEvents.targetName, auditEvents.action);
      return listPage(query, input, { sort: { at: auditEvents.at }, id: auditEvents.id }, ...filters, within(auditEvents.at, input), text);
    }),
});
