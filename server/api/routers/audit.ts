// The audit log: every mutation's row, newest first, filtered on the server.
import { and, eq, gte, ilike, lte, or } from "drizzle-orm";
import { z } from "zod";
import { auditEvents, tenants } from "@/db/schema";
import { keyset, page, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";
import { containing } from "@/server/lib/like";

export const auditRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(
      pageInput.extend({
        dir: z.enum(["asc", "desc"]).default("desc"),
        q: z.string().trim().max(100).optional(),
        action: z.string().trim().max(64).optional(),
        targetType: z.string().trim().max(64).optional(),
        tenantId: z.uuid().optional(),
        from: z.date().optional(),
        to: z.date().optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const ks = keyset(auditEvents.at, auditEvents.id, input.dir, input.cursor);
      const text = containing(input.q);
      const rows = await ctx.db
        .select({
          id: auditEvents.id,
          at: auditEvents.at,
          actorEmail: auditEvents.actorEmail,
          action: auditEvents.action,
          targetType: auditEvents.targetType,
          targetId: auditEvents.targetId,
          targetName: auditEvents.targetName,
          tenantId: auditEvents.tenantId,
          tenantName: tenants.name,
          requestId: auditEvents.requestId,
          details: auditEvents.details,
        })
        .from(auditEvents)
        .leftJoin(tenants, eq(tenants.id, auditEvents.tenantId))
        .where(
          and(
            ks.where,
            input.action ? eq(auditEvents.action, input.action) : undefined,
            input.targetType ? eq(auditEvents.targetType, input.targetType) : undefined,
            input.tenantId ? eq(auditEvents.tenantId, input.tenantId) : undefined,
            input.from ? gte(auditEvents.at, input.from) : undefined,
            input.to ? lte(auditEvents.at, input.to) : undefined,
            text ? or(ilike(auditEvents.actorEmail, text), ilike(auditEvents.targetName, text), ilike(auditEvents.action, text)) : undefined,
          ),
        )
        .orderBy(...ks.order)
        .limit(input.limit + 1);
      return page(rows, input.limit, (r) => r.at);
    }),
});
