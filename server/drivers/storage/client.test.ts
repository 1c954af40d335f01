// The storage driver against a real, started storage service over HTTP: the whole lifecycle the BFF
// runs, error mapping to StorageError, retries on injected 5xx (and the lack of them for unkeyed
// creates), idempotent creates across lost replies, timeouts, unreachable services and replies that
// break the contract.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startStorageService } from "@/sim/storage/index";
import { setFaults, writeVolume } from "@/sim/storage/test-kit";
import { createStorageClient, type StorageClient, StorageError } from "./client";
import { rejection } from "@/test/rejection";

const GiB = 1024 ** 3;
const HOST = "nqn.2014-08.org.nvmexpress:uuid:0f0f0f0f-1111-4222-8333-444455556666";
let svc: Awaited<ReturnType<typeof startStorageService>>;
let client: StorageClient;

beforeEach(async () => {
  svc = await startStorageService({ nodes: 3, disksPerNode: 4, log: () => {} });
  client = createStorageClient({ url: svc.url, token: svc.token, retryBaseDelayMs: 5, timeoutMs: 2_000 });
});
afterEach(async () => {
  await client.close();
  await svc.close();
});

async function pools(name = "gold") {
  const disks = await client.listDisks({ unassigned: true, limit: 1000 });
  const dp = await client.createDiskPool({ name, diskIds: disks.items.map((d) => d.id) });
  const lp = await client.createLogicalPool({ name, diskPoolId: dp.id, redundancy: { type: "ec", data: 4, parity: 2 }, overcommitRatio: 3 });
  return { dp, lp };
}

const caught = (p: Promise<unknown>) => rejection(p, StorageError);

describe("happy paths", () => {
  it("runs the provisioning lifecycle: pools, image, snapshot, clone, grow, export, connect, teardown", async () => {
    expect((await client.health()).status).toBe("ok");
    const nodes = await client.listNodes();
    expect(nodes.items).toHaveLength(3);
    expect((await client.getNode(nodes.items[0].id)).diskIds).toHaveLength(4);
    const { dp, lp } = await pools();
    expect(dp.capacityBytes).toBe(12 * 3_840_000_000_000);
    expect(lp).toMatchObject({ usableBytes: 8 * 3_840_000_000_000, thinProvisioned: true, efficiency: 4 / 6 });
    expect((await client.updateDiskPool(dp.id, { name: "gold-dp" })).name).toBe("gold-dp");
    expect((await client.updateLogicalPool(lp.id, { overcommitRatio: 4 })).overcommitRatio).toBe(4);

    const image = await client.createVolume({ name: "ubuntu", logicalPoolId: lp.id, sizeBytes: 8 * GiB });
    await writeVolume(svc.url, svc.token, image.id, 2 * GiB);
    const snap = await client.createSnapshot({ volumeId: image.id, name: "golden" });
    expect(snap.dataBytes).toBe(2 * GiB);
    const boot = await client.cloneVolume({ name: "vm-1-boot", sourceSnapshotId: snap.id, sizeBytes: 16 * GiB });
    expect(boot).toMatchObject({ sourceSnapshotId: snap.id, usedBytes: 0, referencedBytes: 2 * GiB, sizeBytes: 16 * GiB });
    expect((await client.resizeVolume(boot.id, 20 * GiB)).sizeBytes).toBe(20 * GiB);
    expect((await client.getSnapshot(snap.id)).cloneCount).toBe(1);
    expect((await client.listSnapshots({ volumeId: image.id })).items.map((s) => s.id)).toEqual([snap.id]);

    const target = await client.createTarget({ volumeId: boot.id, protocol: "nvme-tcp", initiator: HOST });
    expect(target.nqn).toBe(`nqn.2026-01.io.anvil:vol-${boot.id}`);
    expect(target.port).toBe(4420);
    const conn = await client.connectTarget({ nqn: target.nqn!, initiator: HOST });
    expect(conn.namespace).toMatchObject({ uuid: boot.id, sizeBytes: 20 * GiB });
    expect((await client.listTargets({ initiator: HOST })).items.map((t) => t.id)).toEqual([target.id]);
    expect((await client.getTarget(target.id)).lastConnectedAt).not.toBeNull();
    expect((await client.getVolume(boot.id)).status).toBe("exported");

    await client.deleteTarget(target.id);
    expect((await client.flattenVolume(boot.id)).sourceSnapshotId).toBeNull();
    await client.deleteSnapshot(snap.id);
    await client.deleteVolume(image.id);
    await client.deleteVolume(boot.id);
    await client.deleteLogicalPool(lp.id);
    await client.deleteDiskPool(dp.id);
    expect((await client.listDisks({ unassigned: true, limit: 1000 })).items).toHaveLength(12);
  });

  it("listAll walks every page", async () => {
    const { lp } = await pools();
    for (let i = 0; i < 7; i++) await client.createVolume({ name: `v${i}`, logicalPoolId: lp.id, sizeBytes: GiB });
    const names: string[] = [];
    for await (const v of client.listAll(client.listVolumes, { logicalPoolId: lp.id, limit: 3 })) names.push(v.name);
    expect(names).toEqual(["v0", "v1", "v2", "v3", "v4", "v5", "v6"]);
  });
});

