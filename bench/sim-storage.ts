// Benchmark of the lab storage service, straight over HTTP (no driver): latency of creating a volume as a
// thin clone of a snapshot with 100 requests in flight (zero and realistic latency profiles), then the
// same with the service holding 30,000 volumes and 10,000 targets, plus lookups at that scale.
// The service runs in its own process (sim/storage/main.ts) so the load generator does not steal its CPU.
// Run: npx tsx bench/sim-storage.ts [--clones 2000] [--volumes 30000] [--targets 10000] [--concurrency 100]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";

const { values } = parseArgs({
  options: {
    clones: { type: "string", default: "2000" },
    volumes: { type: "string", default: "30000" },
    targets: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "100" },
  },
});
const CLONES = Number(values.clones);
const VOLUMES = Number(values.volumes);
const TARGETS = Number(values.targets);
const CONCURRENCY = Number(values.concurrency);

/** Starts sim/storage/main.ts as a child process and reads its URL and token from the first stdout line. */
async function startStorageService(opts: { latency?: "zero" | "realistic" }) {
  const main = fileURLToPath(new URL("../sim/storage/main.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", main, "--default-pools", "--latency", opts.latency ?? "zero"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buf = "";
  child.stdout.setEncoding("utf8");
  const banner = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`storage service exited with ${code}`)));
    child.stdout.on("data", (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
  });
  const svc = {
    ...banner,
    async close() {
      running.delete(svc);
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
    },
  };
  running.add(svc);
  return svc;
}

/** Services still running, so a failed run stops them instead of hanging on their child processes. */
const running = new Set<{ close(): Promise<void> }>();

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

function api(url: string, token: string): Api {
  const pool = new Pool(url, { connections: CONCURRENCY });
  return {
    async call(method, path, body) {
      const res = await pool.request({
        method: method as "GET",
        path,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
    },
    close: () => pool.close(),
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `total` requests with `concurrency` in flight; returns per-request latencies and wall time. */
async function load(total: number, concurrency: number, one: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        await one(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const wall = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { lat, wall };
}

function report(label: string, r: { lat: number[]; wall: number }) {
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(
    `${label.padEnd(58)} n=${String(r.lat.length).padStart(6)}  p50 ${f(pct(r.lat, 50))} ms  p95 ${f(pct(r.lat, 95))} ms  p99 ${f(
      pct(r.lat, 99),
    )} ms  ${(r.lat.length / (r.wall / 1000)).toFixed(0).padStart(6)} req/s`,
  );
}

async function setup(a: Api) {
  const lp = (await a.call("GET", "/v1/logical-pools")).body as { items: { id: string }[] };
  const pool = lp.items[0].id;
  const img = (await a.call("POST", "/v1/volumes", { name: "image", logicalPoolId: pool, sizeBytes: 10 * 1024 ** 3 })).body as { id: string };
  await a.call("POST", `/v1/volumes/${img.id}/write`, { bytes: 3 * 1024 ** 3 });
  const snap = (await a.call("POST", "/v1/snapshots", { volumeId: img.id, name: "golden" })).body as { id: string };
  return { pool, snap: snap.id };
}

async function cloneBench(a: Api, snap: string, total: number, prefix: string) {
  return load(total, CONCURRENCY, async (i) => {
    const r = await a.call("POST", "/v1/volumes", { name: `${prefix}-${i}`, sourceSnapshotId: snap });
    if (r.status !== 201) throw new Error(`clone failed: ${r.status} ${JSON.stringify(r.body)}`);
  });
}

async function main() {
  console.log(`storage service benchmark — ${CONCURRENCY} requests in flight, node ${process.version}`);

  // 1. Zero latency profile: the cost of the service itself.
  {
    const svc = await startStorageService({});
    const a = api(svc.url, svc.token);
    const { snap } = await setup(a);
    // Warm the JIT on both sides so the first figure measures the service, not the compiler.
    await cloneBench(a, snap, 1000, "warm");
    report(
      "clone from snapshot (zero profile, 1 in flight)",
      await load(200, 1, async (i) => {
        await a.call("POST", "/v1/volumes", { name: `seq-${i}`, sourceSnapshotId: snap });
      }),
    );
    report(`clone from snapshot (zero profile, ${CONCURRENCY} in flight)`, await cloneBench(a, snap, CLONES, "c"));

    // 2. Populate to lab scale, then measure again.
    const t0 = performance.now();
    const lp = ((await a.call("GET", "/v1/logical-pools")).body as { items: { id: string }[] }).items[0].id;
    const ids: string[] = [];
    const fill = await load(VOLUMES, CONCURRENCY, async (i) => {
      const r = await a.call("POST", "/v1/volumes", { name: `fill-${i}`, logicalPoolId: lp, sizeBytes: 1024 ** 3 });
      ids.push((r.body as { id: string }).id);
    });
    report(`blank volume create (filling to ${VOLUMES})`, fill);
    const exp = await load(TARGETS, CONCURRENCY, async (i) => {
      const r = await a.call("POST", "/v1/targets", {
        volumeId: ids[i],
        protocol: "nvme-tcp",
        initiator: `nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      });
      if (r.status !== 201) throw new Error(`export failed: ${r.status}`);
    });
    report(`target create (filling to ${TARGETS})`, exp);
    console.log(`populated ${VOLUMES} volumes + ${TARGETS} targets in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const stats = (await a.call("GET", "/admin/stats")).body;
    console.log(`service holds ${JSON.stringify(stats)}`);

    report(`clone from snapshot (zero profile, ${CONCURRENCY} in flight, at scale)`, await cloneBench(a, snap, CLONES, "s"));
    report(
      "GET /v1/volumes/:id (at scale)",
      await load(CLONES, CONCURRENCY, async (i) => {
        await a.call("GET", `/v1/volumes/${ids[i % ids.length]}`);
      }),
    );
    report(
      "GET /v1/targets?initiator= (at scale)",
      await load(CLONES, CONCURRENCY, async (i) => {
        const n = i % TARGETS;
        await a.call(
          "GET",
          `/v1/targets?initiator=${encodeURIComponent(`nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-${String(n).padStart(12, "0")}`)}`,
        );
      }),
    );
    report(
      "POST /v1/targets/connect (at scale)",
      await load(CLONES, CONCURRENCY, async (i) => {
        const n = i % TARGETS;
        const r = await a.call("POST", "/v1/targets/connect", {
          nqn: `nqn.2026-01.io.anvil:vol-${ids[n]}`,
          initiator: `nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
        });
        if (r.status !== 200) throw new Error(`connect failed: ${r.status}`);
      }),
    );
    report(
      "GET /v1/volumes?limit=100 first page (at scale)",
      await load(200, CONCURRENCY, async () => {
        await a.call("GET", "/v1/volumes?limit=100");
      }),
    );
    await a.close();
    await svc.close();
  }

  // 3. Realistic profile: a clone costs ~1 s; 100 in flight must overlap, not queue.
  {
    const svc = await startStorageService({ latency: "realistic" });
    const a = api(svc.url, svc.token);
    const { snap } = await setup(a);
    report("clone from snapshot (realistic profile, 1000 ms per clone)", await cloneBench(a, snap, CONCURRENCY * 2, "r"));
    await a.close();
    await svc.close();
  }
}

main().catch(async (e: Error) => {
  console.error(`benchmark failed: ${e.stack ?? e}`);
  await Promise.all([...running].map((svc) => svc.close()));
  process.exit(1);
});
