// Image upload handler against the lab storage service: qcow2 detected by magic bytes and checked by qemu-img
// (virtual size from it; backing files refused), raw accepted only when declared and sector-aligned, other
// formats refused with the fix, size cap, operator-admin only; the bytes land on the image's storage volume and
// read back identical (a clone of the golden snapshot too), with the file's SHA-256 stored and returned; an
// expected checksum that does not match stores nothing.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { images } from "@/db/schema";
import { GiB } from "@/db/validation/storage";
import { uniq } from "@/test/db";
import { type Fixtures, useFixtures, useTestStorage } from "@/test/fixtures";
import { getStorage } from "./backend";
import { inspectImageHeader, makeQcow2 } from "./image-file";
import { handleImageUpload } from "./upload";

const fx = useFixtures();
useTestStorage();
const dir = mkdtempSync(path.join(tmpdir(), "anvil-upload-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function upload(body: Buffer, q: Record<string, string>, who: keyof Fixtures["principals"] = "operatorAdmin") {
  const req = new Request(`http://anvil.test/api/images/upload?${new URLSearchParams(q)}`, {
    method: "POST",
    body: new Uint8Array(body),
    headers: { "content-length": String(body.length) },
  });
  return handleImageUpload(req, { db: fx.db, principal: fx.principals[who], requestId: "upload-test" });
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A real qcow2 made by qemu-img from `data` (raw), grown to `virtualBytes` when given. */
function qcow2Of(data: Buffer, virtualBytes?: number): Buffer {
  const raw = path.join(dir, `${uniq("d")}.raw`);
  const out = path.join(dir, `${uniq("d")}.qcow2`);
  writeFileSync(raw, data);
  execFileSync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, out]);
  if (virtualBytes) execFileSync("qemu-img", ["resize", "-q", "-f", "qcow2", out, String(virtualBytes)]);
  return readFileSync(out);
}

/** The first `n` bytes of a volume's data (the rest is zeros, proven in the storage service's own tests). */
async function head(stream: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  for await (const c of stream) {
    parts.push(c as Buffer);
    got += (c as Buffer).length;
    if (got >= n) break;
  }
  stream.destroy();
  return Buffer.concat(parts).subarray(0, n);
}

