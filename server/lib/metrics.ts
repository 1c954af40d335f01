// Prometheus metrics (served at /metrics by server/lib/ops-http.ts): one prom-client registry per process, kept on
// globalThis because Next bundles its own copy of this module into the route handlers (the tRPC middleware records
// from there) while server.ts serves /metrics from the tsx copy — both must write into the same registry.
//
// Labels are bounded by construction: route groups, procedure paths, result codes, workflow names, step names with
// ids taken out, queue names, shard numbers, error codes. Never an id, a resource or person's name, or anything
// that says which tenant a request was for. docs/operations.md lists every series.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { getPool } from "@/db/client";

/** What the console proxy of this process reports (server/console/register.ts installs the reader). */
export interface ConsoleCounts {
  sessions: number;
  viewers: number;
}

interface MetricsState {
  registry: Registry;
  http: Histogram<"route" | "status_class">;
  trpc: Histogram<"procedure" | "code">;
  workflowStarted: Counter<"workflow">;
  workflowEnded: Counter<"workflow" | "outcome">;
  stepDuration: Histogram<"workflow" | "step" | "outcome">;
  stepFailures: Counter<"workflow" | "step">;
  bmcSyncFailures: Counter<"reason">;
  bmcSyncPolls: Counter;
  /** Unix ms of the last completed pass over each shard, in this process. */
  bmcSyncDone: Map<number, number>;
  consoleSource: (() => ConsoleCounts) | null;
  collectErrors: Counter<"collector">;
  /** The cached queue query (shared by concurrent scrapes). */
  queueCache: { at: number; rows: Promise<QueueRow[]> } | null;
}

