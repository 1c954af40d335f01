// The operations endpoints and the HTTP latency metric, wired where requests arrive (server.ts):
//   instrumentHttp(server)   times every request the server receives (anvil_http_request_duration_seconds),
//                            refused ones included, from arrival to the last byte sent
//   handleOpsRequest         answers these before the application (no auth, no Next rendering):
//     GET /healthz   the process is up: 200 {"status":"ok"}
//     GET /readyz    ready for traffic: the database answers `select 1` within READY_TIMEOUT_MS and the workflow
//                    engine is launched (or, in an enqueue-only process, its client); otherwise 503 with the reason
//     GET /metrics   Prometheus text (server/lib/metrics.ts), only to loopback callers or with
//                    `Authorization: Bearer $ANVIL_METRICS_TOKEN`
// See docs/operations.md.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type pg from "pg";
import { getPool } from "@/db/client";
import { initMetrics, observeHttp, renderMetrics, routeGroup, statusClass } from "./metrics";

export const READY_TIMEOUT_MS = 2000;

/**
 * Starts a timer for each request `server` receives, ahead of its other listeners, observed when the response is
 * done (or the client went away: status class "aborted").
 */
export function instrumentHttp(server: Server) {
  initMetrics();
  const time = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const route = routeGroup(pathOf(req.url));
    res.once("close", () => observeHttp(route, res.writableFinished ? statusClass(res.statusCode) : "aborted", (performance.now() - started) / 1000));
  };
  server.prependListener("request", time);
  // Only when someone handles "Expect: 100-continue" already: a listener here would otherwise stop Node's automatic reply.
  if (server.listenerCount("checkContinue") > 0) server.prependListener("checkContinue", time);
}

/** Answers /healthz, /readyz and /metrics; returns true when it did (the caller must then leave the request alone). */
export function handleOpsRequest(req: IncomingMessage, res: ServerResponse): boolean {
  const pathname = pathOf(req.url);
  if (pathname !== "/healthz" && pathname !== "/readyz" && pathname !== "/metrics") return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, { status: "error", reason: `${pathname} answers GET only` }, { allow: "GET, HEAD" });
    return true;
  }
  if (pathname === "/healthz") send(res, 200, { status: "ok" });
  else if (pathname === "/readyz")
    void readiness().then(
      (r) => send(res, r.ready ? 200 : 503, r.body),
      (e: unknown) => send(res, 503, { status: "unavailable", reason: `readiness check failed: ${(e as Error).message}` }),
    );
  else serveMetrics(req, res);
  return true;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
  res.end(JSON.stringify(body));
}

export interface Readiness {
  ready: boolean;
  body: { status: "ok" | "unavailable"; reason?: string; checks: { database: string; engine: string } };
}

/** The /readyz answer. `pool` is the process's pool unless given (tests point it at a database that does not answer). */
export async function readiness(opts: { pool?: pg.Pool; timeoutMs?: number } = {}): Promise<Readiness> {
  const timeoutMs = opts.timeoutMs ?? READY_TIMEOUT_MS;
  let database = "ok";
  try {
    const pool = opts.pool ?? getPool();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      pool.query("select 1"),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to select 1 within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (e) {
    database = `unreachable: ${(e as Error).message}`;
  }
  // engine.ts and engine-client.ts both install the process's engine on globalThis; stopEngine removes it, so a
  // replica shutting down stops being ready before it stops serving.
  const engine = (globalThis as { __anvilEngine?: unknown }).__anvilEngine ? "ok" : "not launched";
  // A lab that Anvil starts beside itself (ANVIL_LAB; the real lab takes a minute or more) is part of being ready.
  const starting = (globalThis as { __anvilLabStarting?: boolean }).__anvilLabStarting;
  const checks = { database, engine, ...(starting !== undefined ? { lab: starting ? "starting" : "ok" } : {}) };
  const problems = [database !== "ok" && `database ${database}`, engine !== "ok" && `workflow engine ${engine}`, starting && "lab starting"].filter(Boolean);
  return problems.length
    ? { ready: false, body: { status: "unavailable", reason: problems.join("; "), checks } }
    : { ready: true, body: { status: "ok", checks } };
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
/** Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever the socket says. */
const FORWARDED = ["forwarded", "x-forwarded-for", "x-real-ip"];

/**
 * Who may read /metrics: a caller on this machine talking to us directly (loopback peer, no proxy headers — a
 * reverse proxy on the same host makes every request look local, so a forwarded one never counts as local), or
 * anyone presenting ANVIL_METRICS_TOKEN as a Bearer token when that is set.
 */
export function metricsAccess(req: IncomingMessage): "ok" | "unauthorized" | "forbidden" {
  const token = process.env.ANVIL_METRICS_TOKEN;
  const auth = req.headers.authorization;
  if (token && auth?.startsWith("Bearer ")) return sameSecret(auth.slice(7).trim(), token) ? "ok" : "unauthorized";
  const local = LOOPBACK.test(req.socket.remoteAddress ?? "") && !FORWARDED.some((h) => req.headers[h] !== undefined);
  if (local) return "ok";
  return token ? "unauthorized" : "forbidden";
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function serveMetrics(req: IncomingMessage, res: ServerResponse) {
  const access = metricsAccess(req);
  if (access === "unauthorized") {
    send(
      res,
      401,
      { status: "error", reason: "metrics need Authorization: Bearer <ANVIL_METRICS_TOKEN>" },
      { "www-authenticate": 'Bearer realm="anvil-metrics"' },
    );
    return;
  }
  if (access === "forbidden") {
    send(res, 403, { status: "error", reason: "metrics are served to this machine only (set ANVIL_METRICS_TOKEN to scrape from elsewhere)" });
    return;
  }
  renderMetrics().then(
    ({ contentType, body }) => {
      if (res.headersSent) return;
      res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    },
    (e: unknown) => send(res, 500, { status: "error", reason: `metrics could not be collected: ${(e as Error).message}` }),
  );
}
