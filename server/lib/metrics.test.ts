// Metrics and health end to end: a real HTTP server wired like server.ts (instrumentHttp + handleOpsRequest in front
// of the real tRPC route), the real workflow engine on the test Postgres, the real console proxy, and Debian's
// Prometheus scraping /metrics every second — queried through its HTTP API for the tRPC calls this test made.
// Also: /healthz, /readyz (database unreachable or silent, engine not launched), who may read /metrics
// (loopback, ANVIL_METRICS_TOKEN), workflow/step/queue/BMC-sync/console/pool series.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { DBOS } from "@dbos-inc/dbos-sdk";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as trpcRoute from "@/app/api/trpc/[trpc]/route";
import { registerConsole } from "@/server/console/register";
import { seal } from "@/server/lib/secrets";
import { defineWorkflow, getEngine, startEngine, step, stopEngine } from "@/server/workflows/engine";
import { testWorkflow } from "@/server/workflows/catalog";
import { workflows } from "@/server/workflows/registry";
import { enqueue } from "@/server/workflows/start";
import { pollNode } from "@/server/workflows/sync";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { observeBmcSync, stepLabel } from "./metrics";
import { handleOpsRequest, instrumentHttp, readiness } from "./ops-http";

const PROMETHEUS = "/usr/bin/prometheus";
const ID = "1b4e28ba-2fa1-11d2-883f-0016cb9d3f00";

// Test workflows, registered before the engine launches (as registry.ts does for the real ones).
const testOk = defineWorkflow(testWorkflow<[]>("test.metrics.ok"), async () => {
  await step("first", async () => 1);
  await step(`look up ${ID}`, async () => 2);
  return "done";
});
const testFail = defineWorkflow(testWorkflow<[]>("test.metrics.fail"), async () => {
  await step("boom", async () => {
    throw new Error("boom");
  });
});
const testWait = defineWorkflow(testWorkflow<[]>("test.metrics.wait"), async () => (await DBOS.recv<string>("go", 120)) ?? "timed out");

let fx: Fixtures;
let server: Server;
let base: string;
const stops: (() => Promise<void>)[] = [];
const db = useTestDb();

