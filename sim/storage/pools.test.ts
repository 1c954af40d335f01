// Disk pools and logical pools of the lab storage service over real HTTP: CRUD, refusal reasons,
// redundancy capacity math, thin/thick limits and overcommit errors.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Lab, makePools, startLab } from "./test-kit";

let lab: Lab;
// 2 nodes × 3 disks × 1000 bytes = 6000 raw bytes: small numbers keep the capacity math readable.
beforeEach(async () => {
  lab = await startLab({ nodes: 2, disksPerNode: 3, diskSizeBytes: 1000 });
});
afterEach(async () => {
  await lab.close();
});

async function diskIds(n: number): Promise<string[]> {
  const r = await lab.req("GET", "/v1/disks?unassigned=true");
  return r.body.items.slice(0, n).map((d: { id: string }) => d.id);
}

describe("generated topology", () => {
  it("serves the storage nodes and disks it was started with", async () => {
    const big = await startLab({});
    try {
      const nodes = await big.req("GET", "/v1/nodes");
      expect(nodes.body.items).toHaveLength(4);
      const disks = await big.req("GET", "/v1/disks?limit=1000");
      expect(disks.body.items).toHaveLength(24);
      const node = nodes.body.items[0];
      expect(node.diskIds).toHaveLength(6);
      const onNode = await big.req("GET", `/v1/disks?nodeId=${node.id}`);
      expect(onNode.body.items.map((d: { id: string }) => d.id)).toEqual(node.diskIds);
      expect(disks.body.items[0]).toMatchObject({ media: "nvme", health: "ok", diskPoolId: null, sizeBytes: 3_840_000_000_000 });
      expect((await big.req("GET", `/v1/nodes/${node.id}`)).body.name).toBe(node.name);
      expect((await big.req("GET", "/v1/nodes/nope")).status).toBe(404);
    } finally {
      await big.close();
    }
  });
});

