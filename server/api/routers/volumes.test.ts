// Storage routers against the real lab storage service and a real Postgres: volumes (blank, from image, from
// snapshot, resize, delete rules), snapshots (create, promote, delete rules), quotas in the same transaction,
// cross-tenant NOT_FOUND, images (from snapshot, clone, delete with and without flatten), the operator views
// (overview, pools, all volumes, targets) and the no-leak rule when the service refuses.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { GiB } from "@/db/validation/storage";
import { getStorage } from "@/server/storage/backend";
import { buildImage } from "@/server/storage/images";
import { withSampleImage } from "@/server/storage/sample-image";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, insertTenant, useFixtures, useTestStorage } from "@/test/fixtures";

const fx = useFixtures();
useTestStorage();

/** A public image uploaded "by bytes" (the upload route's path without HTTP). */
async function uploadedImage(name = uniq("img"), sizeGiB = 2) {
  const pool = (await getStorage().listLogicalPools()).items[0]!;
  return withSampleImage(3 * 1024 * 1024, async (build) =>
    buildImage({ db: fx.db, principal: fx.principals.operatorAdmin, requestId: "t" }, { name, os: "ubuntu", version: "24.04", visibility: "public" }, build, {
      sizeBytes: sizeGiB * GiB,
      logicalPoolId: pool.id,
    }),
  );
}

