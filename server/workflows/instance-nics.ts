// NICs of a running (or stopped) instance: attach one (the DPU presents a new virtio-net function to the host — on the
// real lab the qemu-emulation backend hot-plugs it over QMP), detach one, and move one to another subnet (a new
// address from IPAM, the old one released, the port's rules follow). The router records intent in its transaction
// (the port and its address, or the new address), so a taken or reserved address is a field error at submit time
// (a move to a dual-stack subnet takes its IPv6 address when it switches, from an abundant /64);
// these workflows do the DPU side, republish the cloud-init seed (every NIC by MAC, for the next boot), and start a
// rules pass and an overlay pass. Every step is idempotent and those that change something declare their undo.
import { and, eq, isNull } from "drizzle-orm";
import { getDb, type Tx } from "@/db/client";
import { instances, ipAllocations, portSecurityGroups, ports, subnets } from "@/db/schema";
import { bumpGroupPeers } from "@/server/domain/rule-compiler";
import { defaultGroupOf, instanceNics } from "@/server/services/instance-nics";
import { ensurePortIpv6, releasePortAddress } from "@/server/services/ipam";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { applyRulesSoon } from "@/server/services/rules-apply";
import { catalog } from "./catalog";
import { defineSaga } from "./saga";
import { loadInstance, placement, plugNic, ProvisionError, publishSeed, unplugNic } from "./instances";
import { finishOperation } from "./operations";

/** The port as a NIC of the instance (with its current subnet's network), or null once it is gone. */
async function nicOf(instanceId: string, portId: string) {
  return (await instanceNics(getDb(), instanceId)).find((n) => n.portId === portId) ?? null;
}

async function placed(instanceId: string) {
  const pl = await placement(await loadInstance(instanceId));
  if (!pl) throw new ProvisionError("The instance holds no host; start it or wait for its recovery before changing its NICs.");
  return pl;
}

/** Republishes the seed on the instance's DPU if it holds one (an undo must not fail for want of a host). */
async function republishSeed(instanceId: string): Promise<string> {
  const pl = await placement(await loadInstance(instanceId)).catch(() => null);
  return pl ? publishSeed(instanceId, pl) : "no host held";
}

/** Ports whose rules name a group this port is in see its address come or go: their desired version moves. */
const bumpGroupsOf = (tx: Tx, portId: string, extra: string[] = []) => bumpGroupPeers(tx, [portId], extra);

/** Deletes a secondary NIC's port and its address (never the primary: the router refuses that, this re-checks). */
async function releaseNicPort(instanceId: string, portId: string): Promise<string> {
  return getDb().transaction(async (tx) => {
    const [inst] = await tx.select({ portId: instances.portId }).from(instances).where(eq(instances.id, instanceId)).for("update");
    if (inst?.portId === portId) throw new ProvisionError("The primary NIC cannot be removed.");
    const [p] = await tx
      .select({ id: ports.id })
      .from(ports)
      .where(and(eq(ports.id, portId), eq(ports.instanceId, instanceId)));
    if (!p) return "already released";
    await bumpGroupsOf(tx, portId);
    await releasePortAddress(tx, portId);
    await tx.delete(ports).where(eq(ports.id, portId));
    return "released";
  });
}

/** Ends the operation (inside the last step). */
async function finish(opId: string, result: Record<string, unknown>) {
  await finishOperation(getDb(), opId, "succeeded", { result });
}

/** After the last step (a workflow is enqueued from the workflow, never from inside a step): a rules pass and an
 *  overlay pass, so peers learn the address and the DPUs of the VNI this DPU's VTEP. */
async function passes() {
  await applyRulesSoon();
  await applyOverlaySoon();
}

export const attachNicWorkflow = defineSaga(catalog.instanceNicAttach, {
  async run(saga, instanceId, opId, portId) {
    const nic = await saga.step(
      "reserve address",
      async () => {
        const n = await nicOf(instanceId, portId);
        if (!n?.address) throw new ProvisionError("The NIC's port or address is gone (it was removed); add the NIC again.");
        return { index: n.index, mac: n.mac, address: n.address, subnet: n.subnetName };
      },
      {
        undo: [
          { name: "release address and port", fn: () => releaseNicPort(instanceId, portId) },
          { name: "restore cloud-init", fn: () => republishSeed(instanceId) },
        ],
      },
    );
    await saga.step(
      "create NIC",
      async () => {
        const n = await nicOf(instanceId, portId);
        if (!n) throw new ProvisionError("The NIC's port is gone (it was removed); add the NIC again.");
        await plugNic(instanceId, n, await placed(instanceId));
        return `${n.mac} on ${n.subnetName}`;
      },
      {
        undo: {
          name: "remove NIC",
          fn: async () => unplugNic(instanceId, portId, nic.index, await placement(await loadInstance(instanceId)).catch(() => null)),
        },
        undoIfFailed: true,
      },
    );
    await saga.step("update cloud-init", async () => publishSeed(instanceId, await placed(instanceId)));
    await saga.step("mark attached", async () => {
      await getDb().transaction((tx) => bumpGroupsOf(tx, portId));
      await finish(opId, { nic: `eth${nic.index}`, mac: nic.mac, address: nic.address, subnet: nic.subnet });
    });
    await passes();
  },
});

