// Which storage Anvil talks to: ONE backend, configured by environment.
// - The storage service over HTTP (the default): ANVIL_STORAGE_URL + ANVIL_STORAGE_TOKEN.
// - Ceph RBD: ANVIL_STORAGE=ceph with ANVIL_CEPH_MON (monitor address(es)), ANVIL_CEPH_USER (cephx id, e.g. admin or
//   anvil), ANVIL_CEPH_KEYRING (path), optional ANVIL_CEPH_NETNS (the real lab's network namespace file).
// Either way ANVIL_STORAGE_POOL optionally names the logical pool (name or id) tenant volumes and images go to.
// The client is cached on globalThis so Next's module reloading and every router share one client;
// it is rebuilt when the configuration changes (tests point it at their own in-process service).
import { TRPCError } from "@trpc/server";
import { createCephStorageClient } from "@/server/drivers/storage/ceph";
import { createStorageClient, type StorageClient } from "@/server/drivers/storage/client";

interface Cached {
  key: string;
  client: StorageClient;
}
const g = globalThis as typeof globalThis & { __anvilStorage?: Cached };

export type StorageConfig =
  | { kind: "http"; url: string; token: string; pool?: string }
  | { kind: "ceph"; mon: string; user: string; keyring: string; netns?: string; pool?: string };

const env = (name: string) => process.env[name]?.trim() || undefined;

export function storageConfig(): StorageConfig | null {
  const pool = env("ANVIL_STORAGE_POOL") ?? env("ANVIL_CEPH_POOL");
  if (env("ANVIL_STORAGE") === "ceph") {
    const missing = ["ANVIL_CEPH_MON", "ANVIL_CEPH_USER", "ANVIL_CEPH_KEYRING"].filter((n) => !env(n));
    if (missing.length > 0) {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: `ANVIL_STORAGE=ceph needs ${missing.join(", ")}: set them for the Anvil server and restart it.`,
      });
    }
    return {
      kind: "ceph",
      mon: env("ANVIL_CEPH_MON")!,
      user: env("ANVIL_CEPH_USER")!,
      keyring: env("ANVIL_CEPH_KEYRING")!,
      netns: env("ANVIL_CEPH_NETNS"),
      pool,
    };
  }
  const url = env("ANVIL_STORAGE_URL");
  if (!url) return null;
  return { kind: "http", url, token: env("ANVIL_STORAGE_TOKEN") ?? "", pool };
}

/** The storage namespace a tenant's volumes live in (Ceph: a RADOS namespace; the HTTP service ignores it). */
export const tenantNamespace = (tenantId: string) => `tenant-${tenantId}`;
/** The namespace image volumes (and their golden snapshots) live in; tenants' clones of them cross into their own. */
export const IMAGES_NAMESPACE = "images";

/** How DPUs attach this backend's volumes: NVMe/TCP targets of the storage service, or RBD images of Ceph. */
export function attachProtocol(): "nvme-tcp" | "rbd" {
  return storageConfig()?.kind === "ceph" ? "rbd" : "nvme-tcp";
}

/**
 * Monitor addresses as the agent takes them (host:port each) from a Ceph mon setting: "a:3300,b:3300", or the
 * messenger form "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]" (the v2 address is kept; a bare host gets 3300).
 */
export function cephMonitors(mon: string): string[] {
  const out: string[] = [];
  for (const group of mon.split(/[\s;]+|,(?![^[]*\])/).filter(Boolean)) {
    const addrs = group
      .replace(/^\[|\]$/g, "")
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    const v2 = addrs.find((a) => a.startsWith("v2:")) ?? addrs.find((a) => !a.startsWith("v1:")) ?? addrs[0];
    if (v2) out.push(v2.replace(/^v[12]:/, "").replace(/\/\d+$/, ""));
  }
  return [...new Set(out)];
}

/** The storage client, or PRECONDITION_FAILED telling the operator how to configure one. */
export function getStorage(): StorageClient {
  const cfg = storageConfig();
  if (!cfg) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message:
        "No storage service is configured: set ANVIL_STORAGE_URL (and ANVIL_STORAGE_TOKEN), or ANVIL_STORAGE=ceph with ANVIL_CEPH_MON, ANVIL_CEPH_USER and ANVIL_CEPH_KEYRING, for the Anvil server and restart it.",
    });
  }
  const key = cfg.kind === "http" ? `${cfg.url}\n${cfg.token}` : `ceph\n${cfg.mon}\n${cfg.user}\n${cfg.keyring}\n${cfg.netns ?? ""}`;
  if (g.__anvilStorage?.key === key) return g.__anvilStorage.client;
  const old = g.__anvilStorage;
  let client: StorageClient;
  try {
    client = cfg.kind === "http" ? createStorageClient({ url: cfg.url, token: cfg.token }) : createCephStorageClient(cfg);
  } catch (e) {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: `The storage configuration is not usable: ${(e as Error).message}` });
  }
  g.__anvilStorage = { key, client };
  if (old) void old.client.close().catch(() => {});
  return client;
}

/** The logical pool new tenant volumes and images go to: ANVIL_STORAGE_POOL (name or id), else "default", else the first. */
export async function defaultLogicalPoolId(): Promise<string> {
  const storage = getStorage();
  const want = storageConfig()?.pool;
  const pools = [];
  for await (const p of storage.listAll(storage.listLogicalPools)) pools.push(p);
  const pick = want ? pools.find((p) => p.id === want || p.name === want) : (pools.find((p) => p.name === "default") ?? pools[0]);
  if (!pick) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: want
        ? `The storage service has no logical pool "${want}" (ANVIL_STORAGE_POOL); create it under Storage or fix the setting.`
        : "The storage service has no logical pool yet; an operator must create a disk pool and a logical pool under Storage first.",
    });
  }
  return pick.id;
}