describe("volumes", () => {
  it("creates a blank volume on the service, lists it with usage, resizes up, refuses shrinking, deletes", async () => {
    const t = callerAs(fx, "tenantMember");
    const v = await t.volumes.create({ tenant: fx.tenant.slug, name: uniq("data"), sizeGiB: 10 });
    expect(v.state).toBe("available");
    const onService = await getStorage().getVolume(v.storageVolumeId!);
    expect(onService.sizeBytes).toBe(10 * GiB);
    const list = await t.volumes.list({ tenant: fx.tenant.slug });
    expect(list.items.map((i) => i.id)).toContain(v.id);
    const usage = await t.volumes.usage({ tenant: fx.tenant.slug });
    expect(usage.volumes.used).toBeGreaterThanOrEqual(1);
    expect(usage.volumeGiB.used).toBeGreaterThanOrEqual(10);

    const grown = await t.volumes.resize({ tenant: fx.tenant.slug, id: v.id, sizeGiB: 20 });
    expect(grown.sizeGiB).toBe(20);
    expect((await getStorage().getVolume(v.storageVolumeId!)).sizeBytes).toBe(20 * GiB);
    const shrink = await failure(t.volumes.resize({ tenant: fx.tenant.slug, id: v.id, sizeGiB: 5 }));
    expect(shrink.code).toBe("BAD_REQUEST");
    expect(shrink.message).toMatch(/only grow/);

    const renamed = await t.volumes.update({ tenant: fx.tenant.slug, id: v.id, name: `${v.name}-r`, description: "scratch" });
    expect(renamed).toMatchObject({ name: `${v.name}-r`, description: "scratch" });
    await t.volumes.delete({ tenant: fx.tenant.slug, id: v.id });
    expect(
      (
        await failure(
          getStorage()
            .getVolume(v.storageVolumeId!)
            .catch((e) => {
              throw new TRPCError({ code: "NOT_FOUND", message: e.message });
            }),
        )
      ).code,
    ).toBe("NOT_FOUND");
    const audits = await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, v.id));
    expect(audits.map((a) => a.action).sort()).toEqual(["volume.create", "volume.delete", "volume.resize", "volume.update"]);
  });

  it("clones a system disk from an image (thin), enforcing the image's minimum size", async () => {
    const img = await uploadedImage(uniq("img"), 4);
    const t = callerAs(fx, "tenantAdmin");
    const small = await failure(t.volumes.create({ tenant: fx.tenant.slug, name: uniq("sys"), sizeGiB: 2, imageId: img.id }));
    expect(small.code).toBe("BAD_REQUEST");
    expect(small.message).toMatch(/at least 4 GiB/);
    const v = await t.volumes.create({ tenant: fx.tenant.slug, name: uniq("sys"), sizeGiB: 8, imageId: img.id });
    expect(v.kind).toBe("system");
    const onService = await getStorage().getVolume(v.storageVolumeId!);
    expect(onService.sourceSnapshotId).toBe(img.storageSnapshotId);
    expect(onService.usedBytes).toBe(0); // thin: nothing copied
    expect(onService.referencedBytes).toBe(3 * 1024 * 1024);
  });

  it("refuses deleting an attached volume (and the DB allows one attachment unless multi-attach)", async () => {
    const t = callerAs(fx, "tenantMember");
    const v = await t.volumes.create({ tenant: fx.tenant.slug, name: uniq("att"), sizeGiB: 1 });
    await fx.db.insert(s.volumeAttachments).values({ volumeId: v.id, multiAttach: false });
    const second = await fx.db
      .insert(s.volumeAttachments)
      .values({ volumeId: v.id, multiAttach: false })
      .catch((e) => e);
    expect(String(second?.cause?.constraint ?? second?.constraint ?? second)).toMatch(/volume_attachments_single_uq/);
    const lying = await fx.db
      .insert(s.volumeAttachments)
      .values({ volumeId: v.id, multiAttach: true })
      .catch((e) => e);
    expect(lying).toBeInstanceOf(Error); // the composite FK keeps the copy of multi_attach honest
    const e = await failure(t.volumes.delete({ tenant: fx.tenant.slug, id: v.id }));
    expect(e.code).toBe("PRECONDITION_FAILED");
    expect(e.message).toMatch(/attached/);
    expect((await getStorage().getVolume(v.storageVolumeId!)).id).toBe(v.storageVolumeId);

    const shared = await t.volumes.create({ tenant: fx.tenant.slug, name: uniq("shared"), sizeGiB: 1, multiAttach: true });
    await fx.db.insert(s.volumeAttachments).values([
      { volumeId: shared.id, multiAttach: true },
      { volumeId: shared.id, multiAttach: true },
    ]);
    const list = await t.volumes.list({ tenant: fx.tenant.slug });
    expect(list.items.find((i) => i.id === shared.id)?.attachments).toBe(2);
    expect(list.items.find((i) => i.id === shared.id)?.deleteBlocker).toMatch(/attached/);
  });

  it("names duplicate volumes as a field error and rejects bad input naming the field", async () => {
    const t = callerAs(fx, "tenantMember");
    const name = uniq("dup");
    await t.volumes.create({ tenant: fx.tenant.slug, name, sizeGiB: 1 });
    const dup = await failure(t.volumes.create({ tenant: fx.tenant.slug, name: name.toUpperCase(), sizeGiB: 1 }));
    expect(dup.code).toBe("CONFLICT");
    expect(fieldOf(dup)).toBe("name");
    for (const bad of [
      { name: "has space", sizeGiB: 1 },
      { name: "ok", sizeGiB: 0 },
      { name: "ok", sizeGiB: 1.5 },
      { name: "ok", sizeGiB: 70000 },
    ]) {
      const e = await failure(t.volumes.create({ tenant: fx.tenant.slug, ...bad }));
      expect(e.code).toBe("BAD_REQUEST");
    }
  });

  it("hides other tenants' volumes, snapshots and private images (NOT_FOUND)", async () => {
    const mine = await callerAs(fx, "tenantMember").volumes.create({ tenant: fx.tenant.slug, name: uniq("mine"), sizeGiB: 1 });
    const snap = await callerAs(fx, "tenantMember").snapshots.create({ tenant: fx.tenant.slug, volumeId: mine.id, name: uniq("s") });
    const other = callerAs(fx, "otherTenantMember");
    const o = fx.otherTenant.slug;
    expect((await failure(other.volumes.get({ tenant: o, id: mine.id }))).code).toBe("NOT_FOUND");
    expect((await failure(other.volumes.delete({ tenant: o, id: mine.id }))).code).toBe("NOT_FOUND");
    expect((await failure(other.volumes.resize({ tenant: o, id: mine.id, sizeGiB: 9 }))).code).toBe("NOT_FOUND");
    expect((await failure(other.snapshots.create({ tenant: o, volumeId: mine.id, name: "x" }))).code).toBe("NOT_FOUND");
    expect((await failure(other.volumes.create({ tenant: o, name: uniq("steal"), sizeGiB: 1, snapshotId: snap.id }))).code).toBe("NOT_FOUND");
    expect((await failure(other.snapshots.delete({ tenant: o, id: snap.id }))).code).toBe("NOT_FOUND");
    const backup = await callerAs(fx, "tenantMember").snapshots.promote({ tenant: fx.tenant.slug, id: snap.id, name: uniq("bk"), os: "debian", version: "12" });
    expect((await failure(other.volumes.create({ tenant: o, name: uniq("steal"), sizeGiB: 1, imageId: backup.id }))).code).toBe("NOT_FOUND");
    const visible = await other.images.available({ tenant: o });
    expect(visible.items.map((i) => i.id)).not.toContain(backup.id);
    expect((await failure(callerAs(fx, "tenantMember").volumes.get({ tenant: o, id: mine.id }))).code).toBe("NOT_FOUND");
  });
});