describe("disk pools", () => {
  it("creates from unassigned disks, renames, lists and deletes (releasing the disks)", async () => {
    const ids = await diskIds(3);
    const created = await lab.req("POST", "/v1/disk-pools", { name: "fast", diskIds: ids });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/v1/disk-pools/${created.body.id}`);
    expect(created.body).toMatchObject({ name: "fast", capacityBytes: 3000, allocatedRawBytes: 0, freeRawBytes: 3000, health: "ok" });
    expect(created.body.nodeIds.length).toBeGreaterThanOrEqual(1);
    const disk = await lab.req("GET", `/v1/disks/${ids[0]}`);
    expect(disk.body.diskPoolId).toBe(created.body.id);
    expect((await lab.req("GET", "/v1/disks?unassigned=true")).body.items).toHaveLength(3);

    const renamed = await lab.req("PATCH", `/v1/disk-pools/${created.body.id}`, { name: "faster" });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe("faster");
    expect((await lab.req("GET", "/v1/disk-pools")).body.items.map((p: { name: string }) => p.name)).toEqual(["faster"]);

    expect((await lab.req("DELETE", `/v1/disk-pools/${created.body.id}`)).status).toBe(204);
    expect((await lab.req("GET", `/v1/disk-pools/${created.body.id}`)).status).toBe(404);
    expect((await lab.req("GET", "/v1/disks?unassigned=true")).body.items).toHaveLength(6);
  });

  it("refuses disks already in a pool, duplicate names and unknown disks", async () => {
    const ids = await diskIds(4);
    await lab.req("POST", "/v1/disk-pools", { name: "a", diskIds: ids.slice(0, 2) });
    const taken = await lab.req("POST", "/v1/disk-pools", { name: "b", diskIds: [ids[1], ids[2]] });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: "disk_in_use", field: "diskIds" });
    expect(taken.body.error.message).toContain("disk pool a");
    const dup = await lab.req("POST", "/v1/disk-pools", { name: "a", diskIds: [ids[3]] });
    expect(dup.body.error).toMatchObject({ code: "name_taken", field: "name" });
    expect(dup.status).toBe(409);
    const unknown = await lab.req("POST", "/v1/disk-pools", { name: "c", diskIds: ["no-such-disk"] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.field).toBe("diskIds");
    const twice = await lab.req("POST", "/v1/disk-pools", { name: "c", diskIds: [ids[3], ids[3]] });
    expect(twice.status).toBe(400);
    // A refused create leaves the disks free.
    expect((await lab.req("GET", `/v1/disks/${ids[2]}`)).body.diskPoolId).toBeNull();
  });

  it("refuses deletion while a logical pool uses it, naming that pool", async () => {
    const { diskPoolId, logicalPoolId } = await makePools(lab, { name: "gold" });
    const refused = await lab.req("DELETE", `/v1/disk-pools/${diskPoolId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("in_use");
    expect(refused.body.error.message).toContain("logical pool(s) gold");
    expect(refused.body.error.details.logicalPoolIds).toEqual([logicalPoolId]);
    expect((await lab.req("DELETE", `/v1/logical-pools/${logicalPoolId}`)).status).toBe(204);
    expect((await lab.req("DELETE", `/v1/disk-pools/${diskPoolId}`)).status).toBe(204);
  });
});

describe("logical pools: redundancy capacity math", () => {
  it.each([
    [{ type: "replica", copies: 1 }, 6000, 1],
    [{ type: "replica", copies: 2 }, 3000, 0.5],
    [{ type: "replica", copies: 3 }, 2000, 1 / 3],
    [{ type: "ec", data: 4, parity: 2 }, 4000, 4 / 6],
    [{ type: "ec", data: 2, parity: 1 }, 4000, 2 / 3],
    [{ type: "ec", data: 5, parity: 1 }, 5000, 5 / 6],
  ])("%o on 6000 raw bytes gives %i usable", async (redundancy, usable, eff) => {
    const { logicalPoolId } = await makePools(lab, { redundancy, thinProvisioned: false });
    const lp = await lab.req("GET", `/v1/logical-pools/${logicalPoolId}`);
    expect(lp.body).toMatchObject({ rawBytes: 6000, usableBytes: usable, provisionedBytes: 0, usedBytes: 0, provisionableBytes: usable });
    expect(lp.body.efficiency).toBeCloseTo(eff, 10);
  });

  it("refuses a redundancy wider than the disk pool and out-of-range parameters", async () => {
    const ids = await diskIds(6);
    const dp = await lab.req("POST", "/v1/disk-pools", { name: "dp", diskIds: ids });
    const wide = await lab.req("POST", "/v1/logical-pools", { name: "w", diskPoolId: dp.body.id, redundancy: { type: "ec", data: 8, parity: 2 } });
    expect(wide.status).toBe(422);
    expect(wide.body.error).toMatchObject({ code: "redundancy_unsatisfiable", field: "redundancy" });
    expect(wide.body.error.message).toContain("needs 10 disks");
    const four = await lab.req("POST", "/v1/logical-pools", { name: "f", diskPoolId: dp.body.id, redundancy: { type: "replica", copies: 4 } });
    expect(four.status).toBe(400);
    expect(four.body.error.field).toBe("redundancy.copies");
    const kind = await lab.req("POST", "/v1/logical-pools", { name: "k", diskPoolId: dp.body.id, redundancy: { type: "raid5" } });
    expect(kind.status).toBe(400);
    const ratio = await lab.req("POST", "/v1/logical-pools", {
      name: "r",
      diskPoolId: dp.body.id,
      redundancy: { type: "replica", copies: 1 },
      overcommitRatio: 11,
    });
    expect(ratio.body.error.field).toBe("overcommitRatio");
    const thickRatio = await lab.req("POST", "/v1/logical-pools", {
      name: "t",
      diskPoolId: dp.body.id,
      redundancy: { type: "replica", copies: 1 },
      thinProvisioned: false,
      overcommitRatio: 2,
    });
    expect(thickRatio.status).toBe(400);
    expect(thickRatio.body.error.message).toContain("thin-provisioned");
    const noDp = await lab.req("POST", "/v1/logical-pools", { name: "n", diskPoolId: "nope", redundancy: { type: "replica", copies: 1 } });
    expect(noDp.status).toBe(404);
    expect(noDp.body.error.field).toBe("diskPoolId");
  });
});

describe("logical pools: provisioning limits", () => {
  it("thin pools allow provisioned <= usable × overcommit and name the pool, request and free bytes when exceeded", async () => {
    const { logicalPoolId } = await makePools(lab, { name: "thin2x", redundancy: { type: "replica", copies: 2 }, overcommitRatio: 2 });
    // usable 3000, overcommit 2 -> 6000 provisionable
    const a = await lab.req("POST", "/v1/volumes", { name: "a", logicalPoolId, sizeBytes: 5000 });
    expect(a.status).toBe(201);
    const b = await lab.req("POST", "/v1/volumes", { name: "b", logicalPoolId, sizeBytes: 1500 });
    expect(b.status).toBe(409);
    expect(b.body.error.code).toBe("insufficient_capacity");
    expect(b.body.error.message).toContain("logical pool thin2x");
    expect(b.body.error.message).toContain("requested 1500 bytes, 1000 bytes free");
    expect(b.body.error.details).toEqual({ logicalPoolId, logicalPoolName: "thin2x", requestedBytes: 1500, freeBytes: 1000 });
    expect((await lab.req("POST", "/v1/volumes", { name: "b", logicalPoolId, sizeBytes: 1000 })).status).toBe(201);
    const lp = await lab.req("GET", `/v1/logical-pools/${logicalPoolId}`);
    expect(lp.body).toMatchObject({ provisionedBytes: 6000, provisionableBytes: 0, usedBytes: 0, volumeCount: 2 });
  });

  it("thick pools allow provisioned <= usable and reserve raw space at once", async () => {
    const { logicalPoolId, diskPoolId } = await makePools(lab, { name: "thick", redundancy: { type: "replica", copies: 2 }, thinProvisioned: false });
    expect((await lab.req("POST", "/v1/volumes", { name: "a", logicalPoolId, sizeBytes: 2000 })).status).toBe(201);
    expect((await lab.req("GET", `/v1/disk-pools/${diskPoolId}`)).body.allocatedRawBytes).toBe(4000);
    const over = await lab.req("POST", "/v1/volumes", { name: "b", logicalPoolId, sizeBytes: 1001 });
    expect(over.status).toBe(409);
    expect(over.body.error.details).toMatchObject({ requestedBytes: 1001, freeBytes: 1000 });
    expect(over.body.error.message).toContain("thick");
  });

  it("a thin pool sharing a disk pool with a thick pool runs out of physical space on writes", async () => {
    const ids = await diskIds(6);
    const dp = await lab.req("POST", "/v1/disk-pools", { name: "shared", diskIds: ids });
    const thick = await lab.req("POST", "/v1/logical-pools", {
      name: "thick",
      diskPoolId: dp.body.id,
      redundancy: { type: "replica", copies: 1 },
      thinProvisioned: false,
    });
    const thin = await lab.req("POST", "/v1/logical-pools", {
      name: "thin",
      diskPoolId: dp.body.id,
      redundancy: { type: "replica", copies: 1 },
      overcommitRatio: 10,
    });
    await lab.req("POST", "/v1/volumes", { name: "big", logicalPoolId: thick.body.id, sizeBytes: 5000 });
    const v = await lab.req("POST", "/v1/volumes", { name: "sparse", logicalPoolId: thin.body.id, sizeBytes: 6000 });
    expect(v.status).toBe(201);
    const full = await lab.req("POST", `/v1/volumes/${v.body.id}/write`, { bytes: 2000 });
    expect(full.status).toBe(409);
    expect(full.body.error.code).toBe("pool_full");
    expect(full.body.error.details).toMatchObject({ requestedBytes: 2000, freeBytes: 1000 });
    expect((await lab.req("POST", `/v1/volumes/${v.body.id}/write`, { bytes: 1000 })).body.usedBytes).toBe(1000);
    expect((await lab.req("GET", `/v1/disk-pools/${dp.body.id}`)).body).toMatchObject({ allocatedRawBytes: 6000, freeRawBytes: 0 });
    // The thick pool cannot provision more: its raw space is gone even though its own limit is not reached.
    const more = await lab.req("POST", "/v1/volumes", { name: "more", logicalPoolId: thick.body.id, sizeBytes: 1 });
    expect(more.status).toBe(409);
  });

  it("EC thin pools charge raw bytes with parity on writes", async () => {
    const { logicalPoolId, diskPoolId } = await makePools(lab, { redundancy: { type: "ec", data: 4, parity: 2 } });
    const v = await lab.req("POST", "/v1/volumes", { name: "v", logicalPoolId, sizeBytes: 3000 });
    await lab.req("POST", `/v1/volumes/${v.body.id}/write`, { bytes: 1000 });
    expect((await lab.req("GET", `/v1/disk-pools/${diskPoolId}`)).body.allocatedRawBytes).toBe(1500);
    expect((await lab.req("GET", `/v1/logical-pools/${logicalPoolId}`)).body.usedBytes).toBe(1000);
    await lab.req("DELETE", `/v1/volumes/${v.body.id}`);
    expect((await lab.req("GET", `/v1/disk-pools/${diskPoolId}`)).body.allocatedRawBytes).toBe(0);
  });
});

describe("logical pools: edit and delete", () => {
  it("renames, changes overcommit within what is provisioned, refuses deletion while volumes exist", async () => {
    const { logicalPoolId } = await makePools(lab, { name: "lp", overcommitRatio: 3 });
    await lab.req("POST", "/v1/volumes", { name: "v", logicalPoolId, sizeBytes: 10_000 });
    const lower = await lab.req("PATCH", `/v1/logical-pools/${logicalPoolId}`, { overcommitRatio: 1.5 });
    expect(lower.status).toBe(409);
    expect(lower.body.error.message).toContain("10000 bytes provisioned");
    const ok = await lab.req("PATCH", `/v1/logical-pools/${logicalPoolId}`, { name: "renamed", overcommitRatio: 2 });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ name: "renamed", overcommitRatio: 2, provisionLimitBytes: 12_000 });
    const immutable = await lab.req("PATCH", `/v1/logical-pools/${logicalPoolId}`, { redundancy: { type: "replica", copies: 2 } });
    expect(immutable.status).toBe(400);
    expect(immutable.body.error.code).toBe("unknown_field");

    const refused = await lab.req("DELETE", `/v1/logical-pools/${logicalPoolId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "in_use", details: { volumeCount: 1 } });
    const vols = await lab.req("GET", `/v1/volumes?logicalPoolId=${logicalPoolId}`);
    await lab.req("DELETE", `/v1/volumes/${vols.body.items[0].id}`);
    expect((await lab.req("DELETE", `/v1/logical-pools/${logicalPoolId}`)).status).toBe(204);
    expect((await lab.req("GET", `/v1/logical-pools/${logicalPoolId}`)).status).toBe(404);
  });
});
