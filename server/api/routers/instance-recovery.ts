// Operator recovery of an instance onto a spare host of its pool (same volumes, MAC and address), for a failed host
// the automatic recovery did not take (policy "manual") or a recovery that failed. Spread into the instances router.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { instances } from "@/db/schema";
import { instanceCan } from "@/domain/instance-rules";
import { startRecovery } from "@/server/workflows/recovery-start";
import { audit } from "@/server/services/audit";
import { operatorProcedure } from "../trpc";

export const instanceRecoveryProcedures = {
  recover: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid(), reason: z.string().trim().max(200).optional() }))
    .mutation(async ({ ctx, input }) => {
      const [inst] = await ctx.db.select().from(instances).where(eq(instances.id, input.id));
      if (!inst || inst.state === "deleted") throw new TRPCError({ code: "NOT_FOUND", message: "No such instance." });
      const v = instanceCan.recover(inst.state);
      if (!v.ok) throw new TRPCError({ code: "PRECONDITION_FAILED", message: v.reason });
      const reason = input.reason || `recovery requested by ${ctx.principal.email}`;
      const opId = await startRecovery(inst.id, reason, ctx.principal.email, ["running", "stopped", "failed"]);
      if (!opId) throw new TRPCError({ code: "PRECONDITION_FAILED", message: "The instance changed state meanwhile; look again." });
      await ctx.db.transaction((tx) =>
        audit(tx, ctx, {
          action: "instance.recover",
          targetType: "instance",
          targetId: inst.id,
          targetName: inst.name,
          tenantId: inst.tenantId,
          details: { reason },
        }),
      );
      return { operationId: opId };
    }),
};