describe("quotas", () => {
  it("refuses a create over the volume/GiB/snapshot quota with the quota message and writes nothing", async () => {
    const t = await insertTenant(fx.db, "quota", "Quota test");
    await fx.db.insert(s.memberships).values({ tenantId: t.id, userId: fx.principals.tenantMember.userId, role: "tenant-member" });
    await fx.db.insert(s.quotas).values({ tenantId: t.id, volumes: 2, volumeGiB: 15, snapshots: 1 });
    const c = callerAs(fx, "tenantMember");
    const a = await c.volumes.create({ tenant: t.slug, name: "a", sizeGiB: 10 });
    const gib = await failure(c.volumes.create({ tenant: t.slug, name: "b", sizeGiB: 6 }));
    expect(gib.code).toBe("PRECONDITION_FAILED");
    expect(gib.message).toMatch(/Quota exceeded: this would use 16 GiB of volumes but the tenant's quota is 15 GiB/);
    await c.volumes.create({ tenant: t.slug, name: "b", sizeGiB: 5 });
    const count = await failure(c.volumes.create({ tenant: t.slug, name: "c", sizeGiB: 1 }));
    expect(count.message).toMatch(/quota is 2 volumes/);
    const grow = await failure(c.volumes.resize({ tenant: t.slug, id: a.id, sizeGiB: 11 }));
    expect(grow.message).toMatch(/Quota exceeded/);
    await c.snapshots.create({ tenant: t.slug, volumeId: a.id, name: "s1" });
    const snap = await failure(c.snapshots.create({ tenant: t.slug, volumeId: a.id, name: "s2" }));
    expect(snap.message).toMatch(/quota is 1 snapshot/);
    const rows = await fx.db.select().from(s.volumes).where(eq(s.volumes.tenantId, t.id));
    expect(rows.map((r) => r.name).sort()).toEqual(["a", "b"]);
    expect(rows.find((r) => r.name === "a")?.sizeGiB).toBe(10);
    expect((await getStorage().getVolume(a.storageVolumeId!)).sizeBytes).toBe(10 * GiB);
    const usage = await c.volumes.usage({ tenant: t.slug });
    expect(usage).toEqual({ volumes: { used: 2, limit: 2 }, volumeGiB: { used: 15, limit: 15 }, snapshots: { used: 1, limit: 1 } });
  });

  it("does not leak a row when the service refuses (pool capacity) and reports the service's message", async () => {
    const c = callerAs(fx, "tenantAdmin");
    const name = uniq("huge");
    // Lift the tenant's GiB quota so the pool's capacity, not the quota, is what refuses.
    await fx.db
      .insert(s.quotas)
      .values({ tenantId: fx.tenant.id, volumeGiB: 1_000_000 })
      .onConflictDoUpdate({ target: s.quotas.tenantId, set: { volumeGiB: 1_000_000 } });
    const before = (await getStorage().listVolumes({ limit: 1000 })).items.length;
    // 4 nodes x 6 disks x 3.84 TB, 3 copies, overcommit 4: ~110 TiB provisionable; 65536 GiB x2 fits, so ask thrice.
    const big: string[] = [];
    let refused: TRPCError | undefined;
    for (let i = 0; i < 4 && !refused; i++) {
      try {
        big.push((await c.volumes.create({ tenant: fx.tenant.slug, name: `${name}-${i}`, sizeGiB: 65536 })).id);
      } catch (e) {
        refused = e as TRPCError;
      }
    }
    expect(refused?.code).toBe("PRECONDITION_FAILED");
    expect(refused?.message).toMatch(/Storage service refused the volume: logical pool default cannot provision/);
    expect((refused?.cause as { field?: string } | undefined)?.field).toBe("sizeGiB");
    const rows = await fx.db.select().from(s.volumes).where(eq(s.volumes.tenantId, fx.tenant.id));
    expect(rows.filter((r) => r.name.startsWith(name)).length).toBe(big.length);
    expect((await getStorage().listVolumes({ limit: 1000 })).items.length).toBe(before + big.length);
    for (const id of big) await c.volumes.delete({ tenant: fx.tenant.slug, id });
  });
});

describe("snapshots", () => {
  it("snapshots a volume, creates a volume from it, refuses deleting what clones depend on, then cleans up", async () => {
    const c = callerAs(fx, "tenantMember");
    const t = fx.tenant.slug;
    const v = await c.volumes.create({ tenant: t, name: uniq("src"), sizeGiB: 3 });
    const snap = await c.snapshots.create({ tenant: t, volumeId: v.id, name: uniq("snap") });
    expect(snap.state).toBe("available");
    expect((await getStorage().getSnapshot(snap.storageSnapshotId!)).volumeId).toBe(v.storageVolumeId);
    const tooSmall = await failure(c.volumes.create({ tenant: t, name: uniq("x"), sizeGiB: 2, snapshotId: snap.id }));
    expect(tooSmall.message).toMatch(/at least that big/);
    const clone = await c.volumes.create({ tenant: t, name: uniq("clone"), sizeGiB: 3, snapshotId: snap.id });
    expect((await getStorage().getVolume(clone.storageVolumeId!)).sourceSnapshotId).toBe(snap.storageSnapshotId);
    const listed = await c.snapshots.list({ tenant: t, volumeId: v.id });
    expect(listed.items[0]?.volumeCount).toBe(1);

    const delSnap = await failure(c.snapshots.delete({ tenant: t, id: snap.id }));
    expect(delSnap.code).toBe("PRECONDITION_FAILED");
    expect(delSnap.message).toContain(clone.name);
    const delVol = await failure(c.volumes.delete({ tenant: t, id: v.id }));
    expect(delVol.code).toBe("PRECONDITION_FAILED");
    expect(delVol.message).toContain(clone.name);

    await c.volumes.delete({ tenant: t, id: clone.id });
    await c.snapshots.delete({ tenant: t, id: snap.id });
    await c.volumes.delete({ tenant: t, id: v.id });
    expect(await fx.db.select().from(s.snapshots).where(eq(s.snapshots.id, snap.id))).toEqual([]);
  });

  it("promotes a snapshot to a private image that survives the volume and can boot new volumes", async () => {
    const c = callerAs(fx, "tenantMember");
    const t = fx.tenant.slug;
    const v = await c.volumes.create({ tenant: t, name: uniq("bk"), sizeGiB: 2 });
    const snap = await c.snapshots.create({ tenant: t, volumeId: v.id, name: uniq("bk") });
    const img = await c.snapshots.promote({ tenant: t, id: snap.id, name: uniq("backup"), os: "ubuntu", version: "22.04" });
    expect(img).toMatchObject({ visibility: "tenant", tenantId: fx.tenant.id, source: "snapshot", state: "available", minSizeGiB: 2 });
    expect((await getStorage().getVolume(img.storageVolumeId!)).sourceSnapshotId).toBeNull(); // flattened
    await c.snapshots.delete({ tenant: t, id: snap.id });
    await c.volumes.delete({ tenant: t, id: v.id });
    const restored = await c.volumes.create({ tenant: t, name: uniq("restored"), sizeGiB: 2, imageId: img.id });
    expect(restored.state).toBe("available");
    expect((await c.images.available({ tenant: t })).items.map((i) => i.id)).toContain(img.id);
  });
});

describe("images (operator)", () => {
  it("filters by OS, clones, and refuses delete while volumes depend unless flattening them", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const os = uniq("os");
    const pool = (await getStorage().listLogicalPools()).items[0]!;
    const img = await withSampleImage(1024 * 1024, async (build) =>
      buildImage({ db: fx.db, principal: fx.principals.operatorAdmin, requestId: "t" }, { name: uniq("img"), os, version: "1", visibility: "public" }, build, {
        sizeBytes: GiB,
        logicalPoolId: pool.id,
      }),
    );
    expect((await op.images.list({ os })).items.map((i) => i.id)).toEqual([img.id]);
    expect(await op.images.osList()).toContain(os);
    const copy = await op.images.clone({ id: img.id, name: uniq("copy"), visibility: "tenant", tenantId: fx.tenant.id });
    expect(copy).toMatchObject({ source: "clone", visibility: "tenant", os, state: "available" });
    expect((await op.images.list({ os })).items.length).toBe(2);
    expect((await callerAs(fx, "otherTenantMember").images.available({ tenant: fx.otherTenant.slug, os })).items.map((i) => i.id)).toEqual([img.id]);

    const v = await callerAs(fx, "tenantMember").volumes.create({ tenant: fx.tenant.slug, name: uniq("boot"), sizeGiB: 1, imageId: img.id });
    const refused = await failure(op.images.delete({ id: img.id }));
    expect(refused.code).toBe("PRECONDITION_FAILED");
    expect(refused.message).toContain(v.name);
    expect((await op.images.get({ id: img.id })).dependents.map((d) => d.id)).toEqual([v.id]);
    const done = await op.images.delete({ id: img.id, flatten: true });
    expect(done.flattened).toBe(1);
    const sv = await getStorage().getVolume(v.storageVolumeId!);
    expect(sv.sourceSnapshotId).toBeNull();
    expect(sv.usedBytes).toBe(1024 * 1024); // the image's data was copied in
    expect((await failure(op.images.get({ id: img.id }))).code).toBe("NOT_FOUND");
    const ownDelete = await callerAs(fx, "tenantMember").images.deleteOwn({ tenant: fx.tenant.slug, id: copy.id });
    expect(ownDelete.id).toBe(copy.id);
  });

  it("validates image metadata: min size below the image, tenant visibility without a tenant, duplicate names", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const c = callerAs(fx, "tenantMember");
    const v = await c.volumes.create({ tenant: fx.tenant.slug, name: uniq("m"), sizeGiB: 4 });
    const snap = await c.snapshots.create({ tenant: fx.tenant.slug, volumeId: v.id, name: uniq("m") });
    const base = { snapshotId: snap.id, name: uniq("meta"), os: "rocky", version: "9" };
    const min = await failure(op.images.createFromSnapshot({ ...base, minSizeGiB: 2 }));
    expect(fieldOf(min)).toBe("minSizeGiB");
    const vis = await failure(op.images.createFromSnapshot({ ...base, visibility: "tenant" }));
    expect(fieldOf(vis)).toBe("tenantId");
    const ok = await op.images.createFromSnapshot(base);
    expect(ok).toMatchObject({ source: "snapshot", minSizeGiB: 4, visibility: "public" });
    const dup = await failure(op.images.createFromSnapshot(base));
    expect(dup.code).toBe("CONFLICT");
    expect((await fx.db.select().from(s.images).where(eq(s.images.name, base.name))).length).toBe(1);
    const volumesBefore = (await getStorage().listVolumes({ limit: 1000 })).items.length;
    expect((await failure(op.images.createFromSnapshot({ ...base, name: uniq("meta"), snapshotId: crypto.randomUUID() }))).code).toBe("NOT_FOUND");
    expect((await getStorage().listVolumes({ limit: 1000 })).items.length).toBe(volumesBefore);
  });
});

