// Rescue and unrescue against the real lab and engine: a rescued instance's DPU presents the rescue clone as the boot
// disk and its own system volume as a data disk, the seed carries the instance's and the extra SSH keys and a rescue
// hostname, the own volume is untouched; unrescue boots the own disk again and deletes the rescue volume; a failure
// injected at the DPU is undone (the instance runs on its own disk as before, nothing left behind); delete while
// rescued leaks nothing; an operator-marked rescue image is the default; refusals name the reason.
import { generateKeyPairSync } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { getStorage } from "@/server/storage/backend";
import { uniq, useTestDb } from "@/test/db";
import { instanceInput, useEngineLab } from "@/test/engine";
import { callerAs, failure } from "@/test/fixtures";
import { waitOperation } from "@/test/instance-lab";
import { agentFor } from "./instances";

const db = useTestDb();
// One agent attempt per call, so one injected fault fails exactly the call it aims at.
const { fx, L } = useEngineLab({ executor: "rescue", hosts: 2, env: { ANVIL_AGENT_RETRIES: "0" } });
const tenant = () => callerAs(fx, "tenantMember");
const T = () => fx.tenant.slug;

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
/** A fresh ECDSA P-256 public key in OpenSSH form. */
function ecdsaKey(comment: string): string {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  const q = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
  const blob = Buffer.concat([sshString(Buffer.from("ecdsa-sha2-nistp256")), sshString(Buffer.from("nistp256")), sshString(q)]);
  return `ecdsa-sha2-nistp256 ${blob.toString("base64")} ${comment}`;
}

let own: { id: string; publicKey: string };
let extra: { id: string; publicKey: string };
let instanceId: string;
let otherId: string;

beforeAll(async () => {
  own = await tenant().sshKeys.add({ name: `own-${crypto.randomUUID().slice(0, 6)}`, publicKey: ecdsaKey("own@laptop") });
  extra = await tenant().sshKeys.add({ name: `extra-${crypto.randomUUID().slice(0, 6)}`, publicKey: ecdsaKey("helper@desk") });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await tenant().instances.create(instanceInput(fx, L, { sshKeyIds: [own.id] }));
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    ids.push(r.id);
  }
  [instanceId, otherId] = ids as [string, string];
}, 120_000);

async function row(id: string) {
  const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, id));
  return inst!;
}
async function hostOf(id: string) {
  const [host] = await db
    .select()
    .from(s.nodes)
    .where(eq(s.nodes.id, (await row(id)).nodeId!));
  return host!;
}
async function agentOf(id: string) {
  const [dpu] = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.parentNodeId, (await row(id)).nodeId!), eq(s.nodes.kind, "dpu")));
  return agentFor(dpu!);
}
async function ownVolume(id: string) {
  const [v] = await db
    .select({ v: s.volumes })
    .from(s.volumeAttachments)
    .innerJoin(s.volumes, eq(s.volumes.id, s.volumeAttachments.volumeId))
    .where(and(eq(s.volumeAttachments.instanceId, id), eq(s.volumes.kind, "system")));
  return v!.v;
}
/** The DPU's disks of the instance: name → the storage volume id behind it (found through its export's NQN). */
async function disksOf(id: string): Promise<Record<string, string | undefined>> {
  const storage = getStorage();
  const volumesByNqn = new Map<string, string>();
  for (const volumeId of [(await ownVolume(id)).storageVolumeId!, (await row(id)).rescueStorageVolumeId].filter((v): v is string => !!v))
    for (const t of (await storage.listTargets({ volumeId })).items) if (t.nqn) volumesByNqn.set(t.nqn, volumeId);
  const out: Record<string, string | undefined> = {};
  for (const d of await (await agentOf(id)).listDisks()) out[d.name as string] = volumesByNqn.get((d.target as { nqn: string }).nqn);
  return out;
}
async function seedOf(id: string) {
  const c = (await (await agentOf(id)).listCidata()).find((x) => x.name === `i-${id}-seed`);
  return c?.metaData as Record<string, unknown> | undefined;
}

