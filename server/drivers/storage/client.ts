// Typed HTTP client the BFF uses to drive distributed storage (disk pools, logical pools, volumes,
// snapshots, NVMe-oF/iSCSI targets) through the storage service's REST API v1. Every call has a
// timeout; calls that are safe to repeat (reads, PUT/PATCH/DELETE, naturally convergent actions,
// and creates carrying an Idempotency-Key) are retried with exponential backoff on 5xx, 429,
// network errors and timeouts. Failures surface as StorageError with the service's code, message
// and offending field, so the UI can show something a person can act on.
// The data plane (writeVolumeData/readVolumeData) streams raw bytes (PUT/GET /v1/volumes/:id/data); qcow2 is
// converted to raw with qemu-img first (disk-file.ts), and the timeout of a write scales with its size.
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { Agent, type Dispatcher, request } from "undici";
import { errorBrand, hasBrand, setBrand } from "../../lib/brand";
import type { z } from "zod";
import { rawFileOf } from "./disk-file";
import {
  type Connection,
  ConnectionSchema,
  type Disk,
  type DiskPool,
  DiskPoolSchema,
  DiskSchema,
  ErrorBodySchema,
  HealthSchema,
  type LogicalPool,
  LogicalPoolSchema,
  type Page,
  pageOf,
  type Redundancy,
  type Snapshot,
  SnapshotSchema,
  type StorageNode,
  StorageNodeSchema,
  type Target,
  type TargetProtocol,
  TargetSchema,
  type Volume,
  VolumeSchema,
} from "./schemas";

export type {
  Connection,
  RbdTarget,
  Disk,
  DiskPool,
  LogicalPool,
  Page,
  Redundancy,
  Snapshot,
  StorageNode,
  Target,
  TargetProtocol,
  Volume,
} from "./schemas";

/**
 * A failed storage call. `status` is the HTTP status, or 0 when no reply arrived (code "timeout" or
 * "network_error"). `code`/`message`/`field` come from the service when it sent them.
 */
export class StorageError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly details?: Record<string, unknown>;
  /** True when repeating the call later may succeed (5xx, 429, no reply). */
  readonly retryable: boolean;
  constructor(init: { status: number; code: string; message: string; field?: string; details?: Record<string, unknown>; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "StorageError";
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.details = init.details;
    this.retryable = init.status === 0 || init.status === 429 || init.status >= 500;
    setBrand(this, STORAGE_ERROR);
  }
}

const STORAGE_ERROR = errorBrand("StorageError");
/** Whether `e` is a StorageError from any copy of this module (see server/lib/brand.ts). */
export function isStorageError(e: unknown): e is StorageError {
  return hasBrand(e, STORAGE_ERROR);
}

export interface StorageClientOptions {
  /** Base URL of the storage service, e.g. http://10.0.0.5:8600 (no trailing /v1). */
  url: string;
  /** Bearer token. */
  token: string;
  /** Per-attempt timeout; default 10 s. */
  timeoutMs?: number;
  /** Retries after the first attempt for retry-safe calls; default 3. */
  retries?: number;
  /** First backoff delay; doubles each retry (with jitter), capped at 5 s. Default 200 ms. */
  retryBaseDelayMs?: number;
  /** Connection pool to use; default: a keep-alive Agent owned (and closed) by the client. */
  dispatcher?: Dispatcher;
}

/** Per-call options for creates: with an idempotencyKey a create is retried safely and a repeat returns the same object. */
export interface CreateOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface PageQuery {
  cursor?: string;
  limit?: number;
}

export interface CreateDiskPoolInput {
  name: string;
  diskIds: string[];
}
export interface CreateLogicalPoolInput {
  name: string;
  diskPoolId: string;
  redundancy: Redundancy;
  thinProvisioned?: boolean;
  overcommitRatio?: number;
}
export interface CreateVolumeInput {
  name: string;
  logicalPoolId: string;
  sizeBytes: number;
  multiAttach?: boolean;
  /**
   * Tenant isolation: the backend's namespace for the volume (Ceph: a RADOS namespace, e.g. `tenant-<tenantId>`,
   * created on first use). Backends without namespaces ignore it (the HTTP client does not send it).
   */
  namespace?: string;
}
export interface CloneVolumeInput {
  name: string;
  sourceSnapshotId: string;
  /** Defaults to the snapshot's size; may be larger, never smaller. */
  sizeBytes?: number;
  multiAttach?: boolean;
  /** As in CreateVolumeInput; defaults to the source's namespace. Clones may cross namespaces. */
  namespace?: string;
}
/** The secret half of an rbd target: the cephx identity and its key. Never put it in anything listed to a browser. */
export interface TargetSecret {
  user: string;
  key: string;
}
export interface CreateTargetInput {
  volumeId: string;
  protocol: TargetProtocol;
  /** Host NQN (nvme-tcp), initiator IQN (iscsi), or who attaches (rbd: e.g. the DPU's name) allowed to connect. */
  initiator: string;
}
export type ConnectInput = { nqn: string; initiator: string } | { iqn: string; initiator: string };

