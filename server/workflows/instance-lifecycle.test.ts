// Instance provisioning end to end against the real lab (Redfish BMCs, storage service, DPU agents) and the real
// workflow engine on Postgres: create reaches running with its address, disk, seed and NIC on the DPU; stop, start,
// reboot; delete releases everything and the host returns to the pool; an agent fault mid-create rolls back with
// nothing leaked; bad input and missing capacity are refused before anything is created.
import { and, eq, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { useTestDb } from "@/test/db";
import { instanceInput, useEngineLab } from "@/test/engine";
import { callerAs, instanceRow, nodeRow } from "@/test/fixtures";
import { agentFaults, systemVolumesOf, waitOperation } from "@/test/instance-lab";
import { agentFor } from "./instances";

const db = useTestDb();
const { fx, L } = useEngineLab({ executor: "inst", hosts: 3, env: { ANVIL_STOP_GRACE_MS: "3000" } });

const tenant = () => callerAs(fx, "tenantMember");
const input = (extra: Record<string, unknown> = {}) => instanceInput(fx, L, extra);

async function dpuOf(hostId: string) {
  const [d] = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.parentNodeId, hostId), eq(s.nodes.kind, "dpu")));
  return d!;
}
/** Every external object a deleted or rolled-back instance could leak. */
async function leaks(instanceId: string, hostId: string) {
  const vols = await systemVolumesOf(instanceId);
  const dpu = await dpuOf(hostId);
  const agent = agentFor(dpu);
  const [disks, seeds, nics] = await Promise.all([agent.listDisks(), agent.listCidata(), agent.listNics()]);
  const ports = await db.select().from(s.ports).where(eq(s.ports.tenantId, fx.tenant.id));
  const inst = await instanceRow(db, instanceId);
  const sys = await db
    .select()
    .from(s.volumes)
    .where(and(eq(s.volumes.tenantId, fx.tenant.id), eq(s.volumes.kind, "system"), eq(s.volumes.sourceImageId, L.imageId)));
  return {
    storageVolumes: vols.length,
    agentObjects: disks.length + seeds.length + nics.length,
    portsOfInstance: ports.filter((p) => p.name.includes(instanceId.slice(0, 8))).length,
    instanceHolds: [inst.nodeId, inst.portId, inst.storageVolumeId, inst.storageTargetId].filter(Boolean).length,
    systemVolumeRows: sys.filter((v) => v.name.includes(instanceId.slice(0, 8))).length,
  };
}
/** The lab BMC's boot override of a host node ("Once" while one is pending, "Disabled" when cleared). */
async function bootOverrideOf(hostId: string) {
  const h = L.lab.hosts.find((x) => L.hosts.get(x.name) === hostId)!;
  const sys = await fetch(`${h.bmc_address}/redfish/v1/Systems/System.Embedded.1`, {
    headers: { authorization: `Basic ${Buffer.from(`${h.bmc_username}:${h.bmc_password}`).toString("base64")}` },
  }).then((r) => r.json() as Promise<{ Boot: { BootSourceOverrideEnabled: string } }>);
  return sys.Boot.BootSourceOverrideEnabled;
}
const none = { storageVolumes: 0, agentObjects: 0, portsOfInstance: 0, instanceHolds: 0, systemVolumeRows: 0 };

