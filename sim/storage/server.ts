// HTTP front of the lab storage service: routing, bearer-token auth, JSON parsing and validation,
// Idempotency-Key replay, per-operation latency profile and fault injection. Built on node:http so
// the lab has no framework between the wire and the rules in model.ts.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { z } from "zod";
import { ApiError, type StorageModel } from "./model";
import * as S from "./schemas";

/** Operations the latency profile can slow down individually. */
export type StorageOperation =
  | "read"
  | "diskPool.write"
  | "logicalPool.write"
  | "volume.create"
  | "volume.clone"
  | "volume.update"
  | "volume.delete"
  | "volume.write"
  | "volume.flatten"
  | "snapshot.create"
  | "snapshot.delete"
  | "target.create"
  | "target.delete"
  | "target.connect";

export const STORAGE_OPERATIONS: readonly StorageOperation[] = [
  "read",
  "diskPool.write",
  "logicalPool.write",
  "volume.create",
  "volume.clone",
  "volume.update",
  "volume.delete",
  "volume.write",
  "volume.flatten",
  "snapshot.create",
  "snapshot.delete",
  "target.create",
  "target.delete",
  "target.connect",
];

/** "realistic": a clone costs about a second on a real array, a flatten copies data, everything else ~50 ms. */
export function latencyProfile(profile: "zero" | "realistic"): Record<StorageOperation, number> {
  const out = {} as Record<StorageOperation, number>;
  for (const op of STORAGE_OPERATIONS) out[op] = profile === "zero" ? 0 : 50;
  if (profile === "realistic") {
    out["volume.clone"] = 1000;
    out["volume.flatten"] = 2000;
  }
  return out;
}

export interface FaultState {
  /** Probability (0..1) that a /v1 request fails with 503. */
  errorRate: number;
  /** Extra delay added to every /v1 request. */
  latencyMs: number;
  /** Deterministic: the next N /v1 requests fail with 503 (tests use this to prove retries). */
  failNext: number;
  /** "request": fail before doing anything; "response": do the work, then answer 503 (a lost reply). */
  phase: "request" | "response";
}

interface Reply {
  status: number;
  body?: unknown;
  /** Binary body (application/octet-stream) of `length` bytes, streamed instead of `body`. */
  stream?: { data: Readable; length: number };
  headers?: Record<string, string>;
}

interface Ctx {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  /** The request itself: a `binary` route reads its body from here. */
  req: IncomingMessage;
}

export interface Route {
  method: string;
  segments: string[];
  /** Latency bucket; may depend on the body (a POST /volumes with sourceSnapshotId is a clone). */
  op: StorageOperation | ((body: unknown) => StorageOperation);
  handle: (ctx: Ctx) => Reply | Promise<Reply>;
  /** The body is application/octet-stream, streamed to the handler (no JSON parse, no 1 MiB limit). */
  binary?: boolean;
}

const MAX_BODY_BYTES = 1 << 20;
const MAX_IDEMPOTENCY_ENTRIES = 100_000;

function parse<T extends z.ZodType>(schema: T, value: unknown, where: "body" | "query"): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.map(String).join(".");
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const keys = (issue as { keys: string[] }).keys;
    message = `unknown ${where === "body" ? "field" : "query parameter"}(s): ${keys.join(", ")}`;
    throw new ApiError(400, "unknown_field", message, keys[0]);
  }
  throw new ApiError(400, "invalid_request", field ? `${field}: ${message}` : message, field || undefined);
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const created = (body: { id: string }, path: string): Reply => ({ status: 201, body, headers: { location: `${path}/${body.id}` } });
/** Takes the (void) result of the action so handlers read as one expression. */
const noContent = (_done: unknown): Reply => ({ status: 204 });

