// Programmatic entry of the lab's distributed-storage service: generates the storage nodes and disks,
// optionally a default disk pool + logical pool, and serves the REST API (see openapi.yaml) on loopback.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { LayerStore } from "./data";
import type { AddressInfo } from "node:net";
import { type Media, StorageModel } from "./model";
import { createStorageHttpServer, latencyProfile, type StorageOperation } from "./server";

export { ApiError, IQN_PREFIX, NQN_PREFIX, type Redundancy } from "./model";
export { STORAGE_OPERATIONS, type StorageOperation } from "./server";

/** Data dirs this process made and still holds: removed at exit too, for services never closed (shared in tests). */
const ownDataDirs = new Set<string>();
let exitHook = false;
function holdDataDir(dir: string): void {
  ownDataDirs.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const d of ownDataDirs) rmSync(d, { recursive: true, force: true });
  });
}

export interface StorageServiceOptions {
  /** Loopback address to bind; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Bearer token clients must send; default: a random one (returned by startStorageService). */
  token?: string;
  /** Storage nodes generated at start; default 4. */
  nodes?: number;
  /** Physical disks per node; default 6. */
  disksPerNode?: number;
  /** Size of each disk; default 3.84 TB. */
  diskSizeBytes?: number;
  /** Media of the generated disks; default nvme. */
  media?: Media;
  /** "zero" (default) answers at once; "realistic" makes a clone take ~1 s and other operations ~50 ms. */
  latency?: "zero" | "realistic";
  /** Per-operation overrides on top of the profile, in milliseconds. */
  latencyMs?: Partial<Record<StorageOperation, number>>;
  /** Address and ports advertised in targets (the data plane is emulated; nothing listens there). */
  targetAddress?: string;
  nvmePort?: number;
  iscsiPort?: number;
  /** Create disk pool "default" from all disks and a thin 3-way-replica logical pool "default" (overcommit 4). */
  defaultPools?: boolean;
  /** With defaultPools: this many disks (the last ones) stay out of the default disk pool, unassigned, for an
   *  operator to group into a disk pool of their own. Default 0. */
  spareDisks?: number;
  /** Directory for volume bytes (sparse files, one per written layer); default a temp dir removed at close. */
  dataDir?: string;
  /** Where internal errors are reported; default console.error. */
  log?: (msg: string) => void;
}

export interface StorageService {
  url: string;
  token: string;
  /** Where the volume bytes are kept. */
  dataDir: string;
  close(): Promise<void>;
}

export async function startStorageService(opts: StorageServiceOptions = {}): Promise<StorageService> {
  const positiveInt = (v: number | undefined, name: string, dflt: number) => {
    const n = v ?? dflt;
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`startStorageService: ${name} must be a positive integer, got ${v}`);
    return n;
  };
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), "anvil-storage-data-"));
  if (ownDataDir) holdDataDir(dataDir);
  else mkdirSync(dataDir, { recursive: true });
  const model = new StorageModel(
    {
      nodes: positiveInt(opts.nodes, "nodes", 4),
      disksPerNode: positiveInt(opts.disksPerNode, "disksPerNode", 6),
      diskSizeBytes: positiveInt(opts.diskSizeBytes, "diskSizeBytes", 3_840_000_000_000),
      media: opts.media ?? "nvme",
      targetAddress: opts.targetAddress ?? "127.0.0.1",
      nvmePort: opts.nvmePort ?? 4420,
      iscsiPort: opts.iscsiPort ?? 3260,
    },
    new LayerStore(dataDir),
  );
  if (opts.defaultPools) {
    const all = model.listDisks({ limit: 1_000_000 }).items.map((d) => d.id);
    const disks = all.slice(0, Math.max(1, all.length - (opts.spareDisks ?? 0)));
    const dp = model.createDiskPool({ name: "default", diskIds: disks });
    const copies = Math.min(3, disks.length);
    model.createLogicalPool({ name: "default", diskPoolId: dp.id, redundancy: { type: "replica", copies }, thinProvisioned: true, overcommitRatio: 4 });
  }
  const latencyMs = { ...latencyProfile(opts.latency ?? "zero"), ...opts.latencyMs };
  const token = opts.token ?? randomBytes(24).toString("base64url");
  const server = createStorageHttpServer(model, { token, latencyMs, log: opts.log ?? ((m) => console.error(m)) });
  server.keepAliveTimeout = 5_000;
  const host = opts.host ?? "127.0.0.1";
  const dropData = () => {
    if (!ownDataDir) return;
    rmSync(dataDir, { recursive: true, force: true });
    ownDataDirs.delete(dataDir);
  };
  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => {
      dropData();
      reject(e);
    };
    server.once("error", failed);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    token,
    dataDir,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => {
          dropData();
          if (e) reject(e);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
