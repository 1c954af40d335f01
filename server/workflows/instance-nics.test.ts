// Several NICs per instance against the real lab and engine: a create with two NICs on two subnets (one with a fixed
// address), a third hot-added at runtime on a subnet of another VPC, a NIC moved to another subnet (new address from
// IPAM, the old one released), one removed, the primary's removal refused — each checked on the DPU agent over its
// HTTP API, in the IPAM rows, and in the cloud-init seed on the DPU (every NIC by MAC; real `cloud-init devel
// net-convert` renders it). An add the DPU refuses (injected createNic fault) is undone leaving nothing behind.
import { and, eq, inArray } from "drizzle-orm";
import { stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { netConvert } from "@/test/cloud-init";
import { instanceInput, useEngineLab } from "@/test/engine";
import { TRPCError } from "@trpc/server";
import { callerAs, fieldOf } from "@/test/fixtures";
import { agentFaults, waitOperation } from "@/test/instance-lab";
import { rejection } from "@/test/rejection";
import { agentFor, agentNames, instanceSeed } from "./instances";

const db = useTestDb();
const { fx, L } = useEngineLab({ executor: "nics", hosts: 1 });
const tenant = () => callerAs(fx, "tenantMember");
const T = () => fx.tenant.slug;

const net = { sameVpc: "", otherVpc: "", otherVni: 0 };
beforeAll(async () => {
  const admin = callerAs(fx, "tenantAdmin");
  const b = await admin.subnets.create({ tenant: T(), vpcId: L.vpcId, name: uniq("b"), cidr: "10.1.16.0/24" } as never);
  const vpc = await admin.vpcs.create({ tenant: T(), name: uniq("vpc2"), cidr: "10.2.0.0/16" } as never);
  const c = await admin.subnets.create({ tenant: T(), vpcId: vpc.id, name: uniq("c"), cidr: "10.2.0.0/24" } as never);
  Object.assign(net, { sameVpc: b.id, otherVpc: c.id, otherVni: (vpc as { vni: number }).vni });
}, 60_000);

async function agentOf(instanceId: string) {
  const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, instanceId));
  const [dpu] = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.parentNodeId, inst!.nodeId!), eq(s.nodes.kind, "dpu")));
  return { agent: agentFor(dpu!), url: dpu!.agentUrl! };
}
/** The instance's NICs on its DPU (GET /v1/nics), name → MAC and network. */
async function dpuNics(instanceId: string) {
  const { agent } = await agentOf(instanceId);
  const all = (await agent.listNics()) as unknown as { name: string; mac: string; network: { type: string; vni?: number } }[];
  return Object.fromEntries(all.filter((n) => n.name.startsWith(`i-${instanceId}-`)).map((n) => [n.name, { mac: n.mac, network: n.network }]));
}
/** The seed image the DPU presents to the host (GET /v1/cidata/{name}/image), as text: the ISO stores files as is. */
async function seedOnDpu(instanceId: string): Promise<string> {
  const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, instanceId));
  const [dpu] = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.parentNodeId, inst!.nodeId!), eq(s.nodes.kind, "dpu")));
  const agent = [...L.lab.agents.values()].find((a) => a.url === dpu!.agentUrl)!;
  const r = await fetch(`${agent.url}/v1/cidata/${agentNames.seed(instanceId)}/image`, { headers: { authorization: `Bearer ${agent.token}` } });
  expect(r.status).toBe(200);
  return Buffer.from(await r.arrayBuffer()).toString("latin1");
}
/** IPAM: the addresses held by the instance's ports, by port. */
async function ipamOf(portIds: string[]) {
  if (!portIds.length) return [];
  return db
    .select({ portId: s.ipAllocations.portId, subnetId: s.ipAllocations.subnetId, address: s.ipAllocations.address })
    .from(s.ipAllocations)
    .where(inArray(s.ipAllocations.portId, portIds));
}
const nics = (id: string) => tenant().instances.nics({ tenant: T(), id });
const done = async (p: Promise<{ operationId: string }>) => waitOperation(db, (await p).operationId);

