// A host's BIOS attributes, read from and written to its BMC (Redfish Bios + pending Settings): operators read
// what is in effect and what waits for the next reboot; operator admins change attributes, checked against the
// BMC's attribute registry first (a refused attribute is a field error and the BMC is left as it was), audited.
// Changes apply when the host next reboots or powers on — the BMC, not Anvil, applies them.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { nodes } from "@/db/schema";
import { biosChangeSchema } from "@/db/validation/bios";
import { checkBiosAttributes } from "@/domain/bios";
import type { BmcBios } from "@/server/drivers/bmc/types";
import { audit } from "@/server/services/audit";
import { driverFor } from "@/server/workflows/bmc-access";
import { probeMessage } from "@/server/workflows/enroll";
import { recordEvent } from "@/server/workflows/events";
import { fieldError } from "../errors";
import { type Context, createTRPCRouter, operatorProcedure } from "../trpc";

async function hostOr404(ctx: Context, id: string) {
  const [n] = await ctx.db.select().from(nodes).where(eq(nodes.id, id));
  if (!n) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
  return n;
}

function refuse(message: string): never {
  throw new TRPCError({ code: "PRECONDITION_FAILED", message });
}

function biosOf(n: typeof nodes.$inferSelect): BmcBios {
  if (n.kind !== "host") refuse(`${n.name} is a DPU; BIOS settings are a host's.`);
  const bios = driverFor(n).bios;
  if (!bios) refuse(`The ${n.bmcDriver.toUpperCase()} BMC of ${n.name} offers no BIOS settings (Anvil reads them over Redfish).`);
  return bios;
}

/** A BMC failure as a refusal that says what to do; the BMC's own words when it refused the change. */
async function atBmc<T>(n: { bmcAddress: string }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    refuse(probeMessage(e, n.bmcAddress));
  }
}

export const nodeBiosRouter = createTRPCRouter({
  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const n = await hostOr404(ctx, input.id);
      const bios = biosOf(n);
      return atBmc(n, () => bios.get());
    }),

  set: operatorProcedure("operator-admin")
    .input(biosChangeSchema)
    .mutation(async ({ ctx, input }) => {
      const n = await hostOr404(ctx, input.id);
      const bios = biosOf(n);
      const { current, registry } = await atBmc(n, () => bios.get());
      if (registry) {
        const problems = checkBiosAttributes(registry, input.attributes);
        if (problems.length) throw fieldError(`attributes.${problems[0].name}`, problems.map((p) => p.message).join(" "), "BAD_REQUEST");
      }
      await atBmc(n, () => bios.set(input.attributes));
      const names = Object.keys(input.attributes);
      await ctx.db.transaction(async (tx) => {
        await recordEvent(tx, n.id, {
          kind: "lifecycle",
          severity: "info",
          message: `BIOS attributes ${names.join(", ")} set by ${ctx.principal.email}; they apply at the next reboot.`,
        });
        await audit(tx, ctx, {
          action: "node.set_bios",
          targetType: "node",
          targetId: n.id,
          targetName: n.name,
          details: { attributes: input.attributes, was: Object.fromEntries(names.map((k) => [k, current[k] ?? null])) },
        });
      });
      return { ok: true, message: `BIOS settings stored on the BMC of ${n.name}; they apply at its next reboot.` };
    }),
});
