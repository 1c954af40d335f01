// An instance's NICs: list them, add one (subnet of any of the tenant's VPCs, optional fixed address, security
// groups), remove one (never the primary) and move one to another subnet. Spread into the instances router
// (instances.<name>). Each checks and records intent in one transaction — the new port and its address, or the new
// address, so a taken address is a field error and the address quota holds — then enqueues its workflow
// (server/workflows/instance-nics.ts), whose operation the instance page shows like any other instance action.
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { instances, ipAllocations, operations } from "@/db/schema";
import { nicAddSchema, nicMoveSchema } from "@/db/validation/instances";
import { precondition } from "@/domain/errors";
import { audit } from "@/server/services/audit";
import { createNicPort, instanceNics, MAX_NICS, nextNicIndex, resolveNic } from "@/server/services/instance-nics";
import { type Ctx, lockInstance, notFound, refuse } from "@/server/services/instances";
import { allocateAddress } from "@/server/services/ipam";
import { enforceQuota, rowsOf } from "@/server/services/quotas";
import { catalog } from "@/server/workflows/catalog";
import { startOperation } from "@/server/workflows/start";
import { fieldError } from "../errors";
import { transact } from "../transact";
import { tenantProcedure } from "../trpc";

const byNic = z.object({ id: z.uuid(), portId: z.uuid() });

/** The instance's NIC with this port, or a field error on portId. */
async function nicOfInstance(tx: Parameters<typeof instanceNics>[0], instanceId: string, portId: string) {
  const nic = (await instanceNics(tx, instanceId)).find((n) => n.portId === portId);
  if (!nic) throw fieldError("portId", "That NIC is not on this instance.", "BAD_REQUEST");
  return nic;
}

/** One NIC change at a time per instance: each republishes the seed from the rows, and two at once could race. */
async function refuseWhileNicWork(tx: Parameters<typeof lockInstance>[0], instanceId: string) {
  const [busy] = await tx
    .select({ kind: operations.kind })
    .from(operations)
    .where(
      and(
        eq(operations.targetType, "instance"),
        eq(operations.targetId, instanceId),
        inArray(operations.kind, [catalog.instanceNicAttach.name, catalog.instanceNicDetach.name, catalog.instanceNicMove.name]),
        inArray(operations.status, ["pending", "running", "cancelling"]),
      ),
    )
    .limit(1);
  if (busy) throw precondition(`A NIC change (${busy.kind}) is under way on this instance; wait until it finishes.`);
}

/** Records the operation as the instance's latest (its page shows it) and audits the action. */
async function started(
  ctx: Ctx,
  tx: Parameters<typeof lockInstance>[0],
  inst: { id: string; name: string },
  entry: typeof catalog.instanceNicAttach | typeof catalog.instanceNicDetach,
  portId: string,
  details: Record<string, unknown>,
) {
  const op = await startOperation(tx, entry, {
    target: { id: inst.id, name: inst.name, tenantId: ctx.tenant.id },
    createdBy: ctx.principal.email,
    args: (opId) => [inst.id, opId, portId],
    input: details,
  });
  await tx.update(instances).set({ operationId: op.id }).where(eq(instances.id, inst.id));
  await audit(tx, ctx, {
    action: entry === catalog.instanceNicAttach ? "instance.add_nic" : "instance.remove_nic",
    targetType: "instance",
    targetId: inst.id,
    targetName: inst.name,
    tenantId: ctx.tenant.id,
    details,
  });
  return op;
}