describe("an instance with several NICs", () => {
  it("creates with two NICs, hot-adds a third, moves one, removes one; the DPU, IPAM and the seed follow", async () => {
    const r = await tenant().instances.create(
      instanceInput(fx, L, { subnetId: undefined, nics: [{ subnetId: L.subnetId }, { subnetId: net.sameVpc, address: "10.1.16.50" }] }),
    );
    const created = await waitOperation(db, r.operationId);
    expect([created.status, created.error]).toEqual(["succeeded", null]);
    const id = r.id;
    let list = await nics(id);
    expect(list.map((n) => [n.index, n.subnetId, n.bound])).toEqual([
      [0, L.subnetId, true],
      [1, net.sameVpc, true],
    ]);
    expect(list[1]!.address).toBe("10.1.16.50");
    expect(await dpuNics(id)).toEqual({
      [agentNames.nic(id, 0)]: { mac: list[0]!.mac, network: expect.objectContaining({ type: "vxlan" }) },
      [agentNames.nic(id, 1)]: { mac: list[1]!.mac, network: expect.objectContaining({ type: "vxlan" }) },
    });
    // A taken fixed address is a field error, and nothing is recorded.
    const taken = await rejection(tenant().instances.addNic({ tenant: T(), id, subnetId: net.sameVpc, address: "10.1.16.50" }), TRPCError);
    expect([taken.code, fieldOf(taken)]).toEqual(["CONFLICT", "address"]);
    expect(await nics(id)).toHaveLength(2);

    // Hot-add eth2 on a subnet of another VPC of the tenant.
    const added = await done(tenant().instances.addNic({ tenant: T(), id, subnetId: net.otherVpc }));
    expect([added.status, added.error]).toEqual(["succeeded", null]);
    list = await nics(id);
    expect(list.map((n) => [n.index, n.subnetId])).toEqual([
      [0, L.subnetId],
      [1, net.sameVpc],
      [2, net.otherVpc],
    ]);
    const eth2 = list[2]!;
    expect((await dpuNics(id))[agentNames.nic(id, 2)]).toEqual({ mac: eth2.mac, network: { type: "vxlan", vni: net.otherVni } });
    expect(await ipamOf(list.map((n) => n.portId))).toHaveLength(3);
    // The seed on the DPU lists every NIC by MAC, and cloud-init renders an interface for each.
    const iso = await seedOnDpu(id);
    for (const n of list) expect(iso).toContain(n.mac);
    const seed = await instanceSeed(id);
    const files = await netConvert(stringify(seed.networkConfig), "networkd");
    const rendered = Object.values(files).join("\n");
    for (const n of list) {
      expect(rendered).toContain(n.mac);
      expect(rendered).toContain(`${n.address}/`);
    }

    // Move eth1 to the other VPC's subnet: a new address there, the fixed one released, the NIC on the new VNI.
    const eth1 = list[1]!;
    const moved = await done(tenant().instances.moveNic({ tenant: T(), id, portId: eth1.portId, subnetId: net.otherVpc }));
    expect([moved.status, moved.error]).toEqual(["succeeded", null]);
    const after = (await nics(id))[1]!;
    expect([after.portId, after.mac, after.subnetId]).toEqual([eth1.portId, eth1.mac, net.otherVpc]);
    expect(after.address).toMatch(/^10\.2\.0\./);
    expect(await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.subnetId, net.sameVpc))).toEqual([]);
    expect((await dpuNics(id))[agentNames.nic(id, 1)]).toEqual({ mac: eth1.mac, network: { type: "vxlan", vni: net.otherVni } });
    expect(after.groups.map((g) => g.name)).toEqual(["default"]);

    // Remove eth2; the primary cannot go.
    const removed = await done(tenant().instances.removeNic({ tenant: T(), id, portId: eth2.portId }));
    expect([removed.status, removed.error]).toEqual(["succeeded", null]);
    expect(Object.keys(await dpuNics(id)).sort()).toEqual([agentNames.nic(id, 0), agentNames.nic(id, 1)].sort());
    expect(await db.select().from(s.ports).where(eq(s.ports.id, eth2.portId))).toEqual([]);
    expect(await ipamOf([eth2.portId])).toEqual([]);
    expect(await seedOnDpu(id)).not.toContain(eth2.mac);
    const primary = await rejection(tenant().instances.removeNic({ tenant: T(), id, portId: list[0]!.portId }), TRPCError);
    expect([primary.code, fieldOf(primary), primary.message]).toEqual(["PRECONDITION_FAILED", "portId", expect.stringMatching(/primary NIC/)]);

    // Deleting the instance releases every NIC's port and address.
    const portIds = (await nics(id)).map((n) => n.portId);
    expect((await done(tenant().instances.delete({ tenant: T(), id }))).status).toBe("succeeded");
    expect(await db.select().from(s.ports).where(inArray(s.ports.id, portIds))).toEqual([]);
    expect(await ipamOf(portIds)).toEqual([]);
  });

  it("a failed create keeps the NICs asked beyond the primary; the operator's retry brings them back as asked", async () => {
    await agentFaults(L, { failAlways: ["createNic"] });
    let r: Awaited<ReturnType<ReturnType<typeof tenant>["instances"]["create"]>>;
    let failed: Awaited<ReturnType<typeof waitOperation>>;
    try {
      r = await tenant().instances.create(
        instanceInput(fx, L, { subnetId: undefined, nics: [{ subnetId: L.subnetId }, { subnetId: net.sameVpc, address: "10.1.16.60" }] }),
      );
      failed = await waitOperation(db, r.operationId);
    } finally {
      await agentFaults(L, { failAlways: [] });
    }
    expect(failed.status).toBe("failed");
    const id = r.id;
    expect((await tenant().instances.get({ tenant: T(), id })).state).toBe("failed");
    // The rollback released the host, the disk and the primary NIC; eth1 (its subnet and fixed address) stays asked for.
    let list = await nics(id);
    expect(list.map((n) => [n.index, n.subnetId, n.address, n.bound])).toEqual([[1, net.sameVpc, "10.1.16.60", false]]);

    const retried = await done(callerAs(fx, "operatorAdmin").operations.retry({ id: r.operationId }));
    expect([retried.status, retried.error]).toEqual(["succeeded", null]);
    list = await nics(id);
    expect(list.map((n) => [n.index, n.subnetId, n.bound])).toEqual([
      [0, L.subnetId, true],
      [1, net.sameVpc, true],
    ]);
    expect(list[1]!.address).toBe("10.1.16.60");
    expect(Object.keys(await dpuNics(id)).sort()).toEqual([agentNames.nic(id, 0), agentNames.nic(id, 1)].sort());
    expect(await seedOnDpu(id)).toContain(list[1]!.mac);

    // Delete releases every NIC and address.
    const portIds = list.map((n) => n.portId);
    expect((await done(tenant().instances.delete({ tenant: T(), id }))).status).toBe("succeeded");
    expect(await db.select({ id: s.ports.id }).from(s.ports).where(eq(s.ports.instanceId, id))).toEqual([]);
    expect(await ipamOf(portIds)).toEqual([]);
  });

  it("undoes an add the DPU refuses: no port, no address, no NIC on the DPU, the seed as before", async () => {
    const r = await tenant().instances.create(instanceInput(fx, L));
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    const id = r.id;
    const before = { nics: await dpuNics(id), ports: await db.select({ id: s.ports.id }).from(s.ports).where(eq(s.ports.instanceId, id)) };
    await agentFaults(L, { failAlways: ["createNic"] });
    let op: Awaited<ReturnType<typeof waitOperation>>;
    try {
      op = await done(tenant().instances.addNic({ tenant: T(), id, subnetId: net.sameVpc }));
    } finally {
      await agentFaults(L, { failAlways: [] });
    }
    expect(op.status).toBe("failed");
    expect(op.error).toMatch(/DPU agent/);
    const undone = (op.steps as { name: string; status: string }[]).filter((x) => x.status === "done").map((x) => x.name);
    expect(undone).toEqual(expect.arrayContaining(["remove NIC", "release address and port", "restore cloud-init"]));
    const mac = (op.input as { mac: string }).mac;
    expect(await dpuNics(id)).toEqual(before.nics);
    expect(await db.select({ id: s.ports.id }).from(s.ports).where(eq(s.ports.instanceId, id))).toEqual(before.ports);
    expect(await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.subnetId, net.sameVpc))).toEqual([]);
    expect(await seedOnDpu(id)).not.toContain(mac);
    expect((await tenant().instances.get({ tenant: T(), id })).state).toBe("running");
    expect((await done(tenant().instances.delete({ tenant: T(), id }))).status).toBe("succeeded");
  });
});
