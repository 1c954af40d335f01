// Image upload handler against the lab storage service: qcow2 detected by magic bytes (virtual size from the
// header), raw accepted only when declared and sector-aligned, other formats refused with the fix, size cap,
// operator-admin only, and the bytes land on the image's storage volume before the golden snapshot.
import { describe, expect, it } from "vitest";
import { GiB } from "@/db/validation/storage";
import { uniq } from "@/test/db";
import { type Fixtures, useFixtures, useTestStorage } from "@/test/fixtures";
import { getStorage } from "./backend";
import { inspectImageHeader, makeQcow2 } from "./image-file";
import { handleImageUpload } from "./upload";

const fx = useFixtures();
useTestStorage();

function upload(body: Buffer, q: Record<string, string>, who: keyof Fixtures["principals"] = "operatorAdmin") {
  const req = new Request(`http://anvil.test/api/images/upload?${new URLSearchParams(q)}`, {
    method: "POST",
    body: new Uint8Array(body),
    headers: { "content-length": String(body.length) },
  });
  return handleImageUpload(req, { db: fx.db, principal: fx.principals[who], requestId: "upload-test" });
}

describe("image upload", () => {
  it("accepts a qcow2 by its magic bytes, sizes the volume from the header and writes the bytes before the golden snapshot", async () => {
    const file = makeQcow2(3 * GiB + 1, 64 * 1024);
    const res = await upload(file, { name: uniq("ubuntu"), os: "ubuntu", version: "24.04" });
    expect(res.status).toBe(201);
    const img = await res.json();
    expect(img).toMatchObject({ format: "qcow2", sizeBytes: 4 * GiB, minSizeGiB: 4, state: "available", source: "upload" });
    const vol = await getStorage().getVolume(img.storageVolumeId);
    expect(vol.sizeBytes).toBe(4 * GiB);
    expect(vol.usedBytes).toBe(file.length);
    const golden = await getStorage().getSnapshot(img.storageSnapshotId);
    expect(golden.dataBytes).toBe(file.length);
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
    const badMeta = await upload(makeQcow2(GiB), { name: "no spaces allowed", os: "x", version: "1" });
    expect(badMeta.status).toBe(400);
    expect((await badMeta.json()).error.fieldErrors.name).toBeDefined();
    const small = await upload(makeQcow2(2 * GiB), { name: uniq("x"), os: "x", version: "1", minSizeGiB: "1" });
    expect((await small.json()).error.fieldErrors.minSizeGiB[0]).toMatch(/at least 2 GiB/);
  });

  it("accepts a declared raw image and caps the size", async () => {
    const ok = await upload(Buffer.alloc(4096, 7), {
      name: uniq("raw"),
      os: "debian",
      version: "12",
      format: "raw",
      visibility: "tenant",
      tenantId: fx.tenant.id,
    });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ format: "raw", sizeBytes: GiB, visibility: "tenant", tenantId: fx.tenant.id });
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