describe("rescue", () => {
  it("boots the rescue clone with the own disk as a data disk and the keys in the seed; unrescue returns it", async () => {
    const sys = await ownVolume(instanceId);
    const name = (await row(instanceId)).name;
    const r = await tenant().instances.rescue({ tenant: T(), id: instanceId, sshKeyIds: [extra.id] });
    const again = await failure(tenant().instances.rescue({ tenant: T(), id: instanceId }));
    expect([again.code, again.message]).toEqual(["PRECONDITION_FAILED", "The instance is rescuing; wait until that finishes."]);
    const op = await waitOperation(db, r.operationId, 60_000);
    expect(op.error).toBeNull();
    const inst = await row(instanceId);
    expect(inst.state).toBe("rescue");
    expect((await hostOf(instanceId)).provisionState).toBe("rescue");
    const rescueVolume = inst.rescueStorageVolumeId!;
    expect(rescueVolume).toBeTruthy();
    // The rescue clone boots; the own system volume is the second (data) disk; the own volume record is unchanged.
    expect(await disksOf(instanceId)).toEqual({ [`i-${instanceId}-boot`]: rescueVolume, [`v-${sys.id}`]: sys.storageVolumeId });
    const disks = await (await agentOf(instanceId)).listDisks();
    expect(Object.fromEntries(disks.map((d) => [d.name, d.role]))).toEqual({ [`i-${instanceId}-boot`]: "boot", [`v-${sys.id}`]: "data" });
    expect(await ownVolume(instanceId)).toEqual(sys);
    expect(inst.storageVolumeId).toBe(sys.storageVolumeId);
    const seed = await seedOf(instanceId);
    expect(seed?.["local-hostname"]).toBe(`${name}-rescue`);
    expect(seed?.["instance-id"]).toBe(`${instanceId}-rescue`);
    expect(seed?.["public-keys"]).toEqual([own.publicKey, extra.publicKey].map((k) => expect.stringContaining(k.split(" ")[1]!)));
    const [audited] = await db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.action, "instance.rescue"), eq(s.auditEvents.targetId, instanceId)));
    expect(audited).toBeTruthy();

    const u = await tenant().instances.unrescue({ tenant: T(), id: instanceId });
    expect((await waitOperation(db, u.operationId, 60_000)).error).toBeNull();
    const back = await row(instanceId);
    expect([back.state, back.rescueStorageVolumeId, back.storageVolumeId]).toEqual(["running", null, sys.storageVolumeId]);
    expect((await hostOf(instanceId)).provisionState).toBe("active");
    expect(await disksOf(instanceId)).toEqual({ [`i-${instanceId}-boot`]: sys.storageVolumeId });
    await expect(getStorage().getVolume(rescueVolume)).rejects.toThrow();
    expect((await seedOf(instanceId))?.["local-hostname"]).toBe(name);
  });

  it("undoes a rescue the DPU fails: the instance runs on its own disk as before, no rescue volume left", async () => {
    const sys = await ownVolume(instanceId);
    const name = (await row(instanceId)).name;
    const [dpu] = await db
      .select()
      .from(s.nodes)
      .where(and(eq(s.nodes.parentNodeId, (await row(instanceId)).nodeId!), eq(s.nodes.kind, "dpu")));
    const agent = [...L.lab.agents.values()].find((x) => x.url === dpu!.agentUrl)!;
    const faults = (body: unknown) =>
      fetch(`${agent.url}/admin/faults`, {
        method: "PUT",
        headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    // The rescue seed's publish fails once; the undo's publish of the own seed then succeeds.
    expect((await faults({ failNext: { publishCidata: 1 } })).status).toBe(200);
    const r = await tenant().instances.rescue({ tenant: T(), id: instanceId });
    const op = await waitOperation(db, r.operationId, 60_000);
    await faults({ failNext: {} });
    expect(op.status).toBe("failed");
    expect(op.error).toMatch(/DPU agent|injected/);
    const steps = (op.steps as { name: string; status: string }[]).map((x) => `${x.name}:${x.status}`);
    expect(steps).toEqual(expect.arrayContaining(["restore own boot disk:done", "boot own disk again:done", "delete rescue volume:done"]));
    const inst = await row(instanceId);
    expect(inst.state).toBe("running");
    expect(inst.stateReason).toMatch(/^Rescue failed: .* The instance runs on its own disk as before\.$/);
    expect(inst.rescueStorageVolumeId).toBeNull();
    expect((await hostOf(instanceId)).provisionState).toBe("active");
    expect(await disksOf(instanceId)).toEqual({ [`i-${instanceId}-boot`]: sys.storageVolumeId });
    expect((await seedOf(instanceId))?.["local-hostname"]).toBe(name);
    const storage = getStorage();
    const left: string[] = [];
    for await (const v of storage.listAll(storage.listVolumes, {})) if (v.name.startsWith(`rescue-${instanceId}-`)) left.push(v.name);
    expect(left).toEqual([]);
  });

  it("deletes a rescued instance with its rescue volume: nothing leaks, the host goes back to the pool", async () => {
    const r = await tenant().instances.rescue({ tenant: T(), id: otherId });
    expect((await waitOperation(db, r.operationId, 60_000)).error).toBeNull();
    const inst = await row(otherId);
    const hostId = inst.nodeId!;
    const rescueVolume = inst.rescueStorageVolumeId!;
    const sys = await ownVolume(otherId);
    const agent = await agentOf(otherId);
    const d = await tenant().instances.delete({ tenant: T(), id: otherId });
    expect((await waitOperation(db, d.operationId, 60_000)).error).toBeNull();
    const gone = await row(otherId);
    expect([gone.state, gone.rescueStorageVolumeId, gone.nodeId]).toEqual(["deleted", null, null]);
    await expect(getStorage().getVolume(rescueVolume)).rejects.toThrow();
    await expect(getStorage().getVolume(sys.storageVolumeId!)).rejects.toThrow();
    expect((await getStorage().listTargets({ volumeId: rescueVolume })).items).toEqual([]);
    expect((await agent.listDisks()).map((x) => x.name).filter((n) => String(n).includes(otherId) || n === `v-${sys.id}`)).toEqual([]);
    const [host] = await db.select().from(s.nodes).where(eq(s.nodes.id, hostId));
    expect(host!.provisionState).toBe("available");
  });

  it("boots the image an operator marked for rescue when the tenant names none", async () => {
    const [lab] = await db.select().from(s.images).where(eq(s.images.id, L.imageId));
    const { id: _id, createdAt: _c, updatedAt: _u, ...copy } = lab!;
    const [marked] = await db
      .insert(s.images)
      .values({ ...copy, name: uniq("rescue-img"), storageVolumeId: null, rescue: false })
      .returning();
    try {
      await callerAs(fx, "operatorAdmin").images.update({ id: marked!.id, rescue: true });
      const r = await tenant().instances.rescue({ tenant: T(), id: instanceId });
      const op = await waitOperation(db, r.operationId, 60_000);
      expect(op.error).toBeNull();
      expect(op.input).toMatchObject({ imageId: marked!.id, imageName: marked!.name });
      const u = await tenant().instances.unrescue({ tenant: T(), id: instanceId });
      expect((await waitOperation(db, u.operationId, 60_000)).error).toBeNull();
    } finally {
      await db.update(s.images).set({ rescue: false }).where(eq(s.images.id, marked!.id));
    }
  });

  it("refuses what the state or the input does not allow, with the reason", async () => {
    const notRescued = await failure(tenant().instances.unrescue({ tenant: T(), id: instanceId }));
    expect([notRescued.code, notRescued.message]).toEqual(["PRECONDITION_FAILED", "It is not in rescue."]);
    const foreignKey = await callerAs(fx, "tenantAdmin").sshKeys.add({ name: `adm-${crypto.randomUUID().slice(0, 6)}`, publicKey: ecdsaKey("adm@x") });
    const notMine = await failure(tenant().instances.rescue({ tenant: T(), id: instanceId, sshKeyIds: [foreignKey.id] }));
    expect([notMine.code, notMine.message]).toEqual(["BAD_REQUEST", "One of the SSH keys is not yours (or was deleted)."]);
    const noImage = await failure(tenant().instances.rescue({ tenant: T(), id: instanceId, imageId: crypto.randomUUID() }));
    expect([noImage.code, noImage.message]).toEqual(["BAD_REQUEST", "No such image."]);
    expect((await row(instanceId)).state).toBe("running");
  });
});