export function buildRoutes(m: StorageModel, faults: FaultState): Route[] {
  const routes: Route[] = [];
  const add = (method: string, path: string, op: Route["op"], handle: Route["handle"], binary?: boolean) =>
    routes.push({ method, segments: path.split("/").filter(Boolean), op, handle, binary });
  const page = <T extends z.ZodType>(schema: T, q: Record<string, string>) => {
    const v = parse(schema, q, "query") as { limit?: number };
    return { ...v, limit: v.limit ?? 100 };
  };

  add("GET", "/v1/nodes", "read", (c) => ok(m.listNodes(page(S.PageQuery, c.query))));
  add("GET", "/v1/nodes/:id", "read", (c) => ok(m.getNode(c.params.id)));
  add("GET", "/v1/disks", "read", (c) => ok(m.listDisks(page(S.DiskQuery, c.query))));
  add("GET", "/v1/disks/:id", "read", (c) => ok(m.getDisk(c.params.id)));

  add("GET", "/v1/disk-pools", "read", (c) => ok(m.listDiskPools(page(S.PageQuery, c.query))));
  add("POST", "/v1/disk-pools", "diskPool.write", (c) => created(m.createDiskPool(parse(S.CreateDiskPool, c.body, "body")), "/v1/disk-pools"));
  add("GET", "/v1/disk-pools/:id", "read", (c) => ok(m.getDiskPool(c.params.id)));
  add("PATCH", "/v1/disk-pools/:id", "diskPool.write", (c) => ok(m.updateDiskPool(c.params.id, parse(S.UpdateDiskPool, c.body, "body"))));
  add("DELETE", "/v1/disk-pools/:id", "diskPool.write", (c) => noContent(m.deleteDiskPool(c.params.id)));

  add("GET", "/v1/logical-pools", "read", (c) => ok(m.listLogicalPools(page(S.LogicalPoolQuery, c.query))));
  add("POST", "/v1/logical-pools", "logicalPool.write", (c) => created(m.createLogicalPool(parse(S.CreateLogicalPool, c.body, "body")), "/v1/logical-pools"));
  add("GET", "/v1/logical-pools/:id", "read", (c) => ok(m.getLogicalPool(c.params.id)));
  add("PATCH", "/v1/logical-pools/:id", "logicalPool.write", (c) => ok(m.updateLogicalPool(c.params.id, parse(S.UpdateLogicalPool, c.body, "body"))));
  add("DELETE", "/v1/logical-pools/:id", "logicalPool.write", (c) => noContent(m.deleteLogicalPool(c.params.id)));

  add("GET", "/v1/volumes", "read", (c) => ok(m.listVolumes(page(S.VolumeQuery, c.query))));
  add(
    "POST",
    "/v1/volumes",
    (b) => (b && typeof b === "object" && "sourceSnapshotId" in b ? "volume.clone" : "volume.create"),
    (c) => {
      const input = parse(S.CreateVolume, c.body, "body");
      const v =
        input.sourceSnapshotId !== undefined
          ? m.cloneVolume({ ...input, sourceSnapshotId: input.sourceSnapshotId })
          : m.createVolume({ ...input, logicalPoolId: input.logicalPoolId!, sizeBytes: input.sizeBytes! });
      return created(v, "/v1/volumes");
    },
  );
  add("GET", "/v1/volumes/:id", "read", (c) => ok(m.getVolume(c.params.id)));
  add("PATCH", "/v1/volumes/:id", "volume.update", (c) => ok(m.updateVolume(c.params.id, parse(S.UpdateVolume, c.body, "body"))));
  add("DELETE", "/v1/volumes/:id", "volume.delete", (c) => noContent(m.deleteVolume(c.params.id)));
  add("POST", "/v1/volumes/:id/write", "volume.write", (c) => ok(m.writeVolume(c.params.id, parse(S.WriteVolume, c.body, "body").bytes)));
  add(
    "PUT",
    "/v1/volumes/:id/data",
    "volume.write",
    async (c) => {
      const header = c.req.headers["content-length"];
      const declared = header === undefined ? undefined : Number(header);
      if (declared !== undefined && !Number.isSafeInteger(declared)) throw new ApiError(400, "invalid_request", "Content-Length is not a byte count");
      return ok(await m.writeVolumeData(c.params.id, c.req, declared));
    },
    true,
  );
  add("GET", "/v1/volumes/:id/data", "read", async (c) => {
    const { sizeBytes, stream } = await m.readVolumeData(c.params.id);
    return { status: 200, stream: { data: stream, length: sizeBytes } };
  });
  add("POST", "/v1/volumes/:id/flatten", "volume.flatten", (c) => {
    parse(S.Empty, c.body, "body");
    return ok(m.flattenVolume(c.params.id));
  });

  add("GET", "/v1/snapshots", "read", (c) => ok(m.listSnapshots(page(S.SnapshotQuery, c.query))));
  add("POST", "/v1/snapshots", "snapshot.create", (c) => created(m.createSnapshot(parse(S.CreateSnapshot, c.body, "body")), "/v1/snapshots"));
  add("GET", "/v1/snapshots/:id", "read", (c) => ok(m.getSnapshot(c.params.id)));
  add("DELETE", "/v1/snapshots/:id", "snapshot.delete", (c) => noContent(m.deleteSnapshot(c.params.id)));

  add("GET", "/v1/targets", "read", (c) => ok(m.listTargets(page(S.TargetQuery, c.query))));
  add("POST", "/v1/targets", "target.create", (c) => {
    const r = m.createTarget(parse(S.CreateTarget, c.body, "body"));
    return r.created ? created(r.target, "/v1/targets") : ok(r.target);
  });
  add("POST", "/v1/targets/connect", "target.connect", (c) => ok(m.connect(parse(S.Connect, c.body, "body"))));
  add("GET", "/v1/targets/:id", "read", (c) => ok(m.getTarget(c.params.id)));
  add("DELETE", "/v1/targets/:id", "target.delete", (c) => noContent(m.deleteTarget(c.params.id)));

  add("GET", "/admin/faults", "read", () => ok(faults));
  add("PUT", "/admin/faults", "read", (c) => {
    const f = parse(S.Faults, c.body, "body");
    // PUT replaces the fault state: omitted fields go back to "no fault".
    faults.errorRate = f.errorRate ?? 0;
    faults.latencyMs = f.latencyMs ?? 0;
    faults.failNext = f.failNext ?? 0;
    faults.phase = f.phase ?? "request";
    return ok(faults);
  });
  add("GET", "/admin/stats", "read", () => ok(m.stats()));
  return routes;
}

