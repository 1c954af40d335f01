// Instance provisioning through the BFF: N concurrent tenant creates (instances.create on the real tRPC router, in
// process) run by the real workflow engine on an embedded Postgres against a lab in a CHILD process (Redfish BMCs,
// storage service, DPU agents — its CPU is not counted here). Prints the time until all are running, p50/p95 per
// instance, the BFF process's CPU per instance, and per-step timings of one instance. Asserts nothing.
//   npx tsx bench/instances.ts [count=100] [latency=zero|realistic]
// Default: 100 in a zero-latency lab (the lab's own floor is one power transition, 200 ms, plus one boot, 300 ms),
// then 5 in the realistic lab (clone 1 s, attach 0.5 s, power-on 2 s, boot 20 s, 20-80 ms per Redfish request),
// reported as time-to-running ÷ that critical path (target ≤ 1.05).
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { allowServerOnlyOutsideNext } from "../server/console/register";
import { benchDataDir, benchPostgres } from "./_setup";
import type { LabManifest } from "../sim/lab";

const argCount = process.argv[2] ? Number(process.argv[2]) : null;
const argLatency = process.argv[3] as "zero" | "realistic" | undefined;
const dir = benchDataDir("instances");
process.env.DBOS_LOG_LEVEL ??= "error";
process.env.ANVIL_BOOT_POLL_MS ??= "100";
process.env.ANVIL_MGMT_ALLOW ??= "127.0.0.0/8"; // the lab is on loopback (server/lib/mgmt-network.ts)
Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "test" });
allowServerOnlyOutsideNext();

const pg = await benchPostgres(dir);
const { getDb, closeDb } = await import("../db/client");
const s = await import("../db/schema");
const { eq, inArray, and } = await import("drizzle-orm");
const { createCaller } = await import("../server/api/root");
const { startEngine, stopEngine } = await import("../server/workflows/engine");
const { workflows } = await import("../server/workflows/registry");
const { enrollLabHosts } = await import("../sim/lab-bootstrap");
const { pointStorageAtLab } = await import("../sim/lab");
const db = getDb();

/** CPU seconds (user + system) used so far by these processes and all their descendants, from /proc. */
function cpuOfTree(roots: number[]): number {
  const kids = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(d);
      const ppid = Number(f[1]);
      ticks.set(pid, Number(f[11]) + Number(f[12]));
      kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
    } catch {
      /* the process ended meanwhile */
    }
  }
  let total = 0;
  const stack = [...roots];
  while (stack.length) {
    const p = stack.pop()!;
    total += ticks.get(p) ?? 0;
    stack.push(...(kids.get(p) ?? []));
  }
  return total / 100; // USER_HZ
}
const postmasterPid = () => Number(fs.readFileSync(path.join(dir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);

/** The lab in its own process; resolves with its manifest once it is up. */
async function startLabProcess(hosts: number, latency: "zero" | "realistic"): Promise<{ proc: ChildProcess; manifest: LabManifest }> {
  const manifestPath = path.join(dir, `lab-${latency}.json`);
  const csvPath = path.join(dir, `lab-${latency}.csv`);
  const proc = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "sim/lab.ts",
      "--hosts",
      String(hosts),
      "--pools",
      "bench",
      "--latency",
      latency,
      "--manifest",
      manifestPath,
      "--csv",
      csvPath,
      "--quiet",
    ],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const t0 = Date.now();
  while (!fs.existsSync(manifestPath)) {
    if (proc.exitCode !== null) throw new Error("the lab exited before it was up");
    if (Date.now() - t0 > 120_000) throw new Error("the lab did not come up in 2 minutes");
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200));
  return { proc, manifest: JSON.parse(fs.readFileSync(manifestPath, "utf8")) };
}

