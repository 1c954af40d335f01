// The storage service's data plane over HTTP: bytes written read back identical (zeros past them), a snapshot
// freezes the bytes against later writes, a clone reads through to its parent snapshot and its own writes stay
// its own, flatten keeps a clone's bytes after its parent goes, a too-large write changes nothing,
// usedBytes follows the non-zero data, and deleting volumes frees their files.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePools, startLab, type Lab } from "./test-kit";

const MiB = 1024 * 1024;
let lab: Lab;
let dataDir: string;
let pool: string;

beforeAll(async () => {
  lab = await startLab({ nodes: 1, disksPerNode: 2, diskSizeBytes: 64 * 1024 * MiB });
  dataDir = lab.dataDir;
  pool = (await makePools(lab, { thinProvisioned: true, overcommitRatio: 4 })).logicalPoolId;
});
afterAll(() => lab.close());

async function put(volumeId: string, data: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${lab.url}/v1/volumes/${volumeId}/data`, {
    method: "PUT",
    headers: { authorization: `Bearer ${lab.token}`, "content-type": "application/octet-stream", ...headers },
    body: new Uint8Array(data),
  });
  return { status: res.status, body: await res.json() };
}
async function read(volumeId: string): Promise<Buffer> {
  const res = await fetch(`${lab.url}/v1/volumes/${volumeId}/data`, { headers: { authorization: `Bearer ${lab.token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/octet-stream");
  return Buffer.from(await res.arrayBuffer());
}
async function volume(name: string, sizeBytes = 4 * MiB) {
  const v = await lab.req("POST", "/v1/volumes", { name, logicalPoolId: pool, sizeBytes });
  expect(v.status).toBe(201);
  return v.body as { id: string };
}
const padded = (data: Buffer, size: number) => sha(Buffer.concat([data, Buffer.alloc(size - data.length)]));
/** Compared by digest: a deep compare of megabytes is slow and its diff unreadable. */
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("volume bytes", () => {
  it("reads back what was written, zeros after it; a blank volume reads as zeros", async () => {
    const v = await volume("bytes-a");
    expect(sha(await read(v.id))).toBe(sha(Buffer.alloc(4 * MiB)));
    const data = randomBytes(MiB + 512);
    const w = await put(v.id, data);
    expect(w.status).toBe(200);
    expect(w.body.usedBytes).toBe(data.length); // every block written holds data
    expect(sha(await read(v.id))).toBe(padded(data, 4 * MiB));
  });

  it("stays sparse: zero blocks allocate nothing", async () => {
    const v = await volume("bytes-sparse");
    const data = Buffer.concat([Buffer.alloc(2 * MiB), Buffer.from("boot"), Buffer.alloc(64 * 1024 - 4)]);
    const w = await put(v.id, data);
    expect(w.body.usedBytes).toBe(64 * 1024);
    expect(sha(await read(v.id))).toBe(padded(data, 4 * MiB));
  });

  it("a snapshot freezes the bytes; a clone reads through to them and keeps its own writes to itself", async () => {
    const v = await volume("bytes-src");
    const first = randomBytes(256 * 1024);
    await put(v.id, first);
    const snap = await lab.req("POST", "/v1/snapshots", { volumeId: v.id, name: "golden" });
    expect(snap.status).toBe(201);
    const second = randomBytes(128 * 1024);
    await put(v.id, second);
    // The source now has the second data over the first's head; the first's tail is kept (writes start at offset 0).
    expect(sha(await read(v.id))).toBe(padded(Buffer.concat([second, first.subarray(second.length)]), 4 * MiB));

    const clone = await lab.req("POST", "/v1/volumes", { name: "bytes-clone", sourceSnapshotId: snap.body.id, sizeBytes: 8 * MiB });
    expect(clone.status).toBe(201);
    expect(clone.body.usedBytes).toBe(0);
    expect(sha(await read(clone.body.id))).toBe(padded(first, 8 * MiB));

    const mine = randomBytes(64 * 1024);
    await put(clone.body.id, mine);
    expect(sha(await read(clone.body.id))).toBe(padded(Buffer.concat([mine, first.subarray(mine.length)]), 8 * MiB));
    const sibling = await lab.req("POST", "/v1/volumes", { name: "bytes-sibling", sourceSnapshotId: snap.body.id });
    expect(sha(await read(sibling.body.id))).toBe(padded(first, 4 * MiB));

    // Flatten, then the parent and its snapshot may go: the clone keeps its bytes.
    expect((await lab.req("POST", `/v1/volumes/${sibling.body.id}/flatten`, {})).status).toBe(200);
    expect((await lab.req("DELETE", `/v1/volumes/${clone.body.id}`)).status).toBe(204);
    expect((await lab.req("DELETE", `/v1/volumes/${v.id}`)).status).toBe(204);
    expect(sha(await read(sibling.body.id))).toBe(padded(first, 4 * MiB));
  });

  it("refuses data larger than the volume, and leaves the volume as it was", async () => {
    const v = await volume("bytes-small", MiB);
    const data = randomBytes(4096);
    await put(v.id, data);
    const big = await put(v.id, randomBytes(MiB + 512));
    expect(big.status).toBe(400);
    expect(big.body.error.code).toBe("data_too_large");
    expect(big.body.error.message).toMatch(/grow it first/);
    expect(sha(await read(v.id))).toBe(padded(data, MiB));
    const type = await lab.reqRaw("PUT", `/v1/volumes/${v.id}/data`, "{}");
    expect(type.status).toBe(415);
    expect((await put("nope", data)).status).toBe(404);
  });

  it("frees the files of deleted volumes and snapshots", async () => {
    const v = await volume("bytes-gone");
    await put(v.id, randomBytes(4096));
    const before = readdirSync(dataDir).length;
    await lab.req("POST", "/v1/snapshots", { volumeId: v.id, name: "s1" });
    await put(v.id, randomBytes(8192)); // a new layer; the snapshot holds the old one
    expect(readdirSync(dataDir).length).toBe(before + 1);
    expect((await lab.req("DELETE", `/v1/volumes/${v.id}`)).status).toBe(204);
    expect(readdirSync(dataDir).length).toBe(before - 1);
  });
});
