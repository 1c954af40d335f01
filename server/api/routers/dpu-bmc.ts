// A DPU's own BMC credentials: a DPU found at inspection is recorded without any (Anvil never reuses its host's), and an
// operator-admin gives them here. They are probed against the DPU's BMC before anything is stored, so wrong ones are
// refused with the BMC's reason and leave the DPU as it was; stored sealed, and only the fingerprint is ever shown.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { nodes } from "@/db/schema";
import { dpuBmcCredentialsSchema } from "@/db/validation/nodes";
import { type BmcInventory, createBmcDriver } from "@/server/drivers/bmc";
import { checkMgmtTarget } from "@/server/lib/mgmt-network";
import { fingerprint, seal } from "@/server/lib/secrets";
import { audit } from "@/server/services/audit";
import { DPU_CREDENTIALS_NEEDED, forgetDriver } from "@/server/workflows/bmc-access";
import { probeMessage } from "@/server/workflows/enroll";
import { recordEvent } from "@/server/workflows/events";
import { fieldError } from "../errors";
import { createTRPCRouter, operatorProcedure } from "../trpc";

const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });

export const dpuBmcRouter = createTRPCRouter({
  setCredentials: operatorProcedure("operator-admin")
    .input(dpuBmcCredentialsSchema)
    .mutation(async ({ ctx, input }) => {
      const [n] = await ctx.db.select().from(nodes).where(eq(nodes.id, input.id));
      if (!n) throw notFound();
      if (n.kind !== "dpu")
        throw new TRPCError({ code: "PRECONDITION_FAILED", message: `${n.name} is a host; its BMC credentials are the ones it was enrolled with.` });
      // The stored address was checked when it was recorded; the policy may have changed since, and nothing outside it is called.
      const where = await checkMgmtTarget(n.bmcAddress);
      if (!where.ok && !where.unresolved) throw new TRPCError({ code: "PRECONDITION_FAILED", message: where.message });

      const credentials = { username: input.username, password: input.password };
      const d = createBmcDriver({ driver: n.bmcDriver, address: n.bmcAddress, credentials, verifyTls: n.bmcVerifyTls, timeoutMs: 8000, retries: 1 });
      let seen: { power: string; health: string; inventory: BmcInventory };
      try {
        seen = { power: await d.getPowerState(), inventory: await d.getInventory(), health: (await d.getHealth()).health };
      } catch (e) {
        throw fieldError("password", probeMessage(e, n.bmcAddress), "BAD_REQUEST");
      } finally {
        await d.close().catch(() => {});
      }
      if (seen.inventory.systemType === "physical")
        throw fieldError(
          "username",
          `${n.bmcAddress} answers as a server, not as a DPU (SystemType is not "DPU"): these are not this DPU's credentials.`,
          "BAD_REQUEST",
        );

      const sealed = JSON.stringify(credentials);
      const print = fingerprint(sealed);
      const { raw: _raw, ...inventory } = seen.inventory;
      await ctx.db.transaction(async (tx) => {
        const [row] = await tx.select().from(nodes).where(eq(nodes.id, n.id)).for("update");
        if (!row) throw notFound();
        if (row.bmcAddress !== n.bmcAddress)
          throw new TRPCError({ code: "CONFLICT", message: `${n.name}'s BMC address changed while its credentials were checked; try again.` });
        await tx
          .update(nodes)
          .set({
            bmcCredentials: seal(sealed),
            bmcCredentialsFingerprint: print,
            powerState: seen.power,
            health: seen.health,
            bmcSeenAt: new Date(),
            // A DPU recorded without credentials has no inventory yet; what its BMC just told is it.
            ...(row.inspectedAt ? {} : { inventory: inventory as Record<string, unknown>, inspectedAt: new Date() }),
            ...(row.agentUrl || !seen.inventory.agentUrl ? {} : { agentUrl: seen.inventory.agentUrl }),
            ...(row.fault === DPU_CREDENTIALS_NEEDED ? { fault: null } : {}),
          })
          .where(eq(nodes.id, n.id));
        await recordEvent(tx, n.id, {
          kind: "lifecycle",
          severity: "info",
          message: `DPU BMC credentials set by ${ctx.principal.email}; the BMC accepted them.`,
        });
        await audit(tx, ctx, {
          action: "node.set_bmc_credentials",
          targetType: "node",
          targetId: n.id,
          targetName: n.name,
          details: { credentials: print, replaced: row.bmcCredentialsFingerprint },
        });
      });
      // The cached driver (if any) holds the old credentials' session.
      forgetDriver(n.id);
      return { id: n.id, bmcCredentialsFingerprint: print };
    }),
});