function match(routes: Route[], method: string, path: string): { route: Route; params: Record<string, string> } | "wrong_method" | null {
  const parts = path.split("/").filter(Boolean);
  let pathMatched = false;
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let okay = true;
    for (let i = 0; i < parts.length; i++) {
      const seg = route.segments[i];
      if (seg.startsWith(":")) params[seg.slice(1)] = decodeSegment(parts[i]);
      else if (seg !== parts[i]) {
        okay = false;
        break;
      }
    }
    if (!okay) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? "wrong_method" : null;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ApiError(400, "invalid_request", `path segment ${s} is not valid percent-encoding`);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, "body_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.stream) {
    headers["content-type"] = "application/octet-stream";
    headers["content-length"] = String(reply.stream.length);
    res.writeHead(reply.status, headers);
    pipeline(reply.stream.data, res).catch(() => res.destroy());
    return;
  }
  let payload: string | undefined;
  if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers["content-type"] = "application/json; charset=utf-8";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function errorReply(e: ApiError, extraHeaders?: Record<string, string>): Reply {
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.field) error.field = e.field;
  if (e.details) error.details = e.details;
  return { status: e.status, body: { error }, headers: extraHeaders };
}

function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  if (!header?.startsWith("Bearer ")) return false;
  const got = createHash("sha256").update(header.slice(7)).digest();
  return timingSafeEqual(got, expected);
}

export interface HttpOptions {
  token: string;
  latencyMs: Record<StorageOperation, number>;
  log?: (msg: string) => void;
}