export interface StorageClient {
  health(): Promise<{ status: string }>;

  listNodes(q?: PageQuery): Promise<Page<StorageNode>>;
  getNode(id: string): Promise<StorageNode>;
  listDisks(q?: PageQuery & { nodeId?: string; diskPoolId?: string; unassigned?: boolean; media?: Disk["media"] }): Promise<Page<Disk>>;
  getDisk(id: string): Promise<Disk>;

  listDiskPools(q?: PageQuery): Promise<Page<DiskPool>>;
  getDiskPool(id: string): Promise<DiskPool>;
  createDiskPool(input: CreateDiskPoolInput, opts?: CreateOptions): Promise<DiskPool>;
  updateDiskPool(id: string, patch: { name?: string }): Promise<DiskPool>;
  deleteDiskPool(id: string): Promise<void>;

  listLogicalPools(q?: PageQuery & { diskPoolId?: string }): Promise<Page<LogicalPool>>;
  getLogicalPool(id: string): Promise<LogicalPool>;
  createLogicalPool(input: CreateLogicalPoolInput, opts?: CreateOptions): Promise<LogicalPool>;
  updateLogicalPool(id: string, patch: { name?: string; overcommitRatio?: number }): Promise<LogicalPool>;
  deleteLogicalPool(id: string): Promise<void>;

  listVolumes(q?: PageQuery & { logicalPoolId?: string; sourceSnapshotId?: string; name?: string }): Promise<Page<Volume>>;
  getVolume(id: string): Promise<Volume>;
  createVolume(input: CreateVolumeInput, opts?: CreateOptions): Promise<Volume>;
  /** Thin clone of a snapshot (no data copied). */
  cloneVolume(input: CloneVolumeInput, opts?: CreateOptions): Promise<Volume>;
  updateVolume(id: string, patch: { name?: string; sizeBytes?: number }): Promise<Volume>;
  /** Grow only; a smaller size is a 400 StorageError (code shrink_not_supported). */
  resizeVolume(id: string, sizeBytes: number): Promise<Volume>;
  /** Copy the parent snapshot's data into a clone and detach it; a no-op for a volume without a parent. */
  flattenVolume(id: string): Promise<Volume>;
  deleteVolume(id: string): Promise<void>;

  listSnapshots(q?: PageQuery & { volumeId?: string }): Promise<Page<Snapshot>>;
  getSnapshot(id: string): Promise<Snapshot>;
  createSnapshot(input: { volumeId: string; name: string }, opts?: CreateOptions): Promise<Snapshot>;
  deleteSnapshot(id: string): Promise<void>;

  listTargets(q?: PageQuery & { volumeId?: string; initiator?: string; protocol?: TargetProtocol }): Promise<Page<Target>>;
  getTarget(id: string): Promise<Target>;
  /** Export a volume to one initiator; exporting again to the same initiator returns the existing target. */
  createTarget(input: CreateTargetInput, opts?: CreateOptions): Promise<Target>;
  deleteTarget(id: string): Promise<void>;
  /** Initiator login check: resolves with the namespace if `initiator` may connect, else StorageError 403. */
  connectTarget(input: ConnectInput): Promise<Connection>;
  /** The credential an attacher uses for an rbd target (cephx user + key); StorageError 400 not_supported elsewhere. */
  targetSecret(targetId: string): Promise<TargetSecret>;

  /** Data plane: writes a raw or qcow2 disk file into the volume from offset 0 (conversion done by the backend). */
  writeVolumeData(id: string, file: { path: string; format: "raw" | "qcow2" }, opts?: { signal?: AbortSignal }): Promise<Volume>;
  /** Data plane: the volume's bytes, sizeBytes long (a clone reads through to its parent). */
  readVolumeData(id: string, opts?: { signal?: AbortSignal }): Promise<import("node:stream").Readable>;