async function run(count: number, latency: "zero" | "realistic", slug: string) {
  const { proc, manifest } = await startLabProcess(count + 2, latency);
  try {
    pointStorageAtLab(manifest.storage);
    const { getStorage, defaultLogicalPoolId } = await import("../server/storage/backend");
    const { buildImage } = await import("../server/storage/images");
    const { withSampleImage } = await import("../server/storage/sample-image");
    const [pool] = await db
      .insert(s.pools)
      .values({ name: `bench-${slug}`, resourceClass: "bm.bench" })
      .returning();
    const { nodeIds } = await enrollLabHosts(db, manifest.hosts, { name: (h) => `${slug}-${h.name}`, poolId: () => pool!.id, requestId: "bench" });
    const ids = [...nodeIds.values()];
    await db.update(s.nodes).set({ provisionState: "available" }).where(inArray(s.nodes.id, ids));

    const [tenant] = await db.insert(s.tenants).values({ slug, name: slug }).returning();
    const userId = crypto.randomUUID();
    await db.insert(s.users).values({ id: userId, email: `${slug}@test.local`, name: slug });
    await db.insert(s.memberships).values({ tenantId: tenant!.id, userId, role: "tenant-admin" });
    await db
      .insert(s.quotas)
      .values({ tenantId: tenant!.id, instances: 10_000, cores: 10_000_000, ramGiB: 10_000_000, volumes: 10_000, volumeGiB: 1_000_000, addresses: 10_000 });
    const image = await withSampleImage(4096, async (build) =>
      buildImage({ db, principal: null, requestId: "bench" }, { name: `debian-${slug}`, os: "debian", version: "12", visibility: "public" }, build, {
        sizeBytes: 2 * 1024 ** 3,
        logicalPoolId: await defaultLogicalPoolId(),
      }),
    );
    const caller = createCaller({
      db,
      principal: { userId, email: `${slug}@test.local`, name: slug, platformRole: null, sessionId: null, tokenScope: null },
      requestId: "bench",
      headers: new Headers(),
    });
    const vpc = await caller.vpcs.create({ tenant: slug, name: "bench", cidr: "10.8.0.0/16" } as never);
    const subnet = await caller.subnets.create({ tenant: slug, vpcId: vpc.id, name: "bench", cidr: "10.8.0.0/20" } as never);
    const input = (name: string) => ({ tenant: slug, name, poolId: pool!.id, imageId: image.id, subnetId: subnet.id });

    const waitRunning = async (instanceIds: string[], started: Map<string, number>, timeoutMs: number) => {
      const done = new Map<string, number>();
      const t0 = Date.now();
      while (done.size < instanceIds.length) {
        const rows = await db
          .select({ id: s.instances.id, state: s.instances.state, reason: s.instances.stateReason })
          .from(s.instances)
          .where(inArray(s.instances.id, instanceIds));
        for (const r of rows) {
          if (r.state === "running" && !done.has(r.id)) done.set(r.id, performance.now() - started.get(r.id)!);
          if (r.state === "failed") throw new Error(`instance failed: ${r.reason}`);
        }
        if (Date.now() - t0 > timeoutMs) throw new Error(`only ${done.size} of ${instanceIds.length} running after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return done;
    };

    // Warm-up: one create and delete (connections, drivers, prepared paths).
    const w = await caller.instances.create(input("warm-0"));
    await waitRunning([w.id], new Map([[w.id, performance.now()]]), 120_000);
    const del = await caller.instances.delete({ tenant: slug, id: w.id });
    for (;;) {
      const [op] = await db.select({ status: s.operations.status }).from(s.operations).where(eq(s.operations.id, del.operationId));
      if (op?.status === "succeeded") break;
      if (op?.status === "failed") throw new Error("warm-up delete failed");
      await new Promise((r) => setTimeout(r, 20));
    }

    const cpu0 = process.cpuUsage();
    const others0 = { lab: cpuOfTree([proc.pid!]), pg: cpuOfTree([postmasterPid()]) };
    const started = new Map<string, number>();
    const t0 = performance.now();
    const created = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const t = performance.now();
        const r = await caller.instances.create(input(`vm-${i}`));
        started.set(r.id, t);
        return r;
      }),
    );
    const accepted = performance.now() - t0;
    const done = await waitRunning(
      created.map((c) => c.id),
      started,
      latency === "zero" ? 120_000 : 300_000,
    );
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const others = { lab: cpuOfTree([proc.pid!]) - others0.lab, pg: cpuOfTree([postmasterPid()]) - others0.pg };
    const times = [...done.values()].sort((a, b) => a - b);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(`instance create, ${count} concurrent through the tRPC router + workflow engine (lab latency: ${latency}, lab in a child process)`);
    console.log(
      `  all ${count} running after ${(wall / 1000).toFixed(2)} s; per instance p50 ${(pct(50) / 1000).toFixed(2)} s, p95 ${(pct(95) / 1000).toFixed(2)} s, max ${(times.at(-1)! / 1000).toFixed(2)} s`,
    );
    console.log(`  the router accepted all ${count} creates after ${(accepted / 1000).toFixed(2)} s`);
    console.log(`  BFF CPU ${cpuMs.toFixed(0)} ms in total, ${(cpuMs / count).toFixed(1)} ms per instance`);
    console.log(
      `  meanwhile on the same ${os.cpus().length} cores: Postgres ${(others.pg * 1000).toFixed(0)} ms CPU, the lab (BMCs, storage, agents) ${(others.lab * 1000).toFixed(0)} ms CPU`,
    );
    // Per-step timings of the slowest instance, so the overhead is visible.
    const slowest = [...done.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const [op] = await db
      .select()
      .from(s.operations)
      .where(and(eq(s.operations.targetId, slowest), eq(s.operations.kind, "instance.create")));
    const opStart = new Date(op!.createdAt).getTime();
    console.log(`  steps of the slowest instance (ms from the operation's creation):`);
    for (const st of op!.steps) {
      const a = st.startedAt ? new Date(st.startedAt).getTime() - opStart : null;
      const b = st.endedAt ? new Date(st.endedAt).getTime() - opStart : null;
      console.log(`    ${st.name.padEnd(24)} ${a === null ? "" : String(a).padStart(6)} → ${b === null ? "" : String(b).padStart(6)}`);
    }
    await getStorage().close();
    return { wall, p50: pct(50), max: times.at(-1)! };
  } finally {
    proc.kill("SIGTERM");
  }
}

try {
  await startEngine(workflows, { databaseUrl: pg.url, executorId: "bench-instances", schedules: false });
  if (argCount !== null || argLatency) {
    await run(argCount ?? 100, argLatency ?? "zero", "bench");
  } else {
    await run(100, "zero", "zero");
    const r = await run(5, "realistic", "real");
    // The critical path in the realistic lab: clone 1 s → attach 0.5 s → power-on 2 s → boot 20 s.
    const critical = 1000 + 500 + 2000 + 20_000;
    console.log(
      `  realistic: time to running ÷ the critical path (${critical / 1000} s): p50 ${(r.p50 / critical).toFixed(3)}, slowest ${(r.max / critical).toFixed(3)}`,
    );
  }
} finally {
  await stopEngine();
  await closeDb();
  await pg.stop({ immediate: true });
  fs.rmSync(dir, { recursive: true, force: true });
}