export const instanceNicProcedures = {
  /** The instance's NICs in order (primary first): MAC, subnet, address, security groups, whether it is on the DPU. */
  nics: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [row] = await ctx.db
        .select({ id: instances.id })
        .from(instances)
        .where(and(eq(instances.id, input.id), eq(instances.tenantId, ctx.tenant.id)));
      if (!row) throw notFound();
      return (await instanceNics(ctx.db, row.id)).map(({ dns: _d, ...n }) => n);
    }),

  addNic: tenantProcedure("tenant-member", { write: true })
    .input(nicAddSchema.safeExtend({ tenant: z.string(), id: z.uuid() }))
    .mutation(async ({ ctx: c, input }) => {
      const ctx = c as Ctx;
      const op = await transact(ctx.db, async (tx) => {
        const inst = await lockInstance(tx, ctx.tenant.id, input.id);
        refuse("attach", inst.state);
        await refuseWhileNicWork(tx, inst.id);
        if (!inst.nodeId) throw precondition("The instance holds no host; start it or wait for its recovery before adding a NIC.");
        const have = await instanceNics(tx, inst.id);
        if (have.length >= MAX_NICS) throw precondition(`An instance has at most ${MAX_NICS} NICs; remove one first.`);
        const { subnet, groupIds } = await resolveNic(tx, ctx.tenant.id, input, { subnet: "subnetId", groups: "securityGroupIds" });
        const index = await nextNicIndex(tx, inst.id);
        if (index > 15) throw precondition("This instance has used all its NIC slots; recreate it to renumber its NICs.");
        const port = await createNicPort(tx, {
          tenantId: ctx.tenant.id,
          instanceId: inst.id,
          instanceName: inst.name,
          index,
          subnet,
          groupIds,
          address: input.address || null,
          addressField: "address",
        });
        return started(ctx, tx, inst, catalog.instanceNicAttach, port.portId, {
          nic: `eth${index}`,
          subnet: subnet.name,
          address: port.address,
          mac: port.mac,
        });
      });
      await op.enqueue();
      return { operationId: op.id };
    }),

  removeNic: tenantProcedure("tenant-member", { write: true })
    .input(byNic)
    .mutation(async ({ ctx: c, input }) => {
      const ctx = c as Ctx;
      const op = await transact(ctx.db, async (tx) => {
        const inst = await lockInstance(tx, ctx.tenant.id, input.id);
        refuse("attach", inst.state);
        await refuseWhileNicWork(tx, inst.id);
        const nic = await nicOfInstance(tx, inst.id, input.portId);
        if (nic.index === 0 || inst.portId === nic.portId)
          throw fieldError("portId", "The primary NIC (eth0) cannot be removed; move it to another subnet instead.", "PRECONDITION_FAILED");
        return started(ctx, tx, inst, catalog.instanceNicDetach, nic.portId, { nic: `eth${nic.index}`, subnet: nic.subnetName, address: nic.address });
      });
      await op.enqueue();
      return { operationId: op.id };
    }),

  moveNic: tenantProcedure("tenant-member", { write: true })
    .input(nicMoveSchema.safeExtend({ tenant: z.string(), id: z.uuid(), portId: z.uuid() }))
    .mutation(async ({ ctx: c, input }) => {
      const ctx = c as Ctx;
      const op = await transact(ctx.db, async (tx) => {
        const inst = await lockInstance(tx, ctx.tenant.id, input.id);
        refuse("attach", inst.state);
        await refuseWhileNicWork(tx, inst.id);
        if (!inst.nodeId) throw precondition("The instance holds no host; start it or wait for its recovery before moving a NIC.");
        const nic = await nicOfInstance(tx, inst.id, input.portId);
        const { subnet } = await resolveNic(tx, ctx.tenant.id, { subnetId: input.subnetId }, { subnet: "subnetId", groups: "subnetId" });
        if (subnet.id === nic.subnetId) throw fieldError("subnetId", `The NIC is already on subnet ${subnet.name}.`, "BAD_REQUEST");
        // The new address is held, without a port, until the workflow switches the port over to it.
        const a = await allocateAddress(tx, subnet, { tenantId: ctx.tenant.id, portId: null, address: input.address || null });
        await enforceQuota(tx, ctx.tenant.id, [{ resource: "addresses", add: 0, used: rowsOf(ipAllocations, ctx.tenant.id) }]);
        const details = { nic: `eth${nic.index}`, from: nic.subnetName, to: subnet.name, address: a.address };
        const op = await startOperation(tx, catalog.instanceNicMove, {
          target: { id: inst.id, name: inst.name, tenantId: ctx.tenant.id },
          createdBy: ctx.principal.email,
          args: (opId) => [inst.id, opId, nic.portId, a.id],
          input: details,
        });
        await tx.update(instances).set({ operationId: op.id }).where(eq(instances.id, inst.id));
        await audit(tx, ctx, {
          action: "instance.move_nic",
          targetType: "instance",
          targetId: inst.id,
          targetName: inst.name,
          tenantId: ctx.tenant.id,
          details,
        });
        return op;
      });
      await op.enqueue();
      return { operationId: op.id };
    }),
};
