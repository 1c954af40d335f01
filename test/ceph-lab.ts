// A real single-node Ceph for a test file: started once in beforeAll (sim/real/ceph.ts), stopped in afterAll,
// with an admin Ceph StorageClient and a fresh RBD pool. Tests needing Ceph fail (not skip) where it is missing.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type CephLab, startCeph } from "@/sim/real/ceph";
import { type CephStorageConfig, createCephStorageClient } from "@/server/drivers/storage/ceph";
import type { StorageClient } from "@/server/drivers/storage/client";

export interface CephFixture {
  lab: CephLab;
  cfg: CephStorageConfig;
  storage: StorageClient;
  /** A logical pool (RBD pool) created for the file. */
  poolId: string;
  diskPoolId: string;
  dir: string;
}

export function useCeph(name: string): CephFixture {
  const fx = {} as CephFixture;
  beforeAll(async () => {
    fx.dir = fs.mkdtempSync(path.join(os.tmpdir(), `anvil-ceph-${name}-`));
    fx.lab = await startCeph({ dir: fx.dir, osdBytes: 4 * 2 ** 30 });
    fx.cfg = { mon: fx.lab.monAddr, user: "admin", keyring: fx.lab.adminKeyring, netns: fx.lab.netns };
    fx.storage = createCephStorageClient(fx.cfg);
    fx.diskPoolId = (await fx.storage.listDiskPools()).items[0].id;
    fx.poolId = (await fx.storage.createLogicalPool({ name: "anvil", diskPoolId: fx.diskPoolId, redundancy: { type: "replica", copies: 1 } })).id;
  }, 240_000);
  afterAll(async () => {
    await fx.lab?.stop();
    if (fx.dir) fs.rmSync(fx.dir, { recursive: true, force: true });
  }, 60_000);
  return fx;
}
