// Hardware management at fleet scale (default 10,000 hosts + 10,000 DPUs), inside a private network namespace so
// one simulator process can serve every BMC (address mode "netns"): bulk enroll + inspect time, node-list page of
// 100 with a filter (p50/p95), one full power/health sync of every BMC (wall time, CPU), BFF memory. Prints figures.
//   npx tsx bench/hardware.ts [hosts]        (re-runs itself under `unshare -n`)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { benchDataDir, benchPostgres, spawnRedfishSim } from "./_setup";

const hosts = Number(process.argv[2] ?? 10_000);

if (!process.env.ANVIL_BENCH_IN_NETNS) {
  execFileSync(
    "unshare",
    ["-n", "sh", "-c", `ip link set lo up && exec "${process.execPath}" --conditions=react-server --import tsx bench/hardware.ts ${hosts}`],
    {
      stdio: "inherit",
      env: { ...process.env, ANVIL_BENCH_IN_NETNS: "1" },
    },
  );
  process.exit(0);
}

const dir = benchDataDir("hw");
process.env.ANVIL_ENROLL_CONCURRENCY ??= "64";
process.env.ANVIL_MGMT_ALLOW ??= "127.0.0.0/8"; // the lab is on loopback (server/lib/mgmt-network.ts)

// The simulator runs in its own process (so its CPU is not counted as the BFF's), in this namespace.
const { proc: sim, out: bmcs } = await spawnRedfishSim<{ id: string; kind: string; url: string }[]>(
  dir,
  `{ hosts: ${hosts}, address: "netns", powerTransitionMs: 0 }`,
  "sim.bmcs.map((b) => ({ id: b.id, kind: b.kind, url: b.url }))",
);
process.on("exit", () => sim.kill("SIGKILL"));

process.on("uncaughtException", (e) => {
  console.error("bench/hardware failed:", e);
  process.exit(1);
});
process.on("unhandledRejection", (e) => {
  console.error("bench/hardware failed:", e);
  process.exit(1);
});
const pg = await benchPostgres(dir);
const { getDb, closeDb } = await import("../db/client");
const { startEngine, stopEngine } = await import("../server/workflows/engine");
const { seedIfEmpty } = await import("../db/seed");
const { startOperation } = await import("../server/workflows/start");
const { catalog } = await import("../server/workflows/catalog");
const { workflows } = await import("../server/workflows/registry");
const { syncShard } = await import("../server/workflows/sync");
const { SYNC_SHARDS } = await import("../server/workflows/enroll");
const { createCaller } = await import("../server/api/root");
const s = await import("../db/schema");
const { and, count, eq, inArray } = await import("drizzle-orm");
const db = getDb();
await seedIfEmpty(db);
await startEngine(workflows, { databaseUrl: pg.url, executorId: "bench", schedules: false });

const byId = new Map(bmcs.map((b) => [b.id, b]));
const rows = bmcs
  .filter((b) => b.kind === "host")
  .map((b, i) => {
    const d = byId.get(`${b.id}-dpu`);
    // The DPU's own credentials, given explicitly (the simulator's DPU BMCs take the same defaults as its hosts).
    return `${b.id},${i % 2 ? "gpu" : "general"},redfish,${b.url},admin,password,false,${d ? `${d.url},admin,password` : ",,"}`;
  });
const csv = `name,pool,driver,bmc_address,bmc_username,bmc_password,verify_tls,dpu_bmc_address,dpu_bmc_username,dpu_bmc_password\n${rows.join("\n")}\n`;

const [admin] = await db.select().from(s.users).where(eq(s.users.email, "admin@anvil.local"));
const caller = createCaller({
  db,
  principal: { userId: admin!.id, email: admin!.email, name: "bench", platformRole: "operator-admin", sessionId: null, tokenScope: null },
  requestId: "bench",
  headers: new Headers(),
});

async function countOps(ids: string[], statuses: string[]) {
  let n = 0;
  for (let i = 0; i < ids.length; i += 5000) {
    const [r] = await db
      .select({ n: count() })
      .from(s.operations)
      .where(and(inArray(s.operations.id, ids.slice(i, i + 5000)), inArray(s.operations.status, statuses)));
    n += r!.n;
  }
  return n;
}
async function waitOps(ids: string[]) {
  while ((await countOps(ids, ["pending", "running"])) > 0) await new Promise((r) => setTimeout(r, 250));
}

const cpu0 = process.cpuUsage();
let t = performance.now();
const { operationId } = await caller.nodes.enrollBulk({ csv });
await waitOps([operationId]);
const [op] = await db.select().from(s.operations).where(eq(s.operations.id, operationId));
const enrollS = (performance.now() - t) / 1000;
const res = op!.result as { enrolled: number; failed: number };
console.log(`bulk enroll (probe host + DPU BMC, record both): ${res.enrolled} hosts + DPUs enrolled, ${res.failed} failed, in ${enrollS.toFixed(1)} s`);

t = performance.now();
const hostsRows = await db.select({ id: s.nodes.id, name: s.nodes.name }).from(s.nodes).where(eq(s.nodes.kind, "host"));
const ops: string[] = [];
for (const h of hostsRows) {
  await db.update(s.nodes).set({ provisionState: "inspecting" }).where(eq(s.nodes.id, h.id));
  const op = await startOperation(db, catalog.nodeInspect, { target: { id: h.id, name: h.name }, createdBy: null, args: (opId) => [h.id, opId] });
  await op.enqueue();
  ops.push(op.id);
}
await waitOps(ops);
const inspectS = (performance.now() - t) / 1000;
const ok = await countOps(ops, ["succeeded"]);
console.log(
  `inspect all hosts (inventory + DPU discovery, durable workflows): ${ok}/${ops.length} succeeded in ${inspectS.toFixed(1)} s; enroll + inspect ${(enrollS + inspectS).toFixed(1)} s`,
);

const lat: number[] = [];
const [gpu] = await db.select().from(s.pools).where(eq(s.pools.name, "gpu"));
for (let i = 0; i < 200; i++) {
  const t1 = performance.now();
  await caller.nodes.list({ limit: 100, poolId: gpu!.id, power: "off", sort: "name", dir: i % 2 ? "desc" : "asc" });
  lat.push(performance.now() - t1);
}
lat.sort((a, b) => a - b);
console.log(`node list, page of 100 filtered by pool + power (in-process tRPC call incl. SQL): p50 ${lat[100]!.toFixed(1)} ms, p95 ${lat[190]!.toFixed(1)} ms`);

const c1 = process.cpuUsage();
t = performance.now();
const results = await Promise.all(Array.from({ length: SYNC_SHARDS }, (_, shard) => syncShard(shard, 0)));
const syncS = (performance.now() - t) / 1000;
const c2 = process.cpuUsage(c1);
const polled = results.reduce((a, r) => a + r.polled, 0);
console.log(
  `one full power/health sync: ${polled} BMCs in ${syncS.toFixed(1)} s, BFF CPU ${((c2.user + c2.system) / 1e6).toFixed(1)} s = ${((c2.user + c2.system) / 1e6 / syncS).toFixed(2)} cores`,
);
const mem = process.memoryUsage();
console.log(
  `BFF memory with the fleet loaded: RSS ${Math.round(mem.rss / 2 ** 20)} MiB, heap ${Math.round(mem.heapUsed / 2 ** 20)} MiB (total CPU so far ${((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(0)} s)`,
);

await stopEngine();
await closeDb();
await pg.stop({ immediate: true });
sim.kill("SIGKILL");
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