  /** Walks every page of a list call. */
  listAll<T, Q extends PageQuery>(list: (q?: Q) => Promise<Page<T>>, q?: NoInfer<Omit<Q, "cursor">>): AsyncGenerator<T>;
  close(): Promise<void>;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface Call<T extends z.ZodType | null> {
  method: Method;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  schema: T;
  /** Safe to send again after a 5xx/timeout/network error. */
  retrySafe: boolean;
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** A binary body (application/octet-stream) opened afresh for each attempt, with its length. */
  upload?: { open: () => Readable; length: number };
  /** Answer with the response body stream on success instead of parsing JSON (the caller consumes it). */
  streamReply?: boolean;
  /** Overrides the per-attempt timeout (a data write scales it with the size). */
  timeoutMs?: number;
}

/** A data write may take this long per byte on top of the base timeout (10 MiB/s, slow disks and TCG labs included). */
const DATA_MS_PER_BYTE = 1000 / (10 * 1024 * 1024);

const MAX_BACKOFF_MS = 5_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const seg = (id: string) => encodeURIComponent(id);

export function createStorageClient(options: StorageClientOptions): StorageClient {
  const base = new URL(options.url);
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`storage url must be http(s), got ${options.url}`);
  const root = options.url.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const baseDelay = options.retryBaseDelayMs ?? 200;
  const ownDispatcher = options.dispatcher ? null : new Agent({ keepAliveTimeout: 4_000, connections: 64 });
  const dispatcher = options.dispatcher ?? ownDispatcher!;

