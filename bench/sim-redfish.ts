// Benchmark of the Redfish BMC simulator at fleet scale: starts 10,000 hosts + 10,000 DPUs in one process
// and prints start time, RSS/heap after start, and GET Systems/<id> requests/s from N concurrent keep-alive
// clients (undici Pool, one per BMC) for a few seconds. The load runs in a child process so the simulator's
// figures are its own (and its file descriptors stay its own: one listening socket per BMC).
//
//   npx tsx bench/sim-redfish.ts [--hosts 10000] [--clients 64] [--seconds 5] [--address ports|loopback|both]
//
// Each BMC needs one file descriptor; if the open-file limit (ulimit -n) is below hosts*2 + ~100, the
// bench says so and measures the largest fleet that fits instead.

import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { softFileLimit } from "../sim/os-limits";

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

async function loadRole(): Promise<void> {
  const { Pool } = await import("undici");
  const cfg = JSON.parse(process.env.BENCH_LOAD ?? "{}") as { targets: Array<{ url: string; path: string }>; seconds: number; auth: string };
  const pools = cfg.targets.map((t) => ({ pool: new Pool(t.url, { connections: 1, pipelining: 1 }), path: t.path }));
  const lat: number[] = [];
  let errors = 0;
  // Warm-up: open every keep-alive connection once.
  await Promise.all(pools.map(async ({ pool, path }) => (await pool.request({ path, method: "GET", headers: { authorization: cfg.auth } })).body.text()));
  const end = performance.now() + cfg.seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    pools.map(async ({ pool, path }) => {
      while (performance.now() < end) {
        const s = performance.now();
        const r = await pool.request({ path, method: "GET", headers: { authorization: cfg.auth } });
        await r.body.text();
        if (r.statusCode !== 200) errors++;
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(pools.map(({ pool }) => pool.close()));
  lat.sort((a, b) => a - b);
  const res: LoadResult = {
    requests: lat.length,
    errors,
    seconds,
    p50: lat[Math.floor(lat.length * 0.5)] ?? 0,
    p99: lat[Math.floor(lat.length * 0.99)] ?? 0,
  };
  process.send?.(res, () => process.exit(0));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "10000" },
      clients: { type: "string", default: "64" },
      seconds: { type: "string", default: "5" },
      address: { type: "string", default: "both" },
      role: { type: "string" },
    },
  });
  if (values.role === "load") return loadRole();

  const { startRedfishSim } = await import("../sim/redfish/index");
  let hosts = Number(values.hosts);
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const limit = softFileLimit();
  const needed = hosts * 2 + 64 + clients;
  console.log(`Redfish simulator bench: ${hosts} hosts + ${hosts} DPUs requested; open-file limit ${limit ?? "unknown"}`);
  if (limit !== undefined && needed > limit) {
    const fit = Math.floor((limit - 100 - clients) / 2);
    console.log(`  ! ${hosts * 2} BMCs need ~${needed} file descriptors (one listening socket each) but ulimit -n is ${limit}.`);
    console.log(`  ! Raise it (ulimit -n 65536) to run the full size; measuring ${fit} hosts + ${fit} DPUs instead.`);
    hosts = fit;
  }

  const modes = values.address === "both" ? (["ports", "loopback"] as const) : ([values.address] as const);
  for (const mode of modes) {
    if (mode !== "ports" && mode !== "loopback") throw new Error("--address must be ports, loopback or both");
    await runOnce(startRedfishSim, mode, hosts, clients, seconds);
  }
}

async function runOnce(
  startRedfishSim: typeof import("../sim/redfish/index").startRedfishSim,
  mode: "ports" | "loopback",
  hosts: number,
  clients: number,
  seconds: number,
): Promise<void> {
  console.log(`\n== address mode "${mode}" ==`);
  const heap0 = process.memoryUsage();
  const t0 = performance.now();
  const sim = await startRedfishSim({ hosts, address: mode });
  const startMs = performance.now() - t0;
  const mem = process.memoryUsage();
  console.log(`start: ${sim.bmcs.length} BMCs listening in ${Math.round(startMs)} ms (e.g. ${sim.bmcs[0].url} .. ${sim.bmcs[sim.bmcs.length - 1].url})`);
  console.log(
    `memory after start: rss ${mb(mem.rss)}, heapUsed ${mb(mem.heapUsed)} (+${mb(mem.heapUsed - heap0.heapUsed)}, ~${Math.round((mem.heapUsed - heap0.heapUsed) / sim.bmcs.length)} B heap per BMC), external ${mb(mem.external)}`,
  );

  // N clients, each a keep-alive undici Pool on a different BMC spread over the fleet (hosts and DPUs).
  const step = Math.max(1, Math.floor(sim.bmcs.length / clients));
  const targets = Array.from({ length: Math.min(clients, sim.bmcs.length) }, (_, i) => sim.bmcs[i * step]).map((b) => ({
    url: b.url,
    path: `/redfish/v1/Systems/${b.systemId}`,
  }));
  const auth = `Basic ${Buffer.from(`${sim.bmcs[0].username}:${sim.bmcs[0].password}`).toString("base64")}`;
  const child = fork(fileURLToPath(import.meta.url), ["--role", "load"], {
    env: { ...process.env, BENCH_LOAD: JSON.stringify({ targets, seconds, auth }) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // Event-loop lag of the simulator while it serves the load.
  let maxLag = 0;
  let last = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 50);
    last = now;
  }, 50);
  const result = await new Promise<LoadResult>((resolve, reject) => {
    child.once("message", (m) => resolve(m as LoadResult));
    child.once("exit", (code) => reject(new Error(`load generator exited with ${code} before reporting`)));
  });
  clearInterval(lagTimer);
  const after = process.memoryUsage();
  console.log(
    `GET Systems/<id>: ${Math.round(result.requests / result.seconds)} req/s over ${result.seconds.toFixed(1)} s with ${targets.length} keep-alive clients ` +
      `(${result.requests} requests, ${result.errors} non-200; latency p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms; max event-loop lag ${Math.round(maxLag)} ms)`,
  );
  console.log(`memory after load: rss ${mb(after.rss)}, heapUsed ${mb(after.heapUsed)}`);
  const tc = performance.now();
  await sim.close();
  console.log(`close: ${Math.round(performance.now() - tc)} ms`);
}

await main();
