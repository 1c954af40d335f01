// Volumes and snapshots of the lab storage service over real HTTP: blank volumes, O(1) thin clones,
// resize rules, writes, snapshot/clone dependency rules and flattening.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Lab, makePools, startLab } from "./test-kit";

const GiB = 1024 ** 3;
let lab: Lab;
let pool: string;
beforeEach(async () => {
  lab = await startLab({});
  pool = (await makePools(lab, { name: "main", redundancy: { type: "replica", copies: 3 }, overcommitRatio: 2 })).logicalPoolId;
});
afterEach(async () => {
  await lab.close();
});

async function volume(name: string, sizeBytes = 10 * GiB, extra: Record<string, unknown> = {}) {
  const r = await lab.req("POST", "/v1/volumes", { name, logicalPoolId: pool, sizeBytes, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; name: string; sizeBytes: number; usedBytes: number };
}

describe("blank volumes", () => {
  it("creates, gets and lists with filters", async () => {
    const v = await volume("data-1", 5 * GiB, { multiAttach: true });
    expect(v).toMatchObject({ name: "data-1", sizeBytes: 5 * GiB, usedBytes: 0, multiAttach: true, sourceSnapshotId: null, status: "available" });
    expect((await lab.req("GET", `/v1/volumes/${v.id}`)).body).toEqual(v);
    await volume("data-2");
    const byName = await lab.req("GET", `/v1/volumes?logicalPoolId=${pool}&name=data-2`);
    expect(byName.body.items.map((x: { name: string }) => x.name)).toEqual(["data-2"]);
    expect((await lab.req("GET", `/v1/volumes?logicalPoolId=${pool}`)).body.items).toHaveLength(2);
    expect((await lab.req("GET", "/v1/volumes?logicalPoolId=other")).body.items).toHaveLength(0);
    expect((await lab.req("GET", `/v1/logical-pools/${pool}`)).body.provisionedBytes).toBe(15 * GiB);
  });

  it("keeps names unique per logical pool only", async () => {
    await volume("same");
    const dup = await lab.req("POST", "/v1/volumes", { name: "same", logicalPoolId: pool, sizeBytes: GiB });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: "name_taken", field: "name" });
    // A second logical pool on the same disk pool accepts the name.
    const lp = await lab.req("GET", `/v1/logical-pools/${pool}`);
    const second = await lab.req("POST", "/v1/logical-pools", { name: "second", diskPoolId: lp.body.diskPoolId, redundancy: { type: "replica", copies: 2 } });
    expect((await lab.req("POST", "/v1/volumes", { name: "same", logicalPoolId: second.body.id, sizeBytes: GiB })).status).toBe(201);
  });

  it("writes grow usedBytes up to the volume size", async () => {
    const v = await volume("w", 1000);
    expect((await lab.req("POST", `/v1/volumes/${v.id}/write`, { bytes: 600 })).body.usedBytes).toBe(600);
    expect((await lab.req("POST", `/v1/volumes/${v.id}/write`, { bytes: 600 })).body.usedBytes).toBe(1000);
    expect((await lab.req("GET", `/v1/logical-pools/${pool}`)).body.usedBytes).toBe(1000);
    expect((await lab.req("POST", "/v1/volumes/nope/write", { bytes: 1 })).status).toBe(404);
    expect((await lab.req("POST", `/v1/volumes/${v.id}/write`, { bytes: 0 })).status).toBe(400);
  });
});

describe("resize", () => {
  it("grows, refuses to shrink, and checks capacity on growth", async () => {
    const v = await volume("r", 10 * GiB);
    const grown = await lab.req("PATCH", `/v1/volumes/${v.id}`, { sizeBytes: 20 * GiB });
    expect(grown.status).toBe(200);
    expect(grown.body.sizeBytes).toBe(20 * GiB);
    const same = await lab.req("PATCH", `/v1/volumes/${v.id}`, { sizeBytes: 20 * GiB });
    expect(same.status).toBe(200);
    const shrink = await lab.req("PATCH", `/v1/volumes/${v.id}`, { sizeBytes: 5 * GiB });
    expect(shrink.status).toBe(400);
    expect(shrink.body.error).toMatchObject({ code: "shrink_not_supported", field: "sizeBytes" });
    const frac = await lab.req("PATCH", `/v1/volumes/${v.id}`, { sizeBytes: 30.5 });
    expect(frac.status).toBe(400);
    const lp = (await lab.req("GET", `/v1/logical-pools/${pool}`)).body;
    const huge = await lab.req("PATCH", `/v1/volumes/${v.id}`, { sizeBytes: 20 * GiB + lp.provisionableBytes + 1 });
    expect(huge.status).toBe(409);
    expect(huge.body.error.details.requestedBytes).toBe(lp.provisionableBytes + 1);
    expect((await lab.req("GET", `/v1/volumes/${v.id}`)).body.sizeBytes).toBe(20 * GiB);
    expect((await lab.req("GET", `/v1/logical-pools/${pool}`)).body.provisionedBytes).toBe(20 * GiB);
    const renamed = await lab.req("PATCH", `/v1/volumes/${v.id}`, { name: "r2" });
    expect(renamed.body.name).toBe("r2");
  });
});

