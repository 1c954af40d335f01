// Volumes, backup and rebuild of instances against the real lab and engine: hot-plug attach/detach with the disk on
// the DPU, a multi-attach volume on two instances (one export per DPU), a single-attach volume refused a second
// time, an attach the DPU refuses undone cleanly; a backup made into a tenant image that boots a new instance;
// a rebuild keeping the MAC and address and deleting the old system volume.
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { getStorage } from "@/server/storage/backend";
import { uniq, useTestDb } from "@/test/db";
import { instanceInput, useEngineLab } from "@/test/engine";
import { callerAs } from "@/test/fixtures";
import { waitOperation } from "@/test/instance-lab";
import { agentFor } from "./instances";

const db = useTestDb();
const ids: string[] = [];

const { fx, L } = useEngineLab({ executor: "actions", hosts: 3 });
beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const r = await tenant().instances.create(instanceInput(fx, L));
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    ids.push(r.id);
  }
}, 120_000);

const tenant = () => callerAs(fx, "tenantMember");
const T = () => fx.tenant.slug;
async function agentOf(instanceId: string) {
  const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, instanceId));
  const [dpu] = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.parentNodeId, inst!.nodeId!), eq(s.nodes.kind, "dpu")));
  return agentFor(dpu!);
}
const diskNames = async (instanceId: string) => (await (await agentOf(instanceId)).listDisks()).map((d) => d.name).sort();
async function volumeState(id: string) {
  const [v] = await db.select().from(s.volumes).where(eq(s.volumes.id, id));
  return v!.state;
}

describe("data volumes", () => {
  it("hot-plugs a multi-attach volume into two running instances and out again, one export per DPU", async () => {
    const [a, b] = ids as [string, string];
    const vol = await tenant().volumes.create({ tenant: T(), name: uniq("shared"), sizeGiB: 1, multiAttach: true });
    const opA = await tenant().instances.attachVolume({ tenant: T(), id: a, volumeId: vol.id });
    expect((await waitOperation(db, opA.operationId)).status).toBe("succeeded");
    const opB = await tenant().instances.attachVolume({ tenant: T(), id: b, volumeId: vol.id });
    expect((await waitOperation(db, opB.operationId)).status).toBe("succeeded");
    expect(await diskNames(a)).toContain(`v-${vol.id}`);
    expect(await diskNames(b)).toContain(`v-${vol.id}`);
    expect((await getStorage().listTargets({ volumeId: vol.storageVolumeId! })).items).toHaveLength(2);
    expect((await tenant().instances.get({ tenant: T(), id: a })).state).toBe("running");
    await expect(tenant().instances.attachVolume({ tenant: T(), id: a, volumeId: vol.id })).rejects.toThrow(/already attached/);

    const d = await tenant().instances.detachVolume({ tenant: T(), id: a, volumeId: vol.id });
    expect((await waitOperation(db, d.operationId)).status).toBe("succeeded");
    expect(await diskNames(a)).not.toContain(`v-${vol.id}`);
    expect(await diskNames(b)).toContain(`v-${vol.id}`);
    expect((await getStorage().listTargets({ volumeId: vol.storageVolumeId! })).items).toHaveLength(1);
    expect(await volumeState(vol.id)).toBe("attached");
    const d2 = await tenant().instances.detachVolume({ tenant: T(), id: b, volumeId: vol.id });
    expect((await waitOperation(db, d2.operationId)).status).toBe("succeeded");
    expect(await volumeState(vol.id)).toBe("available");
    expect((await getStorage().listTargets({ volumeId: vol.storageVolumeId! })).items).toHaveLength(0);
  });

  it("refuses a second attachment of a single-attach volume, and the system disk's detach", async () => {
    const [a, b] = ids as [string, string];
    const vol = await tenant().volumes.create({ tenant: T(), name: uniq("solo"), sizeGiB: 1 });
    const op = await tenant().instances.attachVolume({ tenant: T(), id: a, volumeId: vol.id });
    expect((await waitOperation(db, op.operationId)).status).toBe("succeeded");
    await expect(tenant().instances.attachVolume({ tenant: T(), id: b, volumeId: vol.id })).rejects.toThrow(/attached elsewhere and is not multi-attach/);
    const sys = (await tenant().instances.get({ tenant: T(), id: a })).volumes.find((v) => v.kind === "system")!;
    await expect(tenant().instances.detachVolume({ tenant: T(), id: a, volumeId: sys.id })).rejects.toThrow(/is a system disk/);
    const d = await tenant().instances.detachVolume({ tenant: T(), id: a, volumeId: vol.id });
    expect((await waitOperation(db, d.operationId)).status).toBe("succeeded");
  });

  it("undoes an attach the DPU refuses: no attachment, no export, the volume available", async () => {
    const [a] = ids as [string];
    const vol = await tenant().volumes.create({ tenant: T(), name: uniq("refused"), sizeGiB: 1 });
    const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, a));
    const [dpu] = await db
      .select()
      .from(s.nodes)
      .where(and(eq(s.nodes.parentNodeId, inst!.nodeId!), eq(s.nodes.kind, "dpu")));
    const agent = [...L.lab.agents.values()].find((x) => x.url === dpu!.agentUrl)!;
    const put = (body: unknown) =>
      fetch(`${agent.url}/admin/faults`, {
        method: "PUT",
        headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await put({ failAlways: ["attachDisk"] });
    try {
      const op = await tenant().instances.attachVolume({ tenant: T(), id: a, volumeId: vol.id });
      const done = await waitOperation(db, op.operationId);
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/DPU agent/);
    } finally {
      await put({ failAlways: [] });
    }
    expect(await volumeState(vol.id)).toBe("available");
    expect(await db.select().from(s.volumeAttachments).where(eq(s.volumeAttachments.volumeId, vol.id))).toHaveLength(0);
    expect((await getStorage().listTargets({ volumeId: vol.storageVolumeId! })).items).toHaveLength(0);
  });
});

