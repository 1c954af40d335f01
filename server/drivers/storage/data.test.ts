// The driver's data plane against a started storage service: a raw file and a qcow2 made from it by qemu-img
// (converted by the driver) read back as the same disk; a clone of a snapshot reads the same bytes; a disk larger
// than the volume is refused before any byte is sent; a qcow2 that names a backing file is refused.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStorageService } from "@/sim/storage/index";
import { rejection } from "@/test/rejection";
import { createStorageClient, type StorageClient, StorageError } from "./client";
import { DiskFileError } from "./disk-file";

const MiB = 1024 * 1024;
let svc: Awaited<ReturnType<typeof startStorageService>>;
let client: StorageClient;
let dir: string;
let pool: string;

beforeAll(async () => {
  svc = await startStorageService({ defaultPools: true, log: () => {} });
  client = createStorageClient({ url: svc.url, token: svc.token, retryBaseDelayMs: 5 });
  pool = (await client.listLogicalPools()).items[0].id;
  dir = mkdtempSync(path.join(tmpdir(), "anvil-data-test-"));
});
afterAll(async () => {
  await client.close();
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
});

async function digest(stream: Readable): Promise<{ sha: string; bytes: number }> {
  const h = createHash("sha256");
  let bytes = 0;
  for await (const c of stream) {
    h.update(c as Buffer);
    bytes += (c as Buffer).length;
  }
  return { sha: h.digest("hex"), bytes };
}
const shaOf = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("volume data through the driver", () => {
  // A 3 MiB disk: random head, zeros, a marked tail, so sparse handling and offsets both show.
  const disk = Buffer.concat([randomBytes(MiB), Buffer.alloc(MiB), randomBytes(MiB)]);
  const expected = shaOf(Buffer.concat([disk, Buffer.alloc(MiB)]));

  it("writes a raw file and reads the same disk back, zeros after it", async () => {
    const file = path.join(dir, "disk.raw");
    writeFileSync(file, disk);
    const v = await client.createVolume({ name: "raw-disk", logicalPoolId: pool, sizeBytes: 4 * MiB });
    const written = await client.writeVolumeData(v.id, { path: file, format: "raw" });
    expect(written.usedBytes).toBe(2 * MiB);
    expect(await digest(await client.readVolumeData(v.id))).toEqual({ sha: expected, bytes: 4 * MiB });
  });

  it("converts a qcow2 made by qemu-img, and a clone of its snapshot reads the same bytes", async () => {
    const raw = path.join(dir, "src.raw");
    const qcow2 = path.join(dir, "disk.qcow2");
    writeFileSync(raw, disk);
    execFileSync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    const v = await client.createVolume({ name: "qcow2-disk", logicalPoolId: pool, sizeBytes: 4 * MiB });
    await client.writeVolumeData(v.id, { path: qcow2, format: "qcow2" });
    expect((await digest(await client.readVolumeData(v.id))).sha).toBe(expected);
    const snap = await client.createSnapshot({ volumeId: v.id, name: "golden" });
    const clone = await client.cloneVolume({ name: "qcow2-clone", sourceSnapshotId: snap.id });
    expect(await digest(await client.readVolumeData(clone.id))).toEqual({ sha: expected, bytes: 4 * MiB });
  });

  it("refuses a disk larger than the volume with a clear code, and leaves the volume unwritten", async () => {
    const file = path.join(dir, "big.raw");
    writeFileSync(file, disk);
    const v = await client.createVolume({ name: "too-small", logicalPoolId: pool, sizeBytes: 2 * MiB });
    const e = await rejection(client.writeVolumeData(v.id, { path: file, format: "raw" }), StorageError);
    expect(e).toMatchObject({ status: 400, code: "data_too_large" });
    expect(e.message).toMatch(/grow it first/);
    expect((await client.getVolume(v.id)).usedBytes).toBe(0);
  });

  it("refuses a qcow2 with a backing file (it would read a file of the server's choosing)", async () => {
    const base = path.join(dir, "base.qcow2");
    const overlay = path.join(dir, "overlay.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "1M"]);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay]);
    const v = await client.createVolume({ name: "backing", logicalPoolId: pool, sizeBytes: 4 * MiB });
    const e = await rejection(client.writeVolumeData(v.id, { path: overlay, format: "qcow2" }), DiskFileError);
    expect(e.message).toMatch(/backing file/);
    const junk = path.join(dir, "junk.qcow2");
    writeFileSync(junk, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(508)]));
    expect((await rejection(client.writeVolumeData(v.id, { path: junk, format: "qcow2" }), DiskFileError)).message).toMatch(/not a valid qcow2/);
  });
});
