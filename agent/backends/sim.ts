// The simulated backend for the lab: no data plane, just the timing and failure behaviour of one. It keeps no
// per-resource state of its own (the core has it), so 10,000 simulated agents fit in one process. Optional:
// realistic latencies, injected faults (rate, next-N failures, always-fail per operation) settable at run time
// through /admin/faults, and a real call to the storage service so an attach fails when the target is not
// exported to this DPU's initiator.
import { z } from "zod";
import { BackendError } from "../errors";
import { buildIso } from "../iso9660";
import type { CidataSpec, DiskSpec, NicSpec } from "../schemas";
import type { AgentBackend, BackendOp, CidataAttachment, CidataFiles, DiskAttachment, HostDevice, NicAttachment, PcieFunction } from "./types";

export const BACKEND_OPS = [
  "attachDisk",
  "detachDisk",
  "publishCidata",
  "removeCidata",
  "createNic",
  "updateNicRules",
  "deleteNic",
  "putOverlay",
  "deleteOverlay",
] as const satisfies readonly BackendOp[];

/** Milliseconds per operation. "realistic" follows what a BlueField + SPDK takes (attach of a remote volume ≈ 0.5 s). */
export const LATENCY_PROFILES = {
  zero: {
    attachDisk: 0,
    detachDisk: 0,
    publishCidata: 0,
    removeCidata: 0,
    createNic: 0,
    updateNicRules: 0,
    deleteNic: 0,
    putOverlay: 0,
    deleteOverlay: 0,
    reset: 0,
  },
  realistic: {
    attachDisk: 500,
    detachDisk: 200,
    publishCidata: 150,
    removeCidata: 50,
    createNic: 100,
    updateNicRules: 30,
    deleteNic: 60,
    putOverlay: 30,
    deleteOverlay: 30,
    reset: 200,
  },
} as const;
type Latency = Record<BackendOp | "reset", number>;

const opEnum = z.enum(BACKEND_OPS);
export const FaultsSchema = z
  .object({
    /** Probability (0..1) that any operation fails. */
    errorRate: z.number().min(0).max(1).default(0),
    /** The next N calls of an operation fail, then it recovers. */
    failNext: z.partialRecord(opEnum, z.int().min(0).max(1_000_000)).default({}),
    /** Operations that fail until this list is changed. */
    failAlways: z.array(opEnum).default([]),
    /** Switch latency profile at run time. */
    latency: z.enum(["zero", "realistic"]).optional(),
  })
  .strict();
export type Faults = z.infer<typeof FaultsSchema>;

export interface SimBackendOptions {
  latency?: "zero" | "realistic" | Partial<Latency>;
  faults?: z.input<typeof FaultsSchema>;
  /** Seed of the PRNG behind errorRate, for reproducible runs. */
  seed?: number;
  /** Storage service base URL; with storageToken, disk attach calls POST /v1/targets/connect. */
  storageUrl?: string;
  storageToken?: string;
  dpuOs?: string;
  /** The simulated DPU's underlay address (VTEP), reported in health. */
  underlayIp?: string;
  onHostDevicesChanged?: (devices: HostDevice[]) => void;
}