describe("backup and rebuild", () => {
  it("backs an instance up into a tenant image that boots a new instance", async () => {
    const [a] = ids as [string];
    const data = await tenant().volumes.create({ tenant: T(), name: uniq("data"), sizeGiB: 1 });
    const att = await tenant().instances.attachVolume({ tenant: T(), id: a, volumeId: data.id });
    expect((await waitOperation(db, att.operationId)).status).toBe("succeeded");
    const name = uniq("backup");
    const b = await tenant().instances.backup({ tenant: T(), id: a, imageName: name, includeDataVolumes: true });
    const op = await waitOperation(db, b.operationId, 60_000);
    expect(op.error).toBeNull();
    const result = op.result as { imageId: string; snapshots: string[] };
    const [img] = await db.select().from(s.images).where(eq(s.images.id, result.imageId));
    expect(img).toMatchObject({ name, visibility: "tenant", tenantId: fx.tenant.id, state: "available" });
    expect(result.snapshots).toHaveLength(1);
    await expect(tenant().instances.backup({ tenant: T(), id: a, imageName: name })).rejects.toThrow(/already exists/);
    // Restore = create from it.
    const r = await tenant().instances.create({ tenant: T(), name: uniq("restored"), poolId: L.poolId, imageId: img!.id, subnetId: L.subnetId });
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    const del = await tenant().instances.delete({ tenant: T(), id: r.id });
    expect((await waitOperation(db, del.operationId)).status).toBe("succeeded");
    const dt = await tenant().instances.detachVolume({ tenant: T(), id: a, volumeId: data.id });
    expect((await waitOperation(db, dt.operationId)).status).toBe("succeeded");
  });

  it("rebuilds onto a new system volume with the same MAC and address; the old volume is gone", async () => {
    const [, b] = ids as [string, string];
    const before = await tenant().instances.get({ tenant: T(), id: b });
    const oldStorage = (await db.select().from(s.instances).where(eq(s.instances.id, b)))[0]!.storageVolumeId!;
    const r = await tenant().instances.rebuild({ tenant: T(), id: b, imageId: L.imageId });
    await expect(tenant().instances.rebuild({ tenant: T(), id: b, imageId: L.imageId })).rejects.toThrow(/rebuilding; wait/);
    const op = await waitOperation(db, r.operationId, 60_000);
    expect(op.error).toBeNull();
    const after = await tenant().instances.get({ tenant: T(), id: b });
    expect(after.state).toBe("running");
    expect(after.address).toBe(before.address);
    expect(after.mac).toBe(before.mac);
    const newStorage = (await db.select().from(s.instances).where(eq(s.instances.id, b)))[0]!.storageVolumeId!;
    expect(newStorage).not.toBe(oldStorage);
    await expect(getStorage().getVolume(oldStorage)).rejects.toThrow();
    expect(after.volumes.filter((v) => v.kind === "system")).toHaveLength(1);
    expect(await diskNames(b)).toEqual([`i-${b}-boot`]);
  });
});