describe("image upload", () => {
  it("accepts a qcow2 made by qemu-img, sizes the volume from it, writes its bytes and returns the file's SHA-256", async () => {
    const disk = randomBytes(1024 * 1024);
    const file = qcow2Of(disk, GiB + 512);
    const res = await upload(file, { name: uniq("ubuntu"), os: "ubuntu", version: "24.04" });
    expect(res.status).toBe(201);
    const img = await res.json();
    expect(img).toMatchObject({ format: "qcow2", sizeBytes: 2 * GiB, minSizeGiB: 2, state: "available", source: "upload", checksumSha256: sha(file) });
    const storage = getStorage();
    const vol = await storage.getVolume(img.storageVolumeId);
    expect(vol.sizeBytes).toBe(2 * GiB);
    expect(vol.usedBytes).toBe(disk.length);
    expect(sha(await head(await storage.readVolumeData(img.storageVolumeId), disk.length))).toBe(sha(disk));
    const golden = await storage.getSnapshot(img.storageSnapshotId);
    expect(golden.dataBytes).toBe(disk.length);
    const clone = await storage.cloneVolume({ name: uniq("boot"), sourceSnapshotId: img.storageSnapshotId });
    expect(sha(await head(await storage.readVolumeData(clone.id), disk.length))).toBe(sha(disk));
    await storage.deleteVolume(clone.id);
  });

  it("refuses a file whose SHA-256 is not the one expected, and stores nothing", async () => {
    const disk = Buffer.alloc(8192, 9);
    const name = uniq("sum");
    const volumesBefore = (await getStorage().listVolumes({ limit: 1000 })).items.length;
    const bad = await upload(disk, { name, os: "debian", version: "12", format: "raw", sha256: "0".repeat(64) });
    expect(bad.status).toBe(400);
    const body = await bad.json();
    expect(body.error.fieldErrors.sha256[0]).toMatch(new RegExp(`SHA-256 is ${sha(disk)}, not the 0{64} you expected`));
    expect(await fx.db.select().from(images).where(eq(images.name, name))).toEqual([]);
    expect((await getStorage().listVolumes({ limit: 1000 })).items.length).toBe(volumesBefore);
    const notHex = await upload(disk, { name, os: "debian", version: "12", format: "raw", sha256: "xyz" });
    expect((await notHex.json()).error.fieldErrors.sha256[0]).toMatch(/64 hexadecimal digits/);
    const good = await upload(disk, { name, os: "debian", version: "12", format: "raw", sha256: sha(disk).toUpperCase() });
    expect(good.status).toBe(201);
    expect((await good.json()).checksumSha256).toBe(sha(disk));
  });

  it("refuses a qcow2 that qemu-img does not accept or that names a backing file", async () => {
    const fake = await upload(makeQcow2(GiB, 4096), { name: uniq("x"), os: "x", version: "1" });
    expect(fake.status).toBe(400);
    expect((await fake.json()).error.fieldErrors.file[0]).toMatch(/not a valid qcow2 image/);
    const base = path.join(dir, "base.qcow2");
    const overlay = path.join(dir, "overlay.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "1M"]);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay]);
    const backed = await upload(readFileSync(overlay), { name: uniq("x"), os: "x", version: "1" });
    expect((await backed.json()).error.fieldErrors.file[0]).toMatch(/backing file/);
  });

  it("refuses files that are not what they claim, with the reason", async () => {
    const notQcow = await upload(Buffer.alloc(1024, 1), { name: uniq("x"), os: "x", version: "1", format: "qcow2" });
    expect(notQcow.status).toBe(400);
    expect((await notQcow.json()).error.message).toMatch(/not a qcow2 image/);
    const undeclared = await upload(Buffer.alloc(1024, 1), { name: uniq("x"), os: "x", version: "1" });
    expect((await undeclared.json()).error.message).toMatch(/choose the raw format/);
    const odd = await upload(Buffer.alloc(1000, 1), { name: uniq("x"), os: "x", version: "1", format: "raw" });
    expect((await odd.json()).error.message).toMatch(/512-byte sectors/);
    const vmdk = await upload(Buffer.concat([Buffer.from("KDMV"), Buffer.alloc(508)]), { name: uniq("x"), os: "x", version: "1", format: "raw" });
    expect((await vmdk.json()).error.message).toMatch(/VMDK image; convert it/);
    const empty = await upload(Buffer.alloc(0), { name: uniq("x"), os: "x", version: "1", format: "raw" });
    expect(empty.status).toBe(400);
    const badMeta = await upload(qcow2Of(Buffer.alloc(512)), { name: "no spaces allowed", os: "x", version: "1" });
    expect(badMeta.status).toBe(400);
    expect((await badMeta.json()).error.fieldErrors.name).toBeDefined();
    const small = await upload(qcow2Of(Buffer.alloc(512), 2 * GiB), { name: uniq("x"), os: "x", version: "1", minSizeGiB: "1" });
    expect((await small.json()).error.fieldErrors.minSizeGiB[0]).toMatch(/at least 2 GiB/);
  });

  it("accepts a declared raw image, its bytes read back identical, and caps the size", async () => {
    const disk = randomBytes(4096);
    const ok = await upload(disk, {
      name: uniq("raw"),
      os: "debian",
      version: "12",
      format: "raw",
      visibility: "tenant",
      tenantId: fx.tenant.id,
    });
    expect(ok.status).toBe(201);
    const img = await ok.json();
    expect(img).toMatchObject({ format: "raw", sizeBytes: GiB, visibility: "tenant", tenantId: fx.tenant.id, checksumSha256: sha(disk) });
    expect(sha(await head(await getStorage().readVolumeData(img.storageVolumeId), disk.length))).toBe(sha(disk));
    process.env.ANVIL_IMAGE_MAX_BYTES = "2048";
    try {
      const big = await upload(Buffer.alloc(4096, 7), { name: uniq("raw"), os: "debian", version: "12", format: "raw" });
      expect(big.status).toBe(413);
    } finally {
      delete process.env.ANVIL_IMAGE_MAX_BYTES;
    }
  });

  it("lets only operator admins upload", async () => {
    expect((await upload(makeQcow2(GiB), { name: uniq("x"), os: "x", version: "1" }, "operatorViewer")).status).toBe(403);
    expect((await upload(makeQcow2(GiB), { name: uniq("x"), os: "x", version: "1" }, "tenantAdmin")).status).toBe(404);
  });

  it("reads qcow2 headers exactly", () => {
    expect(inspectImageHeader(makeQcow2(10 * GiB), 200)).toEqual({ format: "qcow2", fileBytes: 200, virtualBytes: 10 * GiB });
    const v1 = makeQcow2(GiB);
    v1.writeUInt32BE(1, 4);
    expect(() => inspectImageHeader(v1, 200)).toThrow(/version 1/);
    expect(() => inspectImageHeader(makeQcow2(GiB), 200, "raw")).toThrow(/is a qcow2 image, not raw/);
  });
});