interface QueueRow {
  queue_name: string;
  status: string;
  depth: string;
  oldest_ms: string | null;
  now_ms: string;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** How long one database read for /metrics may take, and how long its answer is reused (ANVIL_METRICS_CACHE_MS). */
const DB_TIMEOUT_MS = 2000;
const cacheMs = () => {
  const v = Number(process.env.ANVIL_METRICS_CACHE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 5000;
};

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function create(): MetricsState {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const state: MetricsState = {
    registry,
    http: new Histogram({
      name: "anvil_http_request_duration_seconds",
      help: "HTTP requests by route group and status class (2xx…5xx, aborted), from arrival to the last byte sent.",
      labelNames: ["route", "status_class"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    trpc: new Histogram({
      name: "anvil_trpc_request_duration_seconds",
      help: "tRPC procedure calls by procedure path and result code (OK or the tRPC error code).",
      labelNames: ["procedure", "code"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    workflowStarted: new Counter({
      name: "anvil_workflow_runs_started_total",
      help: "Workflow runs started in this process (a recovered run counts again).",
      labelNames: ["workflow"],
      registers: [registry],
    }),
    workflowEnded: new Counter({
      name: "anvil_workflow_runs_ended_total",
      help: "Workflow runs ended in this process, by outcome (success, failure, cancelled).",
      labelNames: ["workflow", "outcome"],
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: "anvil_workflow_step_duration_seconds",
      help: "Workflow step bodies run in this process (each attempt; a step replayed from its checkpoint is not run), by outcome.",
      labelNames: ["workflow", "step", "outcome"],
      buckets: STEP_BUCKETS,
      registers: [registry],
    }),
    stepFailures: new Counter({
      name: "anvil_workflow_step_failures_total",
      help: "Workflow step attempts that threw, by workflow and step.",
      labelNames: ["workflow", "step"],
      registers: [registry],
    }),
    bmcSyncFailures: new Counter({
      name: "anvil_bmc_sync_failures_total",
      help: "Power/health sync failures: one BMC poll that failed (reason = the BMC error code) or a whole shard pass (reason = shard).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    bmcSyncPolls: new Counter({
      name: "anvil_bmc_sync_polls_total",
      help: "Nodes polled by completed power/health sync passes in this process.",
      registers: [registry],
    }),
    bmcSyncDone: new Map(),
    consoleSource: null,
    collectErrors: new Counter({
      name: "anvil_metrics_collect_errors_total",
      help: "Reads for /metrics that failed (the series they feed are left out of that scrape).",
      labelNames: ["collector"],
      registers: [registry],
    }),
    queueCache: null,
  };

  new Gauge({
    name: "anvil_bmc_sync_last_success_timestamp_seconds",
    help: "When this process last completed a power/health sync pass over the shard (Unix time).",
    labelNames: ["shard"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [shard, at] of state.bmcSyncDone) this.set({ shard: String(shard) }, at / 1000);
    },
  });
  new Gauge({
    name: "anvil_bmc_sync_lag_seconds",
    help: "Seconds since this process last completed a power/health sync pass over the shard (min over replicas is the fleet's lag).",
    labelNames: ["shard"],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const [shard, at] of state.bmcSyncDone) this.set({ shard: String(shard) }, (now - at) / 1000);
    },
  });

  const consoleGauge = (name: string, help: string, pick: (c: ConsoleCounts) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const c = state.consoleSource?.();
        if (c) this.set(pick(c));
      },
    });
  consoleGauge("anvil_console_sessions", "Serial console sessions (one upstream BMC connection each) open in this process.", (c) => c.sessions);
  consoleGauge("anvil_console_viewers", "Serial console viewers (browser WebSockets) connected to this process.", (c) => c.viewers);

  new Gauge({
    name: "anvil_db_pool_connections",
    help: "Connections of this process's Postgres pool, by state (busy, idle).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      this.reset();
      const pool = poolIfConfigured();
      if (!pool) return;
      this.set({ state: "idle" }, pool.idleCount);
      this.set({ state: "busy" }, pool.totalCount - pool.idleCount);
    },
  });
  new Gauge({
    name: "anvil_db_pool_waiting",
    help: "Queries of this process waiting for a free Postgres pool connection.",
    registers: [registry],
    collect() {
      this.reset();
      const pool = poolIfConfigured();
      if (pool) this.set(pool.waitingCount);
    },
  });
  new Gauge({
    name: "anvil_db_pool_max",
    help: "Size limit of this process's Postgres pool (ANVIL_DB_POOL).",
    registers: [registry],
    collect() {
      this.reset();
      const pool = poolIfConfigured();
      if (pool) this.set(pool.options.max ?? 10);
    },
  });

  new Gauge({
    name: "anvil_queue_depth",
    help: "Workflows on each workflow queue (shared by all replicas), by status: enqueued (waiting) or pending (running).",
    labelNames: ["queue", "status"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await queueRows(state)) this.set({ queue: r.queue_name, status: r.status.toLowerCase() }, Number(r.depth));
    },
  });
  new Gauge({
    name: "anvil_queue_oldest_age_seconds",
    help: "Age of the oldest workflow on each queue, by status (enqueued, pending).",
    labelNames: ["queue", "status"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await queueRows(state))
        if (r.oldest_ms !== null)
          this.set({ queue: r.queue_name, status: r.status.toLowerCase() }, Math.max(0, (Number(r.now_ms) - Number(r.oldest_ms)) / 1000));
    },
  });
  return state;
}

function poolIfConfigured() {
  return process.env.DATABASE_URL ? getPool() : null;
}

/**
 * DBOS's queue table, read once per cache period whatever the number of scrapers (both queue gauges share the read):
 * one statement on the partial index DBOS keeps for in-flight rows (idx_workflow_status_in_flight), bounded by a
 * timeout. A failed read leaves the queue series out of that scrape and is counted.
 */
async function queueRows(state: MetricsState): Promise<QueueRow[]> {
  const pool = poolIfConfigured();
  if (!pool) return [];
  const now = Date.now();
  let entry = state.queueCache;
  if (!entry || now - entry.at > cacheMs()) {
    const rows = withTimeout(
      pool.query<QueueRow>(`
        select queue_name, status, count(*) as depth, min(created_at) as oldest_ms,
               (extract(epoch from clock_timestamp()) * 1000)::bigint as now_ms
        from dbos.workflow_status
        where status in ('ENQUEUED', 'PENDING') and queue_name is not null
        group by queue_name, status`),
      DB_TIMEOUT_MS,
      "the queue depth query",
    ).then((r) => r.rows);
    const fresh = { at: now, rows };
    state.queueCache = entry = fresh;
    rows.catch(() => {
      state.collectErrors.inc({ collector: "queues" });
      // Not kept: the next scrape tries again.
      if (state.queueCache === fresh) state.queueCache = null;
    });
  }
  return entry.rows.catch(() => []);
}

