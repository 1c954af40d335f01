// Test/bench helper: a real lab storage service (sim/storage) in this process, with a "default" disk pool and
// thin logical pool, and ANVIL_STORAGE_URL/TOKEN pointed at it so getStorage() uses it.
import { pointStorageAtLab } from "@/sim/lab";
import { startStorageService, type StorageService, type StorageServiceOptions } from "@/sim/storage";

export async function startTestStorage(opts: StorageServiceOptions = {}): Promise<StorageService> {
  const svc = await startStorageService({ defaultPools: true, log: () => {}, ...opts });
  pointStorageAtLab(svc);
  return svc;
}

let shared: Promise<StorageService> | undefined;
/**
 * One service per process, started on first use (the authorization table's fixtures share it). Half the disks
 * form the "default" pools; the other half stay unassigned so disk-pool creates can succeed.
 */
export function sharedTestStorage(): Promise<StorageService> {
  shared ??= (async () => {
    const svc = await startTestStorage({ defaultPools: false, disksPerNode: 10 });
    const { getStorage } = await import("@/server/storage/backend");
    const s = getStorage();
    const disks = (await s.listDisks({ limit: 1000 })).items;
    const dp = await s.createDiskPool({ name: "default", diskIds: disks.slice(0, Math.ceil(disks.length / 2)).map((d) => d.id) });
    await s.createLogicalPool({ name: "default", diskPoolId: dp.id, redundancy: { type: "replica", copies: 2 }, thinProvisioned: true, overcommitRatio: 4 });
    return svc;
  })();
  return shared;
}