beforeAll(async () => {
  process.env.ANVIL_METRICS_CACHE_MS = "0";
  delete process.env.ANVIL_METRICS_TOKEN;
  fx = await makeFixtures(db);
  // server.ts's wiring, with the real tRPC route behind it (test/http-app.ts does the same for the whole app).
  server = createServer(async (req, res) => {
    if (handleOpsRequest(req, res)) return;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
    const response = req.method === "POST" ? await trpcRoute.POST(request) : await trpcRoute.GET(request);
    res.writeHead(response.status, { "content-type": response.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  instrumentHttp(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  for (const s of stops.reverse()) await s().catch(() => {});
  await stopEngine();
  server.closeAllConnections();
  server.close();
});

/** A free TCP port on loopback (nothing listens on it once this returns). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, "close");
  return port;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The value of one sample in Prometheus text (labels must match exactly those given, in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got =
      (m[2] ?? "")
        .match(/[a-zA-Z_]\w*="(?:[^"\\]|\\.)*"/g)
        ?.sort()
        .join(",") ?? "";
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

async function scrape(headers: Record<string, string> = {}) {
  const r = await fetch(`${base}/metrics`, { headers });
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
}

async function trpcQuery(pathName: string, input: unknown, token?: string) {
  const r = await fetch(`${base}/api/trpc/${pathName}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  await r.arrayBuffer();
  return r.status;
}

describe("health endpoints", () => {
  it("/healthz answers while the process is up; /readyz waits for the workflow engine", async () => {
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: "ok" });
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);

    const before = await fetch(`${base}/readyz`);
    expect(before.status).toBe(503);
    const why = (await before.json()) as { status: string; reason: string; checks: Record<string, string> };
    expect(why.status).toBe("unavailable");
    expect(why.checks).toEqual({ database: "ok", engine: "not launched" });
    expect(why.reason).toContain("workflow engine not launched");

    await startEngine(
      { ...workflows, workflows: [...workflows.workflows, testOk, testFail, testWait] },
      { databaseUrl: process.env.DATABASE_URL!, executorId: `metrics-${uniq()}`, schedules: false },
    );
    const after = await fetch(`${base}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ status: "ok", checks: { database: "ok", engine: "ok" } });

    // A lab Anvil starts beside itself (ANVIL_LAB) is part of being ready: not ready while it starts.
    const g = globalThis as { __anvilLabStarting?: boolean };
    g.__anvilLabStarting = true;
    try {
      const starting = await fetch(`${base}/readyz`);
      expect(starting.status).toBe(503);
      expect(await starting.json()).toMatchObject({ reason: "lab starting", checks: { database: "ok", engine: "ok", lab: "starting" } });
      g.__anvilLabStarting = false;
      expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: "ok", checks: { database: "ok", engine: "ok", lab: "ok" } });
    } finally {
      delete g.__anvilLabStarting;
    }
  }, 60_000);

  it("/readyz says the database is unreachable, or did not answer in time", async () => {
    const refused = new pg.Pool({ connectionString: `postgres://anvil:x@127.0.0.1:${await freePort()}/anvil` });
    const r = await readiness({ pool: refused });
    await refused.end();
    expect(r.ready).toBe(false);
    expect(r.body.reason).toMatch(/^database unreachable: .*ECONNREFUSED/);

    // A peer that accepts the connection and never says a word.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const quiet = new pg.Pool({ connectionString: `postgres://anvil:x@127.0.0.1:${(silent.address() as AddressInfo).port}/anvil` });
    const q = await readiness({ pool: quiet, timeoutMs: 300 });
    expect(q.ready).toBe(false);
    expect(q.body.reason).toBe("database unreachable: no answer to select 1 within 300 ms");
    for (const s of sockets) s.destroy();
    silent.close();
    await quiet.end();
  });
});

describe("/metrics", () => {
  it("is served to loopback callers, and elsewhere only with ANVIL_METRICS_TOKEN", async () => {
    const local = await scrape();
    expect(local.status).toBe(200);
    expect(local.type).toContain("text/plain");
    expect(sample(local.text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sample(local.text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);

    // Through a reverse proxy on this machine: not local, whatever the socket says.
    const proxied = { "x-forwarded-for": "203.0.113.9" };
    expect((await scrape(proxied)).status).toBe(403);
    process.env.ANVIL_METRICS_TOKEN = "s3cret-metrics-token";
    try {
      expect((await scrape(proxied)).status).toBe(401);
      expect((await scrape({ ...proxied, authorization: "Bearer wrong" })).status).toBe(401);
      const ok = await scrape({ ...proxied, authorization: "Bearer s3cret-metrics-token" });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain("anvil_http_request_duration_seconds");
    } finally {
      delete process.env.ANVIL_METRICS_TOKEN;
    }
  });

  it("counts HTTP requests by route group and status class, and tRPC calls by procedure and code", async () => {
    const token = (
      await callerAs(fx, "tenantAdmin").apiTokens.create({
        name: "metrics",
        expiresInDays: 1,
        scope: { kind: "tenant", tenant: fx.tenant.slug, role: "tenant-member" },
      })
    ).token;
    expect(await trpcQuery("members.list", { tenant: fx.tenant.slug }, token)).toBe(200);
    expect(await trpcQuery("members.list", { tenant: fx.tenant.slug })).toBe(401);
    expect(await trpcQuery("members.list", { tenant: fx.otherTenant.slug }, token)).toBe(404);

    const { text } = await scrape();
    expect(sample(text, "anvil_trpc_request_duration_seconds_count", { procedure: "members.list", code: "OK" })).toBe(1);
    expect(sample(text, "anvil_trpc_request_duration_seconds_count", { procedure: "members.list", code: "UNAUTHORIZED" })).toBe(1);
    expect(sample(text, "anvil_trpc_request_duration_seconds_count", { procedure: "members.list", code: "NOT_FOUND" })).toBe(1);
    expect(sample(text, "anvil_trpc_request_duration_seconds_count", { procedure: "apiTokens.create", code: "OK" })).toBe(1);
    expect(sample(text, "anvil_http_request_duration_seconds_count", { route: "trpc", status_class: "2xx" })).toBe(1);
    expect(sample(text, "anvil_http_request_duration_seconds_count", { route: "trpc", status_class: "4xx" })).toBe(2);
    expect(sample(text, "anvil_http_request_duration_seconds_count", { route: "health", status_class: "5xx" })).toBeGreaterThanOrEqual(1);
    // Nothing of a tenant in any label.
    expect(text).not.toContain(fx.tenant.slug);
    expect(text).not.toContain(fx.otherTenant.slug);
  });

  it("counts workflow runs and failures, times steps (ids out of their names), and shows queue depth", async () => {
    const engine = getEngine();
    expect(await engine.result(await enqueue(testOk.entry, []))).toBe("done");
    const failed = await enqueue(testFail.entry, []);
    await expect(engine.result(failed)).rejects.toThrow("boom");
    const waiting = await enqueue(testWait.entry, []);

    const running = await until("the waiting workflow shows on the nodes queue", async () => {
      const { text } = await scrape();
      return (sample(text, "anvil_queue_depth", { queue: "nodes", status: "pending" }) ?? 0) >= 1 ? text : undefined;
    });
    expect(sample(running, "anvil_queue_oldest_age_seconds", { queue: "nodes", status: "pending" })).toBeGreaterThanOrEqual(0);
    await DBOS.send(waiting, "go", "go");
    expect(await engine.result(waiting)).toBe("go");

    const { text } = await scrape();
    expect(sample(text, "anvil_workflow_runs_started_total", { workflow: "test.metrics.ok" })).toBe(1);
    expect(sample(text, "anvil_workflow_runs_ended_total", { workflow: "test.metrics.ok", outcome: "success" })).toBe(1);
    expect(sample(text, "anvil_workflow_runs_ended_total", { workflow: "test.metrics.fail", outcome: "failure" })).toBe(1);
    expect(sample(text, "anvil_workflow_runs_ended_total", { workflow: "test.metrics.wait", outcome: "success" })).toBe(1);
    expect(sample(text, "anvil_workflow_step_duration_seconds_count", { workflow: "test.metrics.ok", step: "first", outcome: "success" })).toBe(1);
    expect(sample(text, "anvil_workflow_step_duration_seconds_count", { workflow: "test.metrics.ok", step: "look up :id", outcome: "success" })).toBe(1);
    expect(sample(text, "anvil_workflow_step_duration_seconds_count", { workflow: "test.metrics.fail", step: "boom", outcome: "failure" })).toBe(1);
    expect(sample(text, "anvil_workflow_step_failures_total", { workflow: "test.metrics.fail", step: "boom" })).toBe(1);
    expect(text).not.toContain(ID);
    expect(stepLabel(`prepare recovery ${ID}`)).toBe("prepare recovery :id");
    expect(stepLabel("shard 123456")).toBe("shard :n");
  }, 60_000);

  it("shows BMC sync lag and failures, console sessions and viewers, and the database pool", async () => {
    // A BMC that is not there: the poll fails and is counted by its error code.
    const node: Parameters<typeof pollNode>[0] = {
      id: crypto.randomUUID(),
      name: "metrics-missing-bmc",
      kind: "host",
      parentNodeId: null,
      bmcDriver: "redfish",
      bmcAddress: `http://127.0.0.1:${await freePort()}`,
      bmcCredentials: seal(JSON.stringify({ username: "u", password: "p" })),
      bmcVerifyTls: false,
      powerState: "unknown",
      health: "unknown",
      fault: null,
      agentUrl: null,
      agentStatus: "unknown",
      powerChangedAt: null,
    } as Parameters<typeof pollNode>[0];
    const polled = await pollNode(node);
    expect(polled.bmcError).toBeTruthy();
    // The pass wrapper the sync.shard workflow runs its poll step through: completion sets the lag, a throw counts.
    await observeBmcSync(7, async () => ({ polled: 3, changed: 0 }));
    await expect(observeBmcSync(8, async () => Promise.reject(new Error("database gone")))).rejects.toThrow("database gone");

    const runtime = { registerUpgrade: () => {}, onStop: (s: () => Promise<void>) => void stops.push(s) };
    await registerConsole(runtime);

    const { text } = await scrape();
    const failures = text.split("\n").filter((l) => l.startsWith("anvil_bmc_sync_failures_total{"));
    expect(failures.some((l) => /reason="(unreachable|forbidden|timeout)"/.test(l))).toBe(true);
    expect(sample(text, "anvil_bmc_sync_failures_total", { reason: "shard" })).toBe(1);
    expect(sample(text, "anvil_bmc_sync_polls_total")).toBe(3);
    expect(sample(text, "anvil_bmc_sync_lag_seconds", { shard: "7" })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "anvil_bmc_sync_last_success_timestamp_seconds", { shard: "7" })).toBeGreaterThan(1.7e9);
    expect(sample(text, "anvil_bmc_sync_lag_seconds", { shard: "8" })).toBeUndefined();
    expect(sample(text, "anvil_console_sessions")).toBe(0);
    expect(sample(text, "anvil_console_viewers")).toBe(0);
    expect(sample(text, "anvil_db_pool_max")).toBeGreaterThan(0);
    expect(sample(text, "anvil_db_pool_connections", { state: "idle" })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "anvil_db_pool_waiting")).toBe(0);
    expect(text).not.toContain("metrics-missing-bmc");
  }, 60_000);
});

describe("Prometheus", () => {
  let prom: ChildProcess | undefined;
  let dir: string;

  afterAll(async () => {
    if (prom?.pid && prom.exitCode === null) {
      const exited = once(prom, "exit");
      process.kill(prom.pid, "SIGTERM");
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("scrapes Anvil and answers queries about its series", async () => {
    expect(await trpcQuery("members.list", { tenant: fx.tenant.slug })).toBe(401);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-prometheus-"));
    const port = await freePort();
    fs.writeFileSync(
      path.join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: anvil",
        "    metrics_path: /metrics",
        "    static_configs:",
        `      - targets: ["${new URL(base).host}"]`,
        "",
      ].join("\n"),
    );
    let log = "";
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prom.stdout?.on("data", (d: Buffer) => (log += d.toString()));
    prom.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    const api = `http://127.0.0.1:${port}`;

    type Result = { metric: Record<string, string>; value: [number, string] }[];
    const query = async (q: string): Promise<Result> => {
      if (prom?.exitCode !== null) throw new Error(`prometheus exited (${prom?.exitCode}): ${log}`);
      const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { status: string; data: { result: Result }; error?: string };
      if (body.status !== "success") throw new Error(body.error);
      return body.data.result;
    };

    const up = await until("Prometheus scraped Anvil", async () => {
      const r = await query('up{job="anvil"} == 1');
      return r.length ? r : undefined;
    });
    expect(up[0]!.metric.instance).toBe(new URL(base).host);

    const calls = await until("the tRPC series reached Prometheus", async () => {
      const r = await query('anvil_trpc_request_duration_seconds_count{job="anvil",procedure="members.list",code="UNAUTHORIZED"}');
      return r.length ? r : undefined;
    });
    expect(Number(calls[0]!.value[1])).toBe(2);
    const ok = await query('sum by (procedure) (anvil_trpc_request_duration_seconds_count{code="OK"})');
    expect(ok.map((r) => r.metric.procedure).sort()).toEqual(["apiTokens.create", "members.list"]);
    const workflows = await query('anvil_workflow_runs_ended_total{workflow="test.metrics.fail",outcome="failure"}');
    expect(Number(workflows[0]!.value[1])).toBe(1);

    // The shipped Grafana dashboard: Prometheus accepts every panel's query, and each series it reads exists.
    const dashboard = JSON.parse(fs.readFileSync(path.join(process.cwd(), "docs/grafana-anvil.json"), "utf8")) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr.replaceAll("$__rate_interval", "1m").replaceAll("$job", ".*").replaceAll("$instance", ".*"));
    expect(exprs.length).toBeGreaterThan(20);
    for (const e of exprs) await query(e);
    const exposed = (await scrape()).text;
    const names = new Set(exprs.flatMap((e) => e.match(/\b(?:anvil|process|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(15);
    const declared = new Set(
      [...exposed.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, n, type]) => (type === "histogram" ? [`${n}_bucket`, `${n}_count`, `${n}_sum`] : [n!])),
    );
    for (const n of names) expect(declared.has(n), n).toBe(true);
  }, 90_000);
});