describe("error mapping", () => {
  it("surfaces the service's code, message, field and details", async () => {
    const { lp } = await pools();
    const over = await caught(client.createVolume({ name: "huge", logicalPoolId: lp.id, sizeBytes: Number.MAX_SAFE_INTEGER }));
    expect(over).toMatchObject({ status: 409, code: "insufficient_capacity", field: "sizeBytes", retryable: false });
    expect(over.message).toContain("logical pool gold");
    expect(over.details).toMatchObject({ requestedBytes: Number.MAX_SAFE_INTEGER });

    const v = await client.createVolume({ name: "v", logicalPoolId: lp.id, sizeBytes: 2 * GiB });
    const shrink = await caught(client.resizeVolume(v.id, GiB));
    expect(shrink).toMatchObject({ status: 400, code: "shrink_not_supported", field: "sizeBytes" });
    const missing = await caught(client.getVolume("no-such-volume"));
    expect(missing).toMatchObject({ status: 404, code: "not_found" });
    const bad = await caught(client.createVolume({ name: "bad name!", logicalPoolId: lp.id, sizeBytes: 1 }));
    expect(bad).toMatchObject({ status: 400, field: "name" });
    await client.createTarget({ volumeId: v.id, protocol: "nvme-tcp", initiator: HOST });
    const forbidden = await caught(
      client.connectTarget({ nqn: `nqn.2026-01.io.anvil:vol-${v.id}`, initiator: "nqn.2014-08.org.nvmexpress:uuid:someone-else" }),
    );
    expect(forbidden).toMatchObject({ status: 403, code: "initiator_not_allowed", field: "initiator" });
    const exported = await caught(client.deleteVolume(v.id));
    expect(exported).toMatchObject({ status: 409, code: "volume_exported" });
  });

  it("a wrong token is a 401 that is not retried", async () => {
    const wrong = createStorageClient({ url: svc.url, token: "wrong", retryBaseDelayMs: 5 });
    try {
      const e = await caught(wrong.listVolumes());
      expect(e).toMatchObject({ status: 401, code: "unauthorized", retryable: false });
    } finally {
      await wrong.close();
    }
  });

  it("a reply that breaks the contract is an invalid_response error, not a crash later", async () => {
    const liar = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "v1", name: "v", sizeBytes: "lots" }));
    });
    await new Promise<void>((r) => liar.listen(0, "127.0.0.1", r));
    const c = createStorageClient({ url: `http://127.0.0.1:${(liar.address() as AddressInfo).port}`, token: "t" });
    try {
      const e = await caught(c.getVolume("v1"));
      expect(e.code).toBe("invalid_response");
      expect(e.message).toContain("does not match the API");
    } finally {
      await c.close();
      liar.closeAllConnections();
      await new Promise((r) => liar.close(r));
    }
  });
});

describe("retries", () => {
  it("retries idempotent calls through injected 5xx", async () => {
    const { lp } = await pools();
    await setFaults(svc.url, svc.token, { failNext: 3 });
    const got = await client.getLogicalPool(lp.id);
    expect(got.id).toBe(lp.id);
    await setFaults(svc.url, svc.token, { failNext: 4 });
    // retries: 3 means 4 attempts at most; the 4th injected failure exhausts them.
    const e = await caught(client.getLogicalPool(lp.id));
    expect(e).toMatchObject({ status: 503, code: "injected_fault", retryable: true });
  });

  it("does not retry a create without an idempotency key, and retries one with a key", async () => {
    const { lp } = await pools();
    await setFaults(svc.url, svc.token, { failNext: 1 });
    const e = await caught(client.createVolume({ name: "unkeyed", logicalPoolId: lp.id, sizeBytes: GiB }));
    expect(e.status).toBe(503);
    expect((await client.listVolumes({ logicalPoolId: lp.id })).items).toHaveLength(0);

    await setFaults(svc.url, svc.token, { failNext: 2 });
    const v = await client.createVolume({ name: "keyed", logicalPoolId: lp.id, sizeBytes: GiB }, { idempotencyKey: "wf-42-step-2" });
    expect(v.name).toBe("keyed");
  });

  it("a keyed create whose reply was lost is retried into the same object, not a duplicate", async () => {
    const { lp } = await pools();
    const image = await client.createVolume({ name: "img", logicalPoolId: lp.id, sizeBytes: GiB });
    const snap = await client.createSnapshot({ volumeId: image.id, name: "s" });
    await setFaults(svc.url, svc.token, { failNext: 1, phase: "response" });
    const clone = await client.cloneVolume({ name: "vm-boot", sourceSnapshotId: snap.id }, { idempotencyKey: "provision-vm-7-clone" });
    const clones = await client.listVolumes({ sourceSnapshotId: snap.id });
    expect(clones.items.map((c) => c.id)).toEqual([clone.id]);
  });

  it("a DELETE whose first reply was lost resolves even though the retry finds it gone", async () => {
    const { lp } = await pools();
    const v = await client.createVolume({ name: "gone", logicalPoolId: lp.id, sizeBytes: GiB });
    await setFaults(svc.url, svc.token, { failNext: 1, phase: "response" });
    await client.deleteVolume(v.id);
    expect((await caught(client.getVolume(v.id))).status).toBe(404);
  });
});

describe("timeouts and unreachable services", () => {
  it("times out a slow reply with code timeout", async () => {
    await setFaults(svc.url, svc.token, { latencyMs: 400 });
    const impatient = createStorageClient({ url: svc.url, token: svc.token, timeoutMs: 100, retries: 0 });
    try {
      const e = await caught(impatient.listNodes());
      expect(e).toMatchObject({ status: 0, code: "timeout", retryable: true });
      expect(e.message).toContain("100 ms");
    } finally {
      await impatient.close();
    }
    await setFaults(svc.url, svc.token, {});
  });

  it("reports a service that is down as network_error after bounded retries", async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const c = createStorageClient({ url: `http://127.0.0.1:${port}`, token: "t", retries: 2, retryBaseDelayMs: 5 });
    try {
      const e = await caught(c.listVolumes());
      expect(e).toMatchObject({ status: 0, code: "network_error" });
      expect(e.message).toContain(`127.0.0.1:${port}`);
    } finally {
      await c.close();
    }
  });
});