const g = globalThis as unknown as { __anvilMetrics?: MetricsState };

function metrics(): MetricsState {
  g.__anvilMetrics ??= create();
  return g.__anvilMetrics;
}

/**
 * Creates this process's registry now (server.ts does, through instrumentHttp, before serving), so that it belongs to
 * server.ts's copy of this module rather than to whichever copy records first (Next's, for a tRPC call): both would
 * work, sharing it through globalThis, but the process metrics should start with the process.
 */
export function initMetrics() {
  metrics();
}

/** The Prometheus text exposition of this process's registry, with its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** The bounded `route` label of an HTTP request path (without its query string). */
export function routeGroup(pathname: string): string {
  if (pathname === "/healthz" || pathname === "/readyz") return "health";
  if (pathname === "/metrics") return "metrics";
  if (pathname.startsWith("/api/trpc/")) return "trpc";
  if (pathname.startsWith("/api/auth/")) return "auth";
  if (pathname === "/api/images/upload") return "upload";
  if (pathname.startsWith("/api/console/")) return "console";
  if (pathname.startsWith("/api/v1/")) return "rest";
  if (pathname.startsWith("/api/")) return "api";
  if (pathname.startsWith("/_next/")) return "assets";
  if (pathname === "/ops" || pathname.startsWith("/ops/")) return "ops-pages";
  if (pathname.startsWith("/t/")) return "tenant-pages";
  if (pathname === "/" || /^\/(login|account|no-access)(\/|$)/.test(pathname)) return "pages";
  return "other";
}

/** "2xx".."5xx" for a status code. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other";
}

export function observeHttp(route: string, status: string, seconds: number) {
  metrics().http.observe({ route, status_class: status }, seconds);
}

/** One tRPC call: `code` is "OK" or the tRPC error code; `procedure` is the router path (bounded by the router). */
export function observeTrpc(procedure: string, code: string, seconds: number) {
  metrics().trpc.observe({ procedure, code }, seconds);
}

/**
 * A step's name as a label: ids some steps carry ("prepare recovery <uuid>") become ":id", long digit runs ":n",
 * and the length is capped, so a new step with an id in its name cannot grow the series without bound.
 */
export function stepLabel(name: string): string {
  return name
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, ":id")
    .replace(/\b[0-9a-f]{12,}\b/gi, ":id")
    .replace(/\d{4,}/g, ":n")
    .slice(0, 64);
}

export function workflowStarted(workflow: string) {
  metrics().workflowStarted.inc({ workflow });
}

export function workflowEnded(workflow: string, outcome: "success" | "failure" | "cancelled") {
  metrics().workflowEnded.inc({ workflow, outcome });
}

export function stepEnded(workflow: string, step: string, ok: boolean, seconds: number) {
  const m = metrics();
  const labels = { workflow, step: stepLabel(step) };
  m.stepDuration.observe({ ...labels, outcome: ok ? "success" : "failure" }, seconds);
  if (!ok) m.stepFailures.inc(labels);
}

/** One BMC poll of the power/health sync failed; `reason` is the BMC error code (or "other"). */
export function bmcPollFailed(reason: string) {
  metrics().bmcSyncFailures.inc({ reason });
}

/** Runs one power/health sync pass over a shard, recording its completion (for the lag) or its failure. */
export async function observeBmcSync<R extends { polled: number }>(shard: number, pass: () => Promise<R>): Promise<R> {
  const m = metrics();
  try {
    const r = await pass();
    m.bmcSyncDone.set(shard, Date.now());
    m.bmcSyncPolls.inc(r.polled);
    return r;
  } catch (e) {
    m.bmcSyncFailures.inc({ reason: "shard" });
    throw e;
  }
}

/** Installs the reader of this process's console counts (the console proxy calls it once it exists). */
export function setConsoleSource(read: (() => ConsoleCounts) | null) {
  metrics().consoleSource = read;
}