describe("storage (operator)", () => {
  it("shows capacity by pool, nodes and disks; creates, edits and deletes pools; refuses deleting pools in use", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const ov = await op.storage.overview();
    expect(ov.nodes.length).toBe(4);
    expect(ov.nodes[0]!.disks.length).toBe(6);
    expect(ov.logicalPools[0]!.name).toBe("default");
    expect(ov.totals.provisionedBytes).toBeGreaterThan(0);

    const inUse = await failure(op.storage.deleteLogicalPool({ id: ov.logicalPools[0]!.id }));
    expect(inUse.code).toBe("PRECONDITION_FAILED");
    expect(inUse.message).toMatch(/still holds \d+ volume/);
    const dpInUse = await failure(op.storage.deleteDiskPool({ id: ov.diskPools[0]!.id }));
    expect(dpInUse.message).toMatch(/used by logical pool/);

    const ec = await failure(
      op.storage.createLogicalPool({
        name: uniq("ec"),
        diskPoolId: ov.diskPools[0]!.id,
        redundancy: { type: "ec", data: 4, parity: 2 },
        thinProvisioned: false,
        overcommitRatio: 2,
      }),
    );
    expect(fieldOf(ec)).toBe("overcommitRatio");
    const badCopies = await failure(
      op.storage.createLogicalPool({ name: uniq("r"), diskPoolId: ov.diskPools[0]!.id, redundancy: { type: "replica", copies: 4 } }),
    );
    expect(badCopies.code).toBe("BAD_REQUEST");
    const lp = await op.storage.createLogicalPool({
      name: uniq("ec"),
      diskPoolId: ov.diskPools[0]!.id,
      redundancy: { type: "ec", data: 4, parity: 2 },
      overcommitRatio: 2,
    });
    expect(lp.redundancy).toEqual({ type: "ec", data: 4, parity: 2 });
    expect((await op.storage.updateLogicalPool({ id: lp.id, overcommitRatio: 3 })).overcommitRatio).toBe(3);
    await op.storage.deleteLogicalPool({ id: lp.id });
    const dup = await failure(op.storage.createDiskPool({ name: "default", diskIds: [ov.disks[0]!.id] }));
    expect(dup.code).toBe("CONFLICT");
    expect((await failure(callerAs(fx, "operatorViewer").storage.deleteLogicalPool({ id: lp.id }))).code).toBe("FORBIDDEN");
  });

  it("lists every tenant's volumes with filters, and a volume's targets and attachments", async () => {
    const op = callerAs(fx, "operatorViewer");
    const v = await callerAs(fx, "otherTenantMember").volumes.create({ tenant: fx.otherTenant.slug, name: uniq("ops"), sizeGiB: 1 });
    await getStorage().createTarget({ volumeId: v.storageVolumeId!, protocol: "nvme-tcp", initiator: "nqn.2014-08.org.nvmexpress:uuid:host-1" });
    await fx.db.insert(s.volumeAttachments).values({ volumeId: v.id, multiAttach: false });
    const byTenant = await op.storage.volumes({ tenant: fx.otherTenant.slug });
    expect(byTenant.items.map((i) => i.id)).toEqual([v.id]);
    expect((await op.storage.volumes({ tenant: fx.otherTenant.slug, attached: false })).items).toEqual([]);
    expect((await op.storage.volumes({ attached: true, q: v.name })).items[0]?.tenantSlug).toBe(fx.otherTenant.slug);
    const detail = await op.storage.volume({ id: v.id });
    expect(detail.targets[0]?.nqn).toMatch(/^nqn\./);
    expect(detail.targets[0]?.initiator).toBe("nqn.2014-08.org.nvmexpress:uuid:host-1");
    expect(detail.attachments.length).toBe(1);
    expect(detail.service?.status).toBe("exported");
    const snap = await callerAs(fx, "otherTenantMember").snapshots.create({ tenant: fx.otherTenant.slug, volumeId: v.id, name: uniq("ops") });
    const snaps = await op.storage.snapshots({ tenant: fx.otherTenant.slug });
    expect(snaps.items.map((x) => [x.id, x.tenantSlug, x.volumeName])).toEqual([[snap.id, fx.otherTenant.slug, v.name]]);
    const targets = await op.storage.targets({});
    expect(targets.find((t) => t.volumeId === v.storageVolumeId)?.volume?.name).toBe(v.name);
  });

  it("says how to configure storage when none is set", async () => {
    const url = process.env.ANVIL_STORAGE_URL;
    delete process.env.ANVIL_STORAGE_URL;
    try {
      const e = await failure(callerAs(fx, "operatorViewer").storage.overview());
      expect(e.code).toBe("PRECONDITION_FAILED");
      expect(e.message).toMatch(/No storage service is configured: set ANVIL_STORAGE_URL/);
    } finally {
      process.env.ANVIL_STORAGE_URL = url;
    }
  });
});

