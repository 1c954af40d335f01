// Which storage service Anvil talks to: ONE service, configured by ANVIL_STORAGE_URL + ANVIL_STORAGE_TOKEN
// (optionally ANVIL_STORAGE_POOL: the logical pool, by name or id, tenant volumes and images go to).
// The client is cached on globalThis so Next's module reloading and every router share one connection pool;
// it is rebuilt when the configuration changes (tests point it at their own in-process service).
import { TRPCError } from "@trpc/server";
import { createStorageClient, type StorageClient } from "@/server/drivers/storage/client";

interface Cached {
  key: string;
  client: StorageClient;
}
const g = globalThis as typeof globalThis & { __anvilStorage?: Cached };

export interface StorageConfig {
  url: string;
  token: string;
  pool?: string;
}

export function storageConfig(): StorageConfig | null {
  const url = process.env.ANVIL_STORAGE_URL?.trim();
  if (!url) return null;
  return { url, token: process.env.ANVIL_STORAGE_TOKEN?.trim() ?? "", pool: process.env.ANVIL_STORAGE_POOL?.trim() || undefined };
}

/** The storage client, or PRECONDITION_FAILED telling the operator how to configure one. */
export function getStorage(): StorageClient {
  const cfg = storageConfig();
  if (!cfg) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: "No storage service is configured: set ANVIL_STORAGE_URL (and ANVIL_STORAGE_TOKEN) for the Anvil server and restart it.",
    });
  }
  const key = `${cfg.url}\n${cfg.token}`;
  if (g.__anvilStorage?.key === key) return g.__anvilStorage.client;
  const old = g.__anvilStorage;
  let client: StorageClient;
  try {
    client = createStorageClient({ url: cfg.url, token: cfg.token });
  } catch (e) {
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: `ANVIL_STORAGE_URL is not usable: ${(e as Error).message}` });
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