/** mulberry32: tiny seeded PRNG, enough for fault sampling. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

export function createSimBackend(opts: SimBackendOptions = {}): AgentBackend {
  const latencyOf = (l: SimBackendOptions["latency"]): Latency => (typeof l === "object" ? { ...LATENCY_PROFILES.zero, ...l } : LATENCY_PROFILES[l ?? "zero"]);
  let latency = latencyOf(opts.latency);
  let faults: Faults = FaultsSchema.parse(opts.faults ?? {});
  const random = prng(opts.seed ?? 1);

  async function step(op: BackendOp): Promise<void> {
    await sleep(latency[op]);
    const next = faults.failNext[op] ?? 0;
    if (next > 0) {
      faults.failNext[op] = next - 1;
      throw new BackendError("injected_fault", `simulated ${op} failure (failNext)`, 503);
    }
    if (faults.failAlways.includes(op)) throw new BackendError("injected_fault", `simulated ${op} failure (failAlways)`, 503);
    if (faults.errorRate > 0 && random() < faults.errorRate)
      throw new BackendError("injected_fault", `simulated ${op} failure (errorRate ${faults.errorRate})`, 503);
  }

  async function connectTarget(spec: DiskSpec): Promise<void> {
    // rbd volumes live in Ceph, not in the lab's storage service: nothing to connect there.
    if (!opts.storageUrl || !opts.storageToken || spec.transport === "rbd") return;
    const body = spec.transport === "nvme-tcp" ? { nqn: spec.target.nqn, initiator: spec.hostNqn } : { iqn: spec.target.iqn, initiator: spec.initiatorIqn };
    let res: Response;
    try {
      res = await fetch(new URL("/v1/targets/connect", opts.storageUrl), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${opts.storageToken}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new BackendError("storage_unreachable", `storage service at ${opts.storageUrl} is unreachable: ${(err as Error).message}`, 502);
    }
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    const text = await res.text();
    let code = "target_refused";
    let message = text.slice(0, 300) || res.statusText;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (parsed.error?.code) code = parsed.error.code;
      if (parsed.error?.message) message = parsed.error.message;
    } catch {
      // not JSON: keep the raw text
    }
    const target = "nqn" in body ? body.nqn : body.iqn;
    // 4xx from storage means "not for you / not exported": the caller must fix the export first (409).
    throw new BackendError(code, `storage refused to connect ${target} for ${body.initiator}: ${message}`, res.status >= 500 ? 502 : 409);
  }

  const blkEndpoint = (fn: PcieFunction) => `virtio-blk.pf${fn.pf}.vf${fn.vf}`;

  return {
    kind: "sim",
    dpuOs: opts.dpuOs ?? "Simulated BlueField OS (Ubuntu 22.04, aarch64)",
    async attachDisk(name: string, spec: DiskSpec, fn: PcieFunction): Promise<DiskAttachment> {
      await step("attachDisk");
      await connectTarget(spec);
      return { bdev: spec.transport === "nvme-tcp" ? `${name}n1` : name, endpoint: blkEndpoint(fn) };
    },
    async detachDisk(): Promise<void> {
      await step("detachDisk");
    },
    async publishCidata(name: string, _spec: CidataSpec, _files: CidataFiles, fn: PcieFunction): Promise<CidataAttachment> {
      await step("publishCidata");
      return { bdev: `cidata-${name}`, endpoint: blkEndpoint(fn) };
    },
    async cidataImage(_name: string, files: CidataFiles, createdAt: Date): Promise<Buffer> {
      return buildIso(
        "cidata",
        Object.entries(files).map(([n, data]) => ({ name: n, data })),
        createdAt,
      );
    },
    async removeCidata(): Promise<void> {
      await step("removeCidata");
    },
    async createNic(_name: string, _spec: NicSpec, fn: PcieFunction): Promise<NicAttachment> {
      await step("createNic");
      return { port: `pf${fn.pf}vf${fn.vf}` };
    },
    async updateNicRules(): Promise<void> {
      await step("updateNicRules");
    },
    async deleteNic(): Promise<void> {
      await step("deleteNic");
    },
    underlayIp: opts.underlayIp,
    async putOverlay(): Promise<void> {
      await step("putOverlay");
    },
    async deleteOverlay(): Promise<void> {
      await step("deleteOverlay");
    },
    async reset(): Promise<void> {
      await sleep(latency.reset);
    },
    hostDevicesChanged: opts.onHostDevicesChanged,
    admin: {
      getFaults: () => ({ ...faults, latency: Object.entries(LATENCY_PROFILES).find(([, p]) => p === latency)?.[0] ?? "custom" }),
      setFaults(input: unknown) {
        const parsed = FaultsSchema.parse(input);
        if (parsed.latency) latency = latencyOf(parsed.latency);
        faults = { ...parsed, latency: undefined };
        return this.getFaults();
      },
    },
  };
}