describe("reconcile after a crash mid-create", () => {
  it("completes rows whose service object exists, removes the others, and finishes interrupted deletes", async () => {
    const { reconcileStorage } = await import("@/server/storage/reconcile");
    const storage = getStorage();
    const pool = (await storage.listLogicalPools()).items[0]!.id;
    const old = new Date(Date.now() - 60 * 60_000);
    // Landed on the service, BFF died before marking it available.
    const landedId = crypto.randomUUID();
    const landed = await storage.createVolume({ name: `vol-${landedId}`, logicalPoolId: pool, sizeBytes: GiB }, { idempotencyKey: landedId });
    // Never reached the service.
    const lostId = crypto.randomUUID();
    // Delete interrupted after marking "deleting".
    const dyingId = crypto.randomUUID();
    const dying = await storage.createVolume({ name: `vol-${dyingId}`, logicalPoolId: pool, sizeBytes: GiB });
    const base = { tenantId: fx.tenant.id, sizeGiB: 1, logicalPoolId: pool, updatedAt: old };
    await fx.db.insert(s.volumes).values([
      { ...base, id: landedId, name: uniq("landed"), state: "creating" },
      { ...base, id: lostId, name: uniq("lost"), state: "creating" },
      { ...base, id: dyingId, name: uniq("dying"), state: "deleting", storageVolumeId: dying.id },
      { ...base, id: crypto.randomUUID(), name: uniq("fresh"), state: "creating", updatedAt: new Date() },
    ]);
    const report = await reconcileStorage(fx.db, { olderThanMs: 60_000 });
    expect(report).toMatchObject({ volumesCompleted: 1, volumesRemoved: 1, deletesFinished: 1 });
    const [l] = await fx.db.select().from(s.volumes).where(eq(s.volumes.id, landedId));
    expect(l).toMatchObject({ state: "available", storageVolumeId: landed.id });
    expect(await fx.db.select().from(s.volumes).where(eq(s.volumes.id, lostId))).toEqual([]);
    expect(await fx.db.select().from(s.volumes).where(eq(s.volumes.id, dyingId))).toEqual([]);
    expect((await storage.listVolumes({ name: `vol-${dyingId}` })).items).toEqual([]);
    // The in-flight one (fresh) is left alone.
    expect((await fx.db.select().from(s.volumes).where(eq(s.volumes.state, "creating"))).length).toBe(1);
  });
});
