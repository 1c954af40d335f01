// Quotas: tenants see their usage against their limits; operator admins set a tenant's limits.
// Enforcement itself happens in each resource's create (server/services/quotas.ts).
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { QUOTA_DEFAULTS, type QuotaResource, quotas, tenants } from "@/db/schema";
import { quotaLimitsSchema } from "@/db/validation/tenancy";
import { lockQuota } from "@/server/services/quotas";
import { readQuotaLimits, tenantUsage } from "@/server/services/quotas-usage";
import { audit } from "@/server/services/audit";
import { createTRPCRouter, operatorProcedure, tenantProcedure } from "../trpc";

function limitsOf(row: typeof quotas.$inferSelect): Record<QuotaResource, number> {
  return Object.fromEntries(Object.keys(QUOTA_DEFAULTS).map((k) => [k, row[k as QuotaResource]])) as Record<QuotaResource, number>;
}

export const quotasRouter = createTRPCRouter({
  /** The caller's tenant: limits, usage (null = not measured yet) and the defaults. */
  get: tenantProcedure("tenant-member").query(async ({ ctx }) => {
    return { limits: await readQuotaLimits(ctx.db, ctx.tenant.id), usage: await tenantUsage(ctx.db, ctx.tenant.id), defaults: QUOTA_DEFAULTS };
  }),

  set: operatorProcedure("operator-admin")
    .input(z.object({ tenantId: z.uuid(), limits: quotaLimitsSchema }).strict())
    .mutation(({ ctx, input }) =>
      ctx.db.transaction(async (tx) => {
        const [t] = await tx.select().from(tenants).where(eq(tenants.id, input.tenantId));
        if (!t) throw new TRPCError({ code: "NOT_FOUND", message: "That tenant does not exist (it may have been deleted)." });
        const before = limitsOf(await lockQuota(tx, t.id));
        const changes = Object.fromEntries(Object.entries(input.limits).filter(([k, v]) => v !== undefined && before[k as QuotaResource] !== v));
        // Lowering a limit below current usage is allowed (nothing running is touched); new creates are refused.
        const [row] = await tx
          .update(quotas)
          .set({ ...changes, updatedAt: new Date() })
          .where(eq(quotas.tenantId, t.id))
          .returning();
        await audit(tx, ctx, {
          action: "quota.set",
          targetType: "tenant",
          targetId: t.id,
          targetName: t.slug,
          tenantId: t.id,
          details: Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, { from: before[k as QuotaResource], to: v }])),
        });
        return { limits: limitsOf(row!), usage: await tenantUsage(tx, t.id) };
      }),
    ),
});