describe("snapshots and thin clones", () => {
  it("1,000 clones of a snapshot copy no data: pool usage is unchanged until a clone is written", async () => {
    const image = await volume("ubuntu-24.04", 10 * GiB);
    await lab.req("POST", `/v1/volumes/${image.id}/write`, { bytes: 3 * GiB });
    const snap = await lab.req("POST", "/v1/snapshots", { volumeId: image.id, name: "golden" });
    expect(snap.status).toBe(201);
    expect(snap.body).toMatchObject({ volumeId: image.id, sizeBytes: 10 * GiB, dataBytes: 3 * GiB, cloneCount: 0 });
    const before = (await lab.req("GET", `/v1/logical-pools/${pool}`)).body;
    const rawBefore = (await lab.req("GET", `/v1/disk-pools/${before.diskPoolId}`)).body.allocatedRawBytes;

    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => lab.req("POST", "/v1/volumes", { name: `vm-${batch * 50 + i}`, sourceSnapshotId: snap.body.id })),
      );
      for (const r of replies) {
        expect(r.status).toBe(201);
        ids.push(r.body.id);
      }
    }
    const after = (await lab.req("GET", `/v1/logical-pools/${pool}`)).body;
    expect(after.usedBytes).toBe(before.usedBytes);
    expect((await lab.req("GET", `/v1/disk-pools/${before.diskPoolId}`)).body.allocatedRawBytes).toBe(rawBefore);
    expect(after.provisionedBytes).toBe(before.provisionedBytes + 1000 * 10 * GiB);
    const clone = (await lab.req("GET", `/v1/volumes/${ids[0]}`)).body;
    expect(clone).toMatchObject({ usedBytes: 0, referencedBytes: 3 * GiB, sizeBytes: 10 * GiB, sourceSnapshotId: snap.body.id });
    expect((await lab.req("GET", `/v1/snapshots/${snap.body.id}`)).body.cloneCount).toBe(1000);

    // Paginate the clones of the snapshot: all 1,000, no duplicates.
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const page = await lab.req("GET", `/v1/volumes?sourceSnapshotId=${snap.body.id}&limit=300${q}`);
      for (const v of page.body.items) seen.add(v.id);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(1000);

    // Only writes make a clone allocate.
    await lab.req("POST", `/v1/volumes/${ids[0]}/write`, { bytes: GiB });
    expect((await lab.req("GET", `/v1/logical-pools/${pool}`)).body.usedBytes).toBe(before.usedBytes + GiB);
  });

  it("clones default to the snapshot size, may be larger, never smaller, and stay in the snapshot's pool", async () => {
    const src = await volume("src", 10 * GiB);
    const snap = (await lab.req("POST", "/v1/snapshots", { volumeId: src.id, name: "s" })).body;
    const bigger = await lab.req("POST", "/v1/volumes", { name: "big", sourceSnapshotId: snap.id, sizeBytes: 20 * GiB });
    expect(bigger.status).toBe(201);
    expect(bigger.body.sizeBytes).toBe(20 * GiB);
    const smaller = await lab.req("POST", "/v1/volumes", { name: "small", sourceSnapshotId: snap.id, sizeBytes: GiB });
    expect(smaller.status).toBe(400);
    expect(smaller.body.error.field).toBe("sizeBytes");
    const cross = await lab.req("POST", "/v1/volumes", { name: "x", sourceSnapshotId: snap.id, logicalPoolId: "elsewhere" });
    expect(cross.status).toBe(422);
    expect(cross.body.error.code).toBe("cross_pool_clone");
    const missing = await lab.req("POST", "/v1/volumes", { name: "m", sourceSnapshotId: "nope" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.field).toBe("sourceSnapshotId");
  });

  it("snapshot names are unique per volume; snapshots list by volume", async () => {
    const a = await volume("a");
    const b = await volume("b");
    expect((await lab.req("POST", "/v1/snapshots", { volumeId: a.id, name: "s1" })).status).toBe(201);
    const dup = await lab.req("POST", "/v1/snapshots", { volumeId: a.id, name: "s1" });
    expect(dup.status).toBe(409);
    expect((await lab.req("POST", "/v1/snapshots", { volumeId: b.id, name: "s1" })).status).toBe(201);
    expect((await lab.req("GET", `/v1/snapshots?volumeId=${a.id}`)).body.items).toHaveLength(1);
    expect((await lab.req("GET", "/v1/snapshots")).body.items).toHaveLength(2);
    expect((await lab.req("POST", "/v1/snapshots", { volumeId: "nope", name: "s" })).status).toBe(404);
  });

  it("refuses deleting a snapshot or its volume while clones depend on it; flatten detaches a clone", async () => {
    const src = await volume("src", 10 * GiB);
    await lab.req("POST", `/v1/volumes/${src.id}/write`, { bytes: 4 * GiB });
    const snap = (await lab.req("POST", "/v1/snapshots", { volumeId: src.id, name: "s" })).body;
    const clone = (await lab.req("POST", "/v1/volumes", { name: "c", sourceSnapshotId: snap.id })).body;
    await lab.req("POST", `/v1/volumes/${clone.id}/write`, { bytes: GiB });

    const delSnap = await lab.req("DELETE", `/v1/snapshots/${snap.id}`);
    expect(delSnap.status).toBe(409);
    expect(delSnap.body.error.code).toBe("has_dependent_clones");
    expect(delSnap.body.error.message).toContain("flatten");
    const delSrc = await lab.req("DELETE", `/v1/volumes/${src.id}`);
    expect(delSrc.status).toBe(409);
    expect(delSrc.body.error.details).toEqual({ snapshotIds: [snap.id], cloneCount: 1 });

    const usedBefore = (await lab.req("GET", `/v1/logical-pools/${pool}`)).body.usedBytes;
    const flat = await lab.req("POST", `/v1/volumes/${clone.id}/flatten`);
    expect(flat.status).toBe(200);
    expect(flat.body).toMatchObject({ sourceSnapshotId: null, usedBytes: 5 * GiB, referencedBytes: 5 * GiB });
    // Flatten copies the parent's 4 GiB into the clone.
    expect((await lab.req("GET", `/v1/logical-pools/${pool}`)).body.usedBytes).toBe(usedBefore + 4 * GiB);
    // A second flatten is a no-op (safe to retry).
    expect((await lab.req("POST", `/v1/volumes/${clone.id}/flatten`)).body.usedBytes).toBe(5 * GiB);
    expect((await lab.req("GET", `/v1/snapshots/${snap.id}`)).body.cloneCount).toBe(0);

    // The source volume can now go, taking its clone-less snapshots with it.
    expect((await lab.req("DELETE", `/v1/volumes/${src.id}`)).status).toBe(204);
    expect((await lab.req("GET", `/v1/snapshots/${snap.id}`)).status).toBe(404);
    expect((await lab.req("GET", `/v1/volumes/${clone.id}`)).status).toBe(200);
    expect((await lab.req("GET", `/v1/logical-pools/${pool}`)).body).toMatchObject({ usedBytes: 5 * GiB, provisionedBytes: 10 * GiB, volumeCount: 1 });
  });

  it("deleting a clone releases the snapshot; clones of clones inherit the referenced data", async () => {
    const src = await volume("src", 10 * GiB);
    await lab.req("POST", `/v1/volumes/${src.id}/write`, { bytes: 2 * GiB });
    const s1 = (await lab.req("POST", "/v1/snapshots", { volumeId: src.id, name: "s1" })).body;
    const c1 = (await lab.req("POST", "/v1/volumes", { name: "c1", sourceSnapshotId: s1.id })).body;
    await lab.req("POST", `/v1/volumes/${c1.id}/write`, { bytes: GiB });
    const s2 = (await lab.req("POST", "/v1/snapshots", { volumeId: c1.id, name: "s2" })).body;
    expect(s2.dataBytes).toBe(3 * GiB);
    const c2 = (await lab.req("POST", "/v1/volumes", { name: "c2", sourceSnapshotId: s2.id })).body;
    expect(c2).toMatchObject({ usedBytes: 0, referencedBytes: 3 * GiB });
    expect((await lab.req("DELETE", `/v1/volumes/${c1.id}`)).status).toBe(409);
    expect((await lab.req("DELETE", `/v1/volumes/${c2.id}`)).status).toBe(204);
    expect((await lab.req("DELETE", `/v1/volumes/${c1.id}`)).status).toBe(204);
    expect((await lab.req("DELETE", `/v1/snapshots/${s1.id}`)).status).toBe(204);
    expect((await lab.req("DELETE", `/v1/volumes/${src.id}`)).status).toBe(204);
    expect((await lab.req("GET", `/v1/logical-pools/${pool}`)).body).toMatchObject({ usedBytes: 0, provisionedBytes: 0, volumeCount: 0 });
  });
});