describe("instance lifecycle in the lab", () => {
  let id: string;
  let hostId: string;

  it("creates an instance that reaches running with its address, boot disk, seed and NIC on the DPU", async () => {
    const r = await tenant().instances.create(input({ userData: "#cloud-config\npackages: [nginx]\n" }));
    const op = await waitOperation(db, r.operationId);
    expect(op.error).toBeNull();
    expect(op.status).toBe("succeeded");
    expect(op.steps.filter((st) => st.status !== "done")).toEqual([]);
    id = r.id;
    const inst = await instanceRow(db, id);
    expect(inst.state).toBe("running");
    hostId = inst.nodeId!;
    const host = await nodeRow(db, hostId);
    expect(host.provisionState).toBe("active");
    const got = await tenant().instances.get({ tenant: fx.tenant.slug, id });
    expect(got.address).toMatch(/^10\.1\.0\.\d+$/);
    expect(got.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(got.volumes).toEqual([expect.objectContaining({ kind: "system", sizeGiB: 1, state: "attached" })]);
    expect(got.allowed.stop.ok).toBe(true);
    expect(got.allowed.start).toEqual({ ok: false, reason: "It is already running." });
    // The DPU really carries the instance: boot disk exported to its NQN, the seed with the address, the NIC with the MAC.
    const agent = agentFor(await dpuOf(hostId));
    const disks = await agent.listDisks();
    expect(disks.map((d) => d.name)).toEqual([`i-${id}-boot`]);
    const seeds = await agent.listCidata();
    expect(seeds[0]).toMatchObject({
      name: `i-${id}-seed`,
      metaData: { "instance-id": id, "local-hostname": got.name },
      files: expect.arrayContaining(["network-config"]),
    });
    expect(seeds[0]!.userDataBytes).toBe("#cloud-config\npackages: [nginx]\n".length);
    const nics = await agent.listNics();
    expect(nics[0]).toMatchObject({ name: `i-${id}-nic0`, mac: got.mac });
  });

  it("stops gracefully, starts and reboots, following the state rules", async () => {
    const t = tenant();
    await expect(t.instances.start({ tenant: fx.tenant.slug, id })).rejects.toThrow("It is already running.");
    const stop = await t.instances.stop({ tenant: fx.tenant.slug, id });
    await expect(t.instances.reboot({ tenant: fx.tenant.slug, id })).rejects.toThrow(/stopping; wait/);
    const stopped = await waitOperation(db, stop.operationId);
    expect(stopped.status).toBe("succeeded");
    expect(stopped.result).toEqual({ how: "shut down gracefully" });
    expect((await instanceRow(db, id)).state).toBe("stopped");
    expect((await nodeRow(db, hostId)).powerState).toBe("off");
    const start = await t.instances.start({ tenant: fx.tenant.slug, id });
    expect((await waitOperation(db, start.operationId)).status).toBe("succeeded");
    expect((await instanceRow(db, id)).state).toBe("running");
    const reboot = await t.instances.reboot({ tenant: fx.tenant.slug, id });
    expect((await waitOperation(db, reboot.operationId)).status).toBe("succeeded");
    expect((await instanceRow(db, id)).state).toBe("running");
  });

  it("deletes: everything released, the host back in the pool, the instance kept as history", async () => {
    const r = await tenant().instances.delete({ tenant: fx.tenant.slug, id });
    const op = await waitOperation(db, r.operationId);
    expect(op.error).toBeNull();
    expect((await instanceRow(db, id)).state).toBe("deleted");
    expect((await nodeRow(db, hostId)).provisionState).toBe("available");
    expect((await nodeRow(db, hostId)).powerState).toBe("off");
    expect(await leaks(id, hostId)).toEqual(none);
    const addrs = await db
      .select()
      .from(s.ipAllocations)
      .where(and(eq(s.ipAllocations.tenantId, fx.tenant.id), isNull(s.ipAllocations.portId)));
    expect(addrs).toHaveLength(0);
    // The name is free again.
    await expect(tenant().instances.get({ tenant: fx.tenant.slug, id })).resolves.toMatchObject({ state: "deleted" });
  });

  it("rolls back a create whose boot-disk attach fails on the DPU, leaking nothing", async () => {
    await agentFaults(L, { failAlways: ["attachDisk"] });
    try {
      const r = await tenant().instances.create(input());
      const op = await waitOperation(db, r.operationId);
      expect(op.status).toBe("failed");
      expect(op.error).toMatch(/DPU agent/);
      const names = op.steps.map((st) => `${st.name}:${st.status}`);
      expect(names).toContain("attach boot disk:failed");
      expect(names).toContain("rollback: clean node:done");
      const inst = await instanceRow(db, r.id);
      expect(inst.state).toBe("failed");
      expect(inst.stateReason).toMatch(/DPU agent/);
      const held = await db
        .select()
        .from(s.nodes)
        .where(and(eq(s.nodes.poolId, L.poolId), eq(s.nodes.provisionState, "available")));
      expect(held).toHaveLength(3);
      for (const h of L.hosts.values()) expect(await leaks(r.id, h)).toEqual(none);
      // The boot override the create set (once, never consumed: no power-on) was cleared with the node.
      for (const h of L.hosts.values()) expect(await bootOverrideOf(h)).toBe("Disabled");
      // A failed instance is deleted without fuss.
      const del = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
      expect((await waitOperation(db, del.operationId)).status).toBe("succeeded");
    } finally {
      await agentFaults(L, { failAlways: [] });
    }
  });

  it("refuses bad input with field errors before anything is created", async () => {
    const t = tenant();
    const before = (await db.select().from(s.instances)).length;
    await expect(t.instances.create(input({ name: "Bad Name" }))).rejects.toThrow(/Lowercase/);
    await expect(t.instances.create(input({ userData: "#cloud-config\nfoo: [unclosed\n" }))).rejects.toThrow(/Not valid YAML/);
    await expect(t.instances.create(input({ systemVolumeSizeGiB: 5000 }))).rejects.toThrow(/allows system volumes up to 2048 GiB/);
    await expect(t.instances.create(input({ imageId: crypto.randomUUID() }))).rejects.toThrow("No such image.");
    await expect(t.instances.create(input({ subnetId: crypto.randomUUID() }))).rejects.toThrow("No such subnet in this tenant.");
    await db.update(s.pools).set({ maxSystemVolumeGiB: 1 }).where(eq(s.pools.id, L.poolId));
    await db.update(s.images).set({ minSizeGiB: 2 }).where(eq(s.images.id, L.imageId));
    try {
      await expect(t.instances.create(input())).rejects.toThrow(/needs 2 GiB, more than pool .* allows/);
    } finally {
      await db.update(s.pools).set({ maxSystemVolumeGiB: 2048 }).where(eq(s.pools.id, L.poolId));
      await db.update(s.images).set({ minSizeGiB: 1 }).where(eq(s.images.id, L.imageId));
    }
    await db.update(s.quotas).set({ instances: 0 }).where(eq(s.quotas.tenantId, fx.tenant.id));
    try {
      await expect(t.instances.create(input())).rejects.toThrow(/Quota exceeded: this would use 1 instance but the tenant's quota is 0 instances/);
    } finally {
      await db.update(s.quotas).set({ instances: 10_000 }).where(eq(s.quotas.tenantId, fx.tenant.id));
    }
    expect((await db.select().from(s.instances)).length).toBe(before);
  });

  it("refuses a create when every host of the pool is taken", async () => {
    await db.update(s.nodes).set({ maintenance: true }).where(eq(s.nodes.poolId, L.poolId));
    try {
      const flavors = await tenant().instances.flavors({ tenant: fx.tenant.slug });
      expect(flavors.find((f) => f.poolId === L.poolId)).toMatchObject({ available: 0, total: 3 });
      await expect(tenant().instances.create(input())).rejects.toThrow(/No free host in pool .*: all 3 are in use, in maintenance or faulty/);
    } finally {
      await db.update(s.nodes).set({ maintenance: false }).where(eq(s.nodes.poolId, L.poolId));
    }
    const flavors = await tenant().instances.flavors({ tenant: fx.tenant.slug });
    expect(flavors.find((f) => f.poolId === L.poolId)).toMatchObject({ available: 3, total: 3 });
    expect(flavors.find((f) => f.poolId === L.poolId)!.cores).toBeGreaterThan(0);
  });
});