export function createStorageHttpServer(model: StorageModel, opts: HttpOptions): Server {
  const faults: FaultState = { errorRate: 0, latencyMs: 0, failNext: 0, phase: "request" };
  const routes = buildRoutes(model, faults);
  const expected = createHash("sha256").update(opts.token).digest();
  /** method+path+key -> fingerprint of the body and the (possibly still running) first execution. */
  const idempotent = new Map<string, { fingerprint: string; reply: Promise<Reply> }>();

  async function handle(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? "/", "http://storage.invalid");
    const method = req.method ?? "GET";
    if (url.pathname === "/healthz" && method === "GET") return ok({ status: "ok" });
    if (!tokenMatches(req.headers.authorization, expected)) {
      return errorReply(new ApiError(401, "unauthorized", "missing or wrong bearer token"), { "www-authenticate": 'Bearer realm="anvil-storage"' });
    }
    const found = match(routes, method, url.pathname);
    if (found === null) throw new ApiError(404, "not_found", `no such endpoint: ${url.pathname}`);
    if (found === "wrong_method") throw new ApiError(405, "method_not_allowed", `${method} is not supported on ${url.pathname}`);
    const { route, params } = found;

    let body: unknown;
    let raw = "";
    if (route.binary) {
      const type = req.headers["content-type"];
      if (type !== "application/octet-stream") throw new ApiError(415, "unsupported_media_type", "send the bytes as application/octet-stream");
    } else if (method === "POST" || method === "PUT" || method === "PATCH") {
      const type = req.headers["content-type"];
      raw = await readBody(req);
      if (type && !type.includes("application/json")) throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
      if (raw.trim() === "") body = {};
      else {
        try {
          body = JSON.parse(raw);
        } catch (e) {
          throw new ApiError(400, "invalid_json", `request body is not valid JSON: ${(e as Error).message}`);
        }
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "invalid_json", "request body must be a JSON object");
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) {
      if (k in query) throw new ApiError(400, "invalid_request", `query parameter ${k} is repeated`, k);
      query[k] = v;
    }

    const isV1 = url.pathname.startsWith("/v1/");
    let failAfter = false;
    if (isV1) {
      await sleep(faults.latencyMs);
      const injected = faults.failNext > 0 || (faults.errorRate > 0 && Math.random() < faults.errorRate);
      if (faults.failNext > 0) faults.failNext--;
      if (injected) {
        if (faults.phase === "request") throw new ApiError(503, "injected_fault", "storage backend unavailable (injected fault)");
        failAfter = true;
      }
    }

    const op = typeof route.op === "function" ? route.op(body) : route.op;
    const run = async (): Promise<Reply> => {
      await sleep(isV1 ? opts.latencyMs[op] : 0);
      try {
        return await route.handle({ params, query, body, req });
      } catch (e) {
        if (e instanceof ApiError) return errorReply(e);
        throw e;
      }
    };

    let reply: Reply;
    const key = req.headers["idempotency-key"];
    if (method === "POST" && typeof key === "string" && key.length > 0) {
      if (key.length > 255) throw new ApiError(400, "invalid_request", "Idempotency-Key is longer than 255 characters", "Idempotency-Key");
      const scope = `${url.pathname}\n${key}`;
      const fingerprint = createHash("sha256").update(JSON.stringify(body)).digest("hex");
      const prior = idempotent.get(scope);
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          throw new ApiError(422, "idempotency_key_reused", "this Idempotency-Key was already used with a different request body", "Idempotency-Key");
        }
        const first = await prior.reply;
        reply = { ...first, headers: { ...first.headers, "idempotent-replayed": "true" } };
      } else {
        const p = run();
        idempotent.set(scope, { fingerprint, reply: p });
        try {
          reply = await p;
        } catch (e) {
          idempotent.delete(scope);
          throw e;
        }
        // Only successes are remembered: a failed create changed nothing, so a retry may run again.
        if (reply.status >= 300) idempotent.delete(scope);
        else if (idempotent.size > MAX_IDEMPOTENCY_ENTRIES) idempotent.delete(idempotent.keys().next().value!);
      }
    } else {
      reply = await run();
    }
    if (failAfter) return errorReply(new ApiError(503, "injected_fault", "storage backend unavailable after the change was applied (injected fault)"));
    return reply;
  }

  return createServer((req, res) => {
    handle(req)
      .then((reply) => send(res, reply))
      .catch((e: unknown) => {
        if (e instanceof ApiError) return send(res, errorReply(e));
        opts.log?.(`storage: internal error on ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`);
        send(res, errorReply(new ApiError(500, "internal", "internal error; see the storage service log")));
      });
  });
}