export const detachNicWorkflow = defineSaga(catalog.instanceNicDetach, {
  async run(saga, instanceId, opId, portId) {
    const nic = await saga.step(
      "remove NIC",
      async () => {
        const n = await nicOf(instanceId, portId);
        if (!n) throw new ProvisionError("That NIC is not on this instance any more.");
        if (n.index === 0) throw new ProvisionError("The primary NIC cannot be removed.");
        await unplugNic(instanceId, portId, n.index, await placed(instanceId));
        return { index: n.index, mac: n.mac, address: n.address };
      },
      {
        undo: {
          name: "restore NIC",
          fn: async () => {
            const n = await nicOf(instanceId, portId);
            if (n) await plugNic(instanceId, n, await placed(instanceId));
          },
        },
      },
    );
    // Past this point the address may be handed to someone else: no going back.
    await saga.step("release address and port", () => releaseNicPort(instanceId, portId), { pivot: true });
    await saga.step("update cloud-init", () => republishSeed(instanceId));
    await saga.step("mark detached", () => finish(opId, { nic: `eth${nic.index}`, mac: nic.mac, address: nic.address }));
    await passes();
  },
});

export const moveNicWorkflow = defineSaga(catalog.instanceNicMove, {
  async run(saga, instanceId, opId, portId, allocationId) {
    const db = saga.db;
    const target = await saga.step(
      "reserve new address",
      async () => {
        const [a] = await db.select().from(ipAllocations).where(eq(ipAllocations.id, allocationId));
        if (!a) throw new ProvisionError("The new address was released; move the NIC again.");
        const [s] = await db.select({ name: subnets.name }).from(subnets).where(eq(subnets.id, a.subnetId));
        return { subnetId: a.subnetId, subnet: s?.name ?? a.subnetId, address: a.address.replace(/\/\d+$/, "") };
      },
      {
        // Only while it is not the port's yet (after the switch it is the NIC's address, kept).
        undo: {
          name: "release new address",
          fn: () => db.delete(ipAllocations).where(and(eq(ipAllocations.id, allocationId), isNull(ipAllocations.portId))),
        },
      },
    );
    const before = await saga.step(
      "remove NIC",
      async () => {
        const n = await nicOf(instanceId, portId);
        if (!n) throw new ProvisionError("That NIC is not on this instance any more.");
        await unplugNic(instanceId, portId, n.index, await placed(instanceId));
        return { index: n.index, subnet: n.subnetName, address: n.address };
      },
      {
        undo: {
          name: "restore NIC",
          fn: async () => {
            const n = await nicOf(instanceId, portId);
            if (n) await plugNic(instanceId, n, await placed(instanceId));
          },
        },
      },
    );
    // The old address goes back to IPAM here: past this step the move finishes forward.
    await saga.step(
      "switch subnet",
      () =>
        db.transaction(async (tx) => {
          const [a] = await tx.select().from(ipAllocations).where(eq(ipAllocations.id, allocationId)).for("update");
          if (!a) throw new ProvisionError("The new address was released; move the NIC again.");
          if (a.portId === portId) return "already switched";
          const [port] = await tx.select().from(ports).where(eq(ports.id, portId)).for("update");
          if (!port) throw new ProvisionError("That NIC is not on this instance any more.");
          const [from] = await tx.select({ vpcId: subnets.vpcId }).from(subnets).where(eq(subnets.id, port.subnetId));
          const [to] = await tx.select().from(subnets).where(eq(subnets.id, a.subnetId));
          // Peers that named the old address lose it.
          await bumpGroupsOf(tx, portId, [portId]);
          await releasePortAddress(tx, portId);
          await tx.update(ipAllocations).set({ portId }).where(eq(ipAllocations.id, allocationId));
          await tx.update(ports).set({ subnetId: a.subnetId }).where(eq(ports.id, portId));
          if (to) await ensurePortIpv6(tx, to, { tenantId: port.tenantId, portId });
          if (from?.vpcId !== to?.vpcId) {
            // Security groups belong to a VPC: in another VPC the port starts with that VPC's default group.
            await tx.delete(portSecurityGroups).where(eq(portSecurityGroups.portId, portId));
            const groups = await defaultGroupOf(tx, to!.vpcId);
            if (groups.length) await tx.insert(portSecurityGroups).values(groups.map((groupId) => ({ portId, groupId })));
          }
          const [inst] = await tx.select({ portId: instances.portId }).from(instances).where(eq(instances.id, instanceId));
          if (inst?.portId === portId) {
            const groups = await tx.select({ g: portSecurityGroups.groupId }).from(portSecurityGroups).where(eq(portSecurityGroups.portId, portId));
            await tx
              .update(instances)
              .set({ subnetId: a.subnetId, securityGroupIds: groups.map((g) => g.g) })
              .where(eq(instances.id, instanceId));
          }
          // Peers that name the new groups see the new address.
          await bumpGroupsOf(tx, portId, [portId]);
          return `${before.subnet} → ${target.subnet}`;
        }),
      { pivot: true },
    );
    await saga.step("create NIC", async () => {
      const n = await nicOf(instanceId, portId);
      if (!n) throw new ProvisionError("That NIC is not on this instance any more.");
      await plugNic(instanceId, n, await placed(instanceId));
      return `${n.mac} on ${n.subnetName}`;
    });
    await saga.step("update cloud-init", () => republishSeed(instanceId));
    await saga.step("mark moved", () => finish(opId, { nic: `eth${before.index}`, from: before.address, to: target.address, subnet: target.subnet }));
    await passes();
  },
});