  async function attempt<T extends z.ZodType | null>(call: Call<T>): Promise<{ status: number; value: unknown; retryAfterMs?: number }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const url = `${root}${call.path}${qs.size > 0 ? `?${qs}` : ""}`;
    const limitMs = call.timeoutMs ?? timeoutMs;
    // A streamed reply may take as long as it needs while bytes keep coming (undici's bodyTimeout bounds a stall).
    const timeout = call.streamReply ? null : AbortSignal.timeout(limitMs);
    const signals = [timeout, call.signal].filter((x): x is AbortSignal => !!x);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: "application/json" };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    if (call.upload) {
      headers["content-type"] = "application/octet-stream";
      headers["content-length"] = String(call.upload.length);
    }
    if (call.idempotencyKey) headers["idempotency-key"] = call.idempotencyKey;
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(url, {
        method: call.method,
        headers,
        body: call.upload ? call.upload.open() : call.body === undefined ? undefined : JSON.stringify(call.body),
        dispatcher,
        signal,
        headersTimeout: limitMs,
        bodyTimeout: call.streamReply ? timeoutMs : limitMs,
      });
      if (call.streamReply && res.statusCode < 400) return { status: res.statusCode, value: res.body };
      text = await res.body.text();
    } catch (e) {
      if (call.signal?.aborted) throw new StorageError({ status: 0, code: "aborted", message: `storage ${call.method} ${call.path} was cancelled`, cause: e });
      if (timeout?.aborted || (e as { code?: string })?.code?.endsWith("_TIMEOUT")) {
        throw new StorageError({
          status: 0,
          code: "timeout",
          message: `storage service did not answer ${call.method} ${call.path} within ${limitMs} ms`,
          cause: e,
        });
      }
      throw new StorageError({
        status: 0,
        code: "network_error",
        message: `cannot reach the storage service at ${root}: ${(e as Error).message}`,
        cause: e,
      });
    }
    const retryAfter = Number(res.headers["retry-after"]);
    const retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined;
    if (res.statusCode >= 400) {
      let parsed: z.infer<typeof ErrorBodySchema> | undefined;
      try {
        const r = ErrorBodySchema.safeParse(JSON.parse(text));
        if (r.success) parsed = r.data;
      } catch {
        // not JSON: fall through to a generic error naming the status
      }
      const e = parsed?.error;
      const err = new StorageError({
        status: res.statusCode,
        code: e?.code ?? `http_${res.statusCode}`,
        message: e?.message ?? `storage service answered ${res.statusCode} to ${call.method} ${call.path}${text ? `: ${text.slice(0, 200)}` : ""}`,
        field: e?.field,
        details: e?.details,
      });
      return { status: res.statusCode, value: err, retryAfterMs };
    }
    if (call.schema === null || call.streamReply) return { status: res.statusCode, value: undefined };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new StorageError({ status: res.statusCode, code: "invalid_response", message: `storage service sent non-JSON to ${call.method} ${call.path}` });
    }
    const r = call.schema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new StorageError({
        status: res.statusCode,
        code: "invalid_response",
        message: `storage service reply to ${call.method} ${call.path} does not match the API: ${issue.path.join(".")}: ${issue.message}`,
      });
    }
    return { status: res.statusCode, value: r.data };
  }

  async function send<T extends z.ZodType>(call: Call<T>): Promise<z.output<T>>;
  async function send(call: Call<null>): Promise<void>;
  async function send(call: Call<z.ZodType | null>): Promise<unknown> {
    const canRetry = call.retrySafe || call.idempotencyKey !== undefined;
    for (let n = 0; ; n++) {
      let outcome: Awaited<ReturnType<typeof attempt>>;
      try {
        outcome = await attempt(call);
      } catch (e) {
        if (!isStorageError(e) || !e.retryable || e.code === "aborted" || !canRetry || n >= retries) throw e;
        await sleep(backoff(n));
        continue;
      }
      if (!isStorageError(outcome.value)) return outcome.value;
      const err = outcome.value;
      // A DELETE whose earlier attempt may have landed: "already gone" is the result we wanted.
      if (n > 0 && call.method === "DELETE" && err.status === 404) return undefined;
      if (!err.retryable || !canRetry || n >= retries) throw err;
      await sleep(Math.min(MAX_BACKOFF_MS, Math.max(backoff(n), outcome.retryAfterMs ?? 0)));
    }
  }

  function backoff(n: number): number {
    const exp = Math.min(MAX_BACKOFF_MS, baseDelay * 2 ** n);
    return exp / 2 + Math.random() * (exp / 2);
  }

  const get = <T extends z.ZodType>(path: string, schema: T, query?: Call<T>["query"]) => send({ method: "GET", path, schema, query, retrySafe: true });
  const del = (path: string) => send({ method: "DELETE", path, schema: null, retrySafe: true });
  const patch = <T extends z.ZodType>(path: string, body: unknown, schema: T) => send({ method: "PATCH", path, body, schema, retrySafe: true });
  const create = <T extends z.ZodType>(path: string, body: unknown, schema: T, opts?: CreateOptions, retrySafe = false) =>
    send({ method: "POST", path, body, schema, retrySafe, idempotencyKey: opts?.idempotencyKey, signal: opts?.signal });

  const NodePage = pageOf(StorageNodeSchema);
  const DiskPage = pageOf(DiskSchema);
  const DiskPoolPage = pageOf(DiskPoolSchema);
  const LogicalPoolPage = pageOf(LogicalPoolSchema);
  const VolumePage = pageOf(VolumeSchema);
  const SnapshotPage = pageOf(SnapshotSchema);
  const TargetPage = pageOf(TargetSchema);

  return {
    health: () => get("/healthz", HealthSchema),

    listNodes: (q = {}) => get("/v1/nodes", NodePage, { ...q }),
    getNode: (id) => get(`/v1/nodes/${seg(id)}`, StorageNodeSchema),
    listDisks: (q = {}) => get("/v1/disks", DiskPage, { ...q }),
    getDisk: (id) => get(`/v1/disks/${seg(id)}`, DiskSchema),

    listDiskPools: (q = {}) => get("/v1/disk-pools", DiskPoolPage, { ...q }),
    getDiskPool: (id) => get(`/v1/disk-pools/${seg(id)}`, DiskPoolSchema),
    createDiskPool: (input, opts) => create("/v1/disk-pools", input, DiskPoolSchema, opts),
    updateDiskPool: (id, p) => patch(`/v1/disk-pools/${seg(id)}`, p, DiskPoolSchema),
    deleteDiskPool: (id) => del(`/v1/disk-pools/${seg(id)}`),

    listLogicalPools: (q = {}) => get("/v1/logical-pools", LogicalPoolPage, { ...q }),
    getLogicalPool: (id) => get(`/v1/logical-pools/${seg(id)}`, LogicalPoolSchema),
    createLogicalPool: (input, opts) => create("/v1/logical-pools", input, LogicalPoolSchema, opts),
    updateLogicalPool: (id, p) => patch(`/v1/logical-pools/${seg(id)}`, p, LogicalPoolSchema),
    deleteLogicalPool: (id) => del(`/v1/logical-pools/${seg(id)}`),

    listVolumes: (q = {}) => get("/v1/volumes", VolumePage, { ...q }),
    getVolume: (id) => get(`/v1/volumes/${seg(id)}`, VolumeSchema),
    // The storage service's API has no namespaces: the field is dropped here, not sent (it refuses unknown fields).
    createVolume: ({ namespace: _ns, ...input }, opts) => create("/v1/volumes", input, VolumeSchema, opts),
    cloneVolume: ({ namespace: _ns, ...input }, opts) => create("/v1/volumes", input, VolumeSchema, opts),
    updateVolume: (id, p) => patch(`/v1/volumes/${seg(id)}`, p, VolumeSchema),
    resizeVolume: (id, sizeBytes) => patch(`/v1/volumes/${seg(id)}`, { sizeBytes }, VolumeSchema),
    // Flatten converges (a second flatten is a no-op), so it is safe to retry without a key.
    flattenVolume: (id) => create(`/v1/volumes/${seg(id)}/flatten`, {}, VolumeSchema, undefined, true),
    deleteVolume: (id) => del(`/v1/volumes/${seg(id)}`),

    listSnapshots: (q = {}) => get("/v1/snapshots", SnapshotPage, { ...q }),
    getSnapshot: (id) => get(`/v1/snapshots/${seg(id)}`, SnapshotSchema),
    createSnapshot: (input, opts) => create("/v1/snapshots", input, SnapshotSchema, opts),
    deleteSnapshot: (id) => del(`/v1/snapshots/${seg(id)}`),

    listTargets: (q = {}) => get("/v1/targets", TargetPage, { ...q }),
    getTarget: (id) => get(`/v1/targets/${seg(id)}`, TargetSchema),
    // Exporting to the same initiator again returns the existing target, so a retry cannot duplicate it.
    createTarget: (input, opts) => create("/v1/targets", input, TargetSchema, opts, true),
    deleteTarget: (id) => del(`/v1/targets/${seg(id)}`),
    // A login check changes nothing but a timestamp: safe to retry.
    connectTarget: (input) => create("/v1/targets/connect", input, ConnectionSchema, undefined, true),
    targetSecret: async () => {
      throw new StorageError({
        status: 400,
        code: "not_supported",
        message: "the storage service's targets (NVMe-oF/iSCSI) have no secret to hand out; targetSecret is for rbd targets",
      });
    },
    // A whole write from offset 0 converges (the same bytes again are the same volume), so it is safe to retry.
    async writeVolumeData(id, file, opts) {
      const raw = await rawFileOf(file, opts?.signal);
      try {
        // Refuse before sending gigabytes the service would refuse after reading them.
        const vol = await get(`/v1/volumes/${seg(id)}`, VolumeSchema);
        if (raw.sizeBytes > vol.sizeBytes) {
          throw new StorageError({
            status: 400,
            code: "data_too_large",
            message: `the disk is ${raw.sizeBytes} bytes; volume ${vol.name} is ${vol.sizeBytes} bytes, so grow it first`,
            field: "sizeBytes",
            details: { sizeBytes: vol.sizeBytes, dataBytes: raw.sizeBytes },
          });
        }
        return await send({
          method: "PUT",
          path: `/v1/volumes/${seg(id)}/data`,
          schema: VolumeSchema,
          retrySafe: true,
          signal: opts?.signal,
          upload: { open: () => createReadStream(raw.path), length: raw.sizeBytes },
          timeoutMs: Math.ceil(Math.max(timeoutMs, 60_000 + raw.sizeBytes * DATA_MS_PER_BYTE)),
        });
      } finally {
        await raw.cleanup();
      }
    },
    readVolumeData: (id, opts) =>
      send({
        method: "GET",
        path: `/v1/volumes/${seg(id)}/data`,
        schema: null,
        retrySafe: true,
        signal: opts?.signal,
        streamReply: true,
      }) as unknown as Promise<Readable>,

    async *listAll<T, Q extends PageQuery>(list: (q?: Q) => Promise<Page<T>>, q?: NoInfer<Omit<Q, "cursor">>) {
      let cursor: string | undefined;
      do {
        const page = await list({ ...q, cursor } as Q);
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },
    close: async () => {
      await ownDispatcher?.close();
    },
  };
}
