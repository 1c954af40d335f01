// The Ceph RBD StorageClient against a real single-node Ceph (test/ceph-lab.ts): pools with real capacity, volumes,
// snapshots and O(1) clones, the HTTP service's error shapes, idempotent creates, per-target cephx identities that
// open their own image and nothing else, and the data plane (raw and qcow2 in, the same bytes out).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useCeph } from "@/test/ceph-lab";
import { createCephStorageClient } from "./ceph";
import { isStorageError, type StorageError } from "./client";

const run = promisify(execFile);
const MiB = 2 ** 20;
const fx = useCeph("driver");

async function failure(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    if (isStorageError(e)) return e;
    throw e;
  }
  throw new Error("expected a StorageError, the call succeeded");
}

/** qemu-img info on an RBD image as a given cephx identity, inside the lab's netns: exit code and output. */
async function openAs(user: string, keyring: string, image: string): Promise<{ ok: boolean; out: string }> {
  const uri = `rbd:${image}:id=${user}:keyring=${keyring}:mon_host=${fx.lab.monAddr.replace(/:/g, "\\:")}:conf=/dev/null`;
  try {
    const { stdout } = await run("nsenter", [`--net=${fx.lab.netns}`, "qemu-img", "info", "--output=json", uri], { timeout: 30_000 });
    return { ok: true, out: stdout };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: string }).stderr ?? e) };
  }
}
/** A write of 64 KiB through librbd as a given identity (rbd bench). */
async function writeAs(user: string, keyring: string, image: string): Promise<boolean> {
  try {
    await run(
      "nsenter",
      [
        `--net=${fx.lab.netns}`,
        "rbd",
        "-c",
        "/dev/null",
        "-m",
        fx.lab.monAddr,
        "--id",
        user,
        "--keyring",
        keyring,
        "--client-mount-timeout",
        "10",
        "bench",
        "--io-type",
        "write",
        "--io-size",
        "4096",
        "--io-total",
        "65536",
        image,
      ],
      { timeout: 30_000 },
    );
    return true;
  } catch {
    return false;
  }
}
async function readAll(id: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await fx.storage.readVolumeData(id)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

// Every case runs several `rbd`/`ceph`/`qemu-img` processes against the real cluster: about 20 s on a quiet machine,
// 30 s and more while the real-lab lane boots its guests beside this one (CI's main lane), hence the longer limit.
describe("Ceph RBD storage client", { timeout: 120_000 }, () => {
  it("shows the cluster as nodes, disks, one disk pool and RBD pools with real capacity; disk pools are Ceph's", async () => {
    const s = fx.storage;
    const nodes = (await s.listNodes()).items;
    expect(nodes).toHaveLength(1);
    const disks = (await s.listDisks()).items;
    expect(disks.map((d) => d.id)).toEqual(["osd.0"]);
    expect(disks[0]).toMatchObject({ nodeId: nodes[0].id, health: "ok", diskPoolId: fx.diskPoolId });
    const dp = await s.getDiskPool(fx.diskPoolId);
    expect(dp.capacityBytes).toBe(4 * 2 ** 30);
    expect(dp.logicalPoolIds).toContain(fx.poolId);
    const lp = await s.getLogicalPool(fx.poolId);
    expect(lp.redundancy).toEqual({ type: "replica", copies: 1 });
    expect(lp.usableBytes).toBeGreaterThan(2 ** 30);
    expect(lp.usableBytes).toBeLessThanOrEqual(4 * 2 ** 30);
    const refused = await failure(s.createDiskPool({ name: "x", diskIds: ["osd.0"] }));
    expect(refused).toMatchObject({ status: 400, code: "not_supported" });
    expect(refused.message).toMatch(/Ceph manages its devices itself/);
    expect((await failure(s.deleteDiskPool(fx.diskPoolId))).status).toBe(400);
    expect(await failure(s.createLogicalPool({ name: fx.poolId, diskPoolId: fx.diskPoolId, redundancy: { type: "replica", copies: 1 } }))).toMatchObject({
      status: 409,
      code: "name_taken",
    });
    expect(await failure(s.createLogicalPool({ name: "three", diskPoolId: fx.diskPoolId, redundancy: { type: "replica", copies: 3 } }))).toMatchObject({
      status: 400,
      field: "redundancy.copies",
    });
    expect((await failure(s.getLogicalPool("nope"))).status).toBe(404);
  });

  it("creates, gets, lists, grows and deletes a volume; a repeated create with the same key returns the same volume", async () => {
    const s = fx.storage;
    const v = await s.createVolume({ name: "vol-a", logicalPoolId: fx.poolId, sizeBytes: 64 * MiB, namespace: "tenant-t1" }, { idempotencyKey: "k-a" });
    expect(v).toMatchObject({ id: `${fx.poolId}/tenant-t1/vol-a`, name: "vol-a", sizeBytes: 64 * MiB, sourceSnapshotId: null, status: "available" });
    const again = await s.createVolume({ name: "vol-a", logicalPoolId: fx.poolId, sizeBytes: 64 * MiB, namespace: "tenant-t1" }, { idempotencyKey: "k-a" });
    expect(again.id).toBe(v.id);
    expect(again.createdAt).toBe(v.createdAt);
    const dup = await failure(
      s.createVolume({ name: "vol-a", logicalPoolId: fx.poolId, sizeBytes: 64 * MiB, namespace: "tenant-t1" }, { idempotencyKey: "other" }),
    );
    expect(dup).toMatchObject({ status: 409, code: "name_taken", field: "name" });
    expect((await s.getVolume(v.id)).sizeBytes).toBe(64 * MiB);
    expect((await s.listVolumes({ name: "vol-a" })).items.map((x) => x.id)).toEqual([v.id]);
    expect((await s.listVolumes({ logicalPoolId: fx.poolId })).items.map((x) => x.id)).toContain(v.id);
    expect((await s.resizeVolume(v.id, 128 * MiB)).sizeBytes).toBe(128 * MiB);
    const shrink = await failure(s.resizeVolume(v.id, 32 * MiB));
    expect(shrink).toMatchObject({ status: 400, code: "shrink_not_supported" });
    expect((await s.getVolume(v.id)).sizeBytes).toBe(128 * MiB);
    expect(await failure(s.getVolume(`${fx.poolId}/tenant-t1/missing`))).toMatchObject({ status: 404, code: "not_found" });
    expect(await failure(s.getVolume("not an id"))).toMatchObject({ status: 404, code: "not_found" });
    expect(await failure(s.createVolume({ name: "bad/name", logicalPoolId: fx.poolId, sizeBytes: MiB }))).toMatchObject({ status: 400, field: "name" });
    expect(await failure(s.createVolume({ name: "ok", logicalPoolId: "nopool", sizeBytes: MiB }))).toMatchObject({ status: 404, field: "logicalPoolId" });
    expect((await s.listVolumes({ name: "ok" })).items).toEqual([]);
    await s.deleteVolume(v.id);
    expect((await failure(s.getVolume(v.id))).status).toBe(404);
    expect((await failure(s.deleteVolume(v.id))).status).toBe(404);
  });

  it("clones a snapshot as a child; the parent and snapshot cannot go while it depends on them; flatten frees them", async () => {
    const s = fx.storage;
    const gold = await s.createVolume({ name: "img-1", logicalPoolId: fx.poolId, sizeBytes: 32 * MiB, namespace: "images" });
    const snap = await s.createSnapshot({ volumeId: gold.id, name: "golden" }, { idempotencyKey: "g1" });
    expect(snap).toMatchObject({ id: `${gold.id}@golden`, volumeId: gold.id, cloneCount: 0, sizeBytes: 32 * MiB });
    expect((await s.createSnapshot({ volumeId: gold.id, name: "golden" }, { idempotencyKey: "g1" })).id).toBe(snap.id);
    expect(await failure(s.createSnapshot({ volumeId: gold.id, name: "golden" }))).toMatchObject({ status: 409, code: "name_taken" });
    const c = await s.cloneVolume({ name: "sys-1", sourceSnapshotId: snap.id, sizeBytes: 64 * MiB, namespace: "tenant-t2" }, { idempotencyKey: "c1" });
    expect(c).toMatchObject({ id: `${fx.poolId}/tenant-t2/sys-1`, sourceSnapshotId: snap.id, sizeBytes: 64 * MiB });
    expect((await s.cloneVolume({ name: "sys-1", sourceSnapshotId: snap.id, namespace: "tenant-t2" }, { idempotencyKey: "c1" })).id).toBe(c.id);
    expect((await s.getSnapshot(snap.id)).cloneCount).toBe(1);
    expect((await s.listVolumes({ sourceSnapshotId: snap.id })).items.map((v) => v.id)).toEqual([c.id]);
    expect(await failure(s.cloneVolume({ name: "small", sourceSnapshotId: snap.id, sizeBytes: MiB }))).toMatchObject({
      status: 400,
      code: "shrink_not_supported",
    });
    expect(await failure(s.cloneVolume({ name: "x", sourceSnapshotId: `${gold.id}@nosnap` }))).toMatchObject({ status: 404, field: "sourceSnapshotId" });

    const blocked = await failure(s.deleteVolume(gold.id));
    expect(blocked).toMatchObject({ status: 409, code: "has_dependent_clones" });
    expect(blocked.message).toMatch(/1 clone/);
    expect(await failure(s.deleteSnapshot(snap.id))).toMatchObject({ status: 409, code: "has_dependent_clones" });
    expect((await s.getVolume(gold.id)).snapshotCount).toBe(1);

    const flat = await s.flattenVolume(c.id);
    expect(flat.sourceSnapshotId).toBeNull();
    expect((await s.getSnapshot(snap.id)).cloneCount).toBe(0);
    await s.deleteSnapshot(snap.id);
    expect((await failure(s.getSnapshot(snap.id))).status).toBe(404);
    await s.deleteVolume(gold.id);
    await s.deleteVolume(c.id);
  });

  it("finishes a keyed create or clone that died before labelling its image (a killed BFF); a foreign image of that name stays refused", async () => {
    const s = fx.storage;
    const rbdAdmin = (args: string[]) =>
      run("nsenter", [`--net=${fx.lab.netns}`, "rbd", "-c", "/dev/null", "-m", fx.lab.monAddr, "--id", "admin", "--keyring", fx.lab.adminKeyring, ...args], {
        timeout: 60_000,
      });
    const gold = await s.createVolume({ name: "img-crash", logicalPoolId: fx.poolId, sizeBytes: 16 * MiB, namespace: "images" });
    const snap = await s.createSnapshot({ volumeId: gold.id, name: "golden" });
    // What a caller killed right after `rbd clone` leaves: the clone, without Anvil's metadata.
    await s.cloneVolume({ name: "warmup", sourceSnapshotId: snap.id, namespace: "tenant-crash" }); // creates the namespace, protects the snapshot
    await rbdAdmin(["clone", "--rbd-default-clone-format", "2", `${fx.poolId}/images/img-crash@golden`, `${fx.poolId}/tenant-crash/sys-crash`]);
    const c = await s.cloneVolume(
      { name: "sys-crash", sourceSnapshotId: snap.id, sizeBytes: 32 * MiB, namespace: "tenant-crash" },
      { idempotencyKey: "k-crash" },
    );
    expect(c).toMatchObject({ id: `${fx.poolId}/tenant-crash/sys-crash`, sourceSnapshotId: snap.id, sizeBytes: 32 * MiB });
    expect((await s.cloneVolume({ name: "sys-crash", sourceSnapshotId: snap.id, namespace: "tenant-crash" }, { idempotencyKey: "k-crash" })).id).toBe(c.id);
    // The same for a plain create killed after `rbd create`.
    await rbdAdmin(["create", "--size", `${8 * MiB}B`, `${fx.poolId}/tenant-crash/data-crash`]);
    const d = await s.createVolume(
      { name: "data-crash", logicalPoolId: fx.poolId, sizeBytes: 8 * MiB, namespace: "tenant-crash" },
      { idempotencyKey: "k-data" },
    );
    expect(d).toMatchObject({ id: `${fx.poolId}/tenant-crash/data-crash`, sizeBytes: 8 * MiB });
    // Not ours: an unlabelled image of another size, or one a keyed create labelled with another key.
    await rbdAdmin(["create", "--size", `${4 * MiB}B`, `${fx.poolId}/tenant-crash/other`]);
    expect(
      await failure(s.createVolume({ name: "other", logicalPoolId: fx.poolId, sizeBytes: 8 * MiB, namespace: "tenant-crash" }, { idempotencyKey: "k-o" })),
    ).toMatchObject({
      status: 409,
      code: "name_taken",
    });
    expect(
      await failure(
        s.createVolume({ name: "data-crash", logicalPoolId: fx.poolId, sizeBytes: 8 * MiB, namespace: "tenant-crash" }, { idempotencyKey: "k-else" }),
      ),
    ).toMatchObject({
      status: 409,
      code: "name_taken",
    });
    for (const id of [c.id, d.id, `${fx.poolId}/tenant-crash/other`, `${fx.poolId}/tenant-crash/warmup`]) await s.deleteVolume(id);
  });

  it("gives each target its own cephx identity that opens its image and not another tenant's; the key is only in targetSecret", async () => {
    const s = fx.storage;
    const gold = await s.createVolume({ name: "img-iso", logicalPoolId: fx.poolId, sizeBytes: 16 * MiB, namespace: "images" });
    const snap = await s.createSnapshot({ volumeId: gold.id, name: "golden" });
    const a = await s.cloneVolume({ name: "sys-a", sourceSnapshotId: snap.id, namespace: "tenant-a" });
    const b = await s.cloneVolume({ name: "sys-b", sourceSnapshotId: snap.id, namespace: "tenant-b" });
    expect(await failure(s.createTarget({ volumeId: a.id, protocol: "nvme-tcp", initiator: "dpu-1" }))).toMatchObject({ status: 400, field: "protocol" });
    const t = await s.createTarget({ volumeId: a.id, protocol: "rbd", initiator: "dpu-1" });
    expect(t).toMatchObject({ volumeId: a.id, protocol: "rbd", initiator: "dpu-1", rbd: { pool: fx.poolId, namespace: "tenant-a", image: "sys-a" } });
    expect((await s.createTarget({ volumeId: a.id, protocol: "rbd", initiator: "dpu-1" })).id).toBe(t.id);
    expect((await s.getVolume(a.id)).status).toBe("exported");
    expect((await s.listTargets({ volumeId: a.id })).items.map((x) => x.id)).toEqual([t.id]);
    expect((await s.listTargets()).items.map((x) => x.id)).toEqual([t.id]);

    const secret = await s.targetSecret(t.id);
    expect(secret.user).toBe(t.rbd!.user);
    expect(secret.key).toMatch(/^[A-Za-z0-9+/]{38}==$/);
    expect(JSON.stringify(await s.listTargets())).not.toContain(secret.key);
    expect(JSON.stringify(await s.getTarget(t.id))).not.toContain(secret.key);

    const keyring = path.join(fx.dir, "target-a.keyring");
    fs.writeFileSync(keyring, `[client.${secret.user}]\n\tkey = ${secret.key}\n`, { mode: 0o600 });
    const own = await openAs(secret.user, keyring, `${fx.poolId}/tenant-a/sys-a`);
    expect(own.ok, own.out).toBe(true);
    expect(JSON.parse(own.out)["virtual-size"]).toBe(16 * MiB);
    expect(await writeAs(secret.user, keyring, `${fx.poolId}/tenant-a/sys-a`)).toBe(true);
    // Another tenant's clone of the same golden image, and the golden image itself for writing: refused.
    const other = await openAs(secret.user, keyring, `${fx.poolId}/tenant-b/sys-b`);
    expect(other.ok).toBe(false);
    expect(other.out).toMatch(/not permitted/i);
    expect(await writeAs(secret.user, keyring, `${fx.poolId}/tenant-b/sys-b`)).toBe(false);
    expect(await writeAs(secret.user, keyring, `${fx.poolId}/images/img-iso`)).toBe(false);
    // Admin still sees the positive case is not a fluke: the same check as admin opens tenant b's image.
    expect((await openAs("admin", fx.lab.adminKeyring, `${fx.poolId}/tenant-b/sys-b`)).ok).toBe(true);

    expect(await failure(s.deleteVolume(a.id))).toMatchObject({ status: 409, code: "volume_exported" });
    await s.deleteTarget(t.id);
    expect((await failure(s.getTarget(t.id))).status).toBe(404);
    expect((await openAs(secret.user, keyring, `${fx.poolId}/tenant-a/sys-a`)).ok).toBe(false);
    expect((await s.getVolume(a.id)).status).toBe("available");
    await s.deleteVolume(a.id);
    await s.deleteVolume(b.id);
    await s.deleteSnapshot(snap.id);
    await s.deleteVolume(gold.id);
  });

  it("writes a raw and a qcow2 file into volumes and reads the same bytes back, also through a clone of a snapshot", async () => {
    const s = fx.storage;
    const raw = path.join(fx.dir, "disk.raw");
    const bytes = Buffer.alloc(8 * MiB);
    for (let i = 0; i < bytes.length; i += 4096) bytes.write(`block ${i / 4096} of the test disk`, i);
    fs.writeFileSync(raw, bytes);
    const qcow = path.join(fx.dir, "disk.qcow2");
    await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow]);
    expect(fs.statSync(qcow).size).not.toBe(bytes.length);

    const vr = await s.createVolume({ name: "data-raw", logicalPoolId: fx.poolId, sizeBytes: 8 * MiB, namespace: "images" });
    await s.writeVolumeData(vr.id, { path: raw, format: "raw" });
    expect(sha(await readAll(vr.id))).toBe(sha(bytes));

    const vq = await s.createVolume({ name: "data-qcow", logicalPoolId: fx.poolId, sizeBytes: 8 * MiB, namespace: "images" });
    const written = await s.writeVolumeData(vq.id, { path: qcow, format: "qcow2" });
    expect(written.usedBytes).toBeGreaterThan(0);
    expect(sha(await readAll(vq.id))).toBe(sha(bytes));

    const snap = await s.createSnapshot({ volumeId: vq.id, name: "golden" });
    expect((await s.getVolume(vq.id)).usedBytes).toBe(written.usedBytes);
    const c = await s.cloneVolume({ name: "from-qcow", sourceSnapshotId: snap.id, namespace: "tenant-c" });
    expect(sha(await readAll(c.id))).toBe(sha(bytes));

    const small = await s.createVolume({ name: "too-small", logicalPoolId: fx.poolId, sizeBytes: 4 * MiB, namespace: "images" });
    expect(await failure(s.writeVolumeData(small.id, { path: raw, format: "raw" }))).toMatchObject({ status: 400, code: "too_large" });
    expect(await failure(s.writeVolumeData(small.id, { path: raw, format: "vmdk" as "raw" }))).toMatchObject({ status: 400, field: "format" });
    expect(await failure(s.readVolumeData(`${fx.poolId}/images/absent`))).toMatchObject({ status: 404 });
  });

  it("says which monitor it cannot reach, with status 0", async () => {
    const dead = createCephStorageClient({ ...fx.cfg, mon: "127.0.0.1:1", timeoutMs: 6_000 });
    const e = await failure(dead.listLogicalPools());
    expect(e).toMatchObject({ status: 0, code: "network_error" });
    expect(e.message).toContain("127.0.0.1:1");
  });
});
