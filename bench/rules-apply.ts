// Live security rules: time from a rule change (securityGroups.addRule / deleteRule on the real tRPC router, in
// process) until the rules reconciler reports it enforced on every NIC (securityGroups.rulesStatus: applied on N of N),
// for 1,000 NICs across 100 DPUs of the zero-latency lab (in process: BMCs, storage, one DPU agent per DPU), with the
// real workflow engine on an embedded Postgres. A host holds one instance, so the 1,000 ports (10 per DPU) are
// plugged in by writing the rows (port bound to the host, instance row running) instead of provisioning 1,000 hosts;
// the reconciler then creates the NICs on the agents in a first pass. Prints figures, with where each change's pass
// spent its time (queued, read, compile, push and record); asserts nothing.
//   npx tsx bench/rules-apply.ts [nics=1000] [dpus=100] [changes=5]
import { allowServerOnlyOutsideNext } from "../server/console/register";
import { benchDataDir, benchPostgres } from "./_setup";

const NICS = Number(process.argv[2] ?? 1000);
const DPUS = Number(process.argv[3] ?? 100);
const CHANGES = Number(process.argv[4] ?? 5);
const dir = benchDataDir("rules");
process.env.DBOS_LOG_LEVEL ??= "error";
process.env.ANVIL_MGMT_ALLOW ??= "127.0.0.0/8";
Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "test" });
allowServerOnlyOutsideNext();

const pg = await benchPostgres(dir);
const { getDb, closeDb } = await import("../db/client");
const s = await import("../db/schema");
const { and, eq, inArray, sql } = await import("drizzle-orm");
const { createCaller } = await import("../server/api/root");
const { startEngine, stopEngine, getEngine } = await import("../server/workflows/engine");
const { workflows } = await import("../server/workflows/registry");
const { enqueue } = await import("../server/workflows/start");
const { catalog } = await import("../server/workflows/catalog");
const { bootstrapLab } = await import("../sim/lab-bootstrap");
type RulesPass = import("../server/workflows/rules").RulesPass;
const db = getDb();

await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: "bench-rules", schedules: false });
const [pool] = await db.insert(s.pools).values({ name: "bench-rules", resourceClass: "bm.bench" }).returning();
const t0 = performance.now();
const { lab, nodeIds, failed } = await bootstrapLab(db, {
  lab: { hosts: DPUS, pools: ["bench-rules"], latency: "zero", quiet: true },
  poolId: () => pool!.id,
  requestId: "bench",
  createdBy: null,
});
if (failed.length) throw new Error(`lab: ${failed.length} hosts not enrolled: ${failed[0]!.message}`);
console.log(`lab: ${DPUS} hosts with DPUs enrolled and inspected in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const hosts = [...nodeIds.values()];
const dpus = await db
  .select({ id: s.nodes.id })
  .from(s.nodes)
  .where(and(inArray(s.nodes.parentNodeId, hosts), eq(s.nodes.kind, "dpu")));
if (dpus.length !== DPUS) throw new Error(`expected ${DPUS} DPUs, found ${dpus.length}`);

const slug = "bench-rules";
const [tenant] = await db.insert(s.tenants).values({ slug, name: slug }).returning();
const userId = crypto.randomUUID();
await db.insert(s.users).values({ id: userId, email: `${slug}@test.local`, name: slug });
await db.insert(s.memberships).values({ tenantId: tenant!.id, userId, role: "tenant-admin" });
await db.insert(s.quotas).values({ tenantId: tenant!.id, instances: 100_000, addresses: 100_000 });
const caller = createCaller({
  db,
  principal: { userId, email: `${slug}@test.local`, name: slug, platformRole: null, sessionId: null, tokenScope: null },
  requestId: "bench",
  headers: new Headers(),
});
const vpc = await caller.vpcs.create({ tenant: slug, name: "bench", cidr: "10.8.0.0/16" } as never);
const subnet = await caller.subnets.create({ tenant: slug, vpcId: vpc.id, name: "bench", cidr: "10.8.0.0/20" } as never);
const groupId = (await caller.vpcs.get({ tenant: slug, id: vpc.id })).defaultGroup!.id;

const t1 = performance.now();
const portIds: string[] = [];
for (let i = 0; i < NICS; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, NICS - i) }, (_, k) => caller.ports.create({ tenant: slug, subnetId: subnet.id, name: `p${i + k}` } as never)),
  );
  portIds.push(...batch.map((p) => p.id));
}
for (const [i, id] of portIds.entries()) {
  const [inst] = await db
    .insert(s.instances)
    .values({ name: `srv-${i}`, tenantId: tenant!.id, poolId: pool!.id, systemVolumeSizeGiB: 20, state: "running", portId: id, subnetId: subnet.id })
    .returning({ id: s.instances.id });
  // The port is the instance's first NIC (ports.instance_id + nic_index), bound to the host as provisioning leaves it.
  await db
    .update(s.ports)
    .set({ nodeId: hosts[i % hosts.length]!, instanceId: inst!.id, nicIndex: 0 })
    .where(eq(s.ports.id, id));
}
console.log(`${NICS} ports on ${DPUS} DPUs written in ${((performance.now() - t1) / 1000).toFixed(1)} s`);

const status = () => caller.securityGroups.rulesStatus({ tenant: slug, id: groupId });
async function untilApplied(): Promise<number> {
  const start = performance.now();
  let sweptAt = start;
  for (;;) {
    const st = await status();
    if (st.total === NICS && st.applied === NICS) return performance.now() - start;
    // What the 5 s schedule does in a server (this bench runs the engine without schedules): retry lagging NICs.
    if (performance.now() - sweptAt > 5000) {
      sweptAt = performance.now();
      await enqueue(catalog.rulesReconcile, ["sweep"]);
    }
    if (performance.now() - start > 300_000) throw new Error(`not converged after 300 s: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// First pass: the agents have no NICs yet; the reconciler creates all 1,000 (PUT /v1/nics/:name).
const tc = performance.now();
await getEngine().result(await enqueue(catalog.rulesReconcile, ["change"]));
console.log(`first pass (creates ${NICS} NICs on the agents): ${(performance.now() - tc).toFixed(0)} ms; ${JSON.stringify(await status())}`);

/** Where the rules passes that began at or after `since` (epoch ms) spent their time: queued (from the tRPC call's end
 *  to the pass's start), then the pass's own phases (server/workflows/rules.ts, PassTimings). */
async function breakdown(since: number, callEnded: number): Promise<string> {
  const ids = await db.execute<{ id: string }>(
    sql`select workflow_uuid as id from dbos.workflow_status where name = ${catalog.rulesReconcile.name} and created_at >= ${since} order by created_at`,
  );
  // The status shows the NICs applied once their records are written, a moment before the pass itself ends.
  const passes = await Promise.all(ids.rows.map((r) => getEngine().result<RulesPass>(r.id)));
  return passes
    .filter((p) => p.applied + p.failed > 0)
    .map((p) => {
      const m = p.ms;
      return `queued ${p.startedAt - callEnded} ms, read ${m.read}, compile ${m.compile}, push ${m.push} (of which record ${m.record}) ms: ${p.applied} applied, ${p.failed} failed`;
    })
    .join("; then ");
}

const times: number[] = [];
const cpus: number[] = [];
let ruleId: string | null = null;
for (let c = 0; c < CHANGES; c++) {
  const start = performance.now();
  const since = Date.now();
  const cpu0 = process.cpuUsage();
  if (ruleId) {
    await caller.securityGroups.deleteRule({ tenant: slug, id: ruleId });
    ruleId = null;
  } else {
    const r = await caller.securityGroups.addRule({
      tenant: slug,
      groupId,
      direction: "ingress",
      ethertype: "ipv4",
      protocol: "tcp",
      portMin: 22,
      remoteCidr: "0.0.0.0/0",
    } as never);
    ruleId = r.id;
  }
  const call = performance.now() - start;
  const callEnded = Date.now();
  const total = call + (await untilApplied());
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  times.push(total);
  cpus.push(cpuMs);
  console.log(
    `change ${c + 1} (${ruleId ? "add" : "delete"} rule): tRPC call ${call.toFixed(0)} ms, enforced on ${NICS} NICs ${total.toFixed(0)} ms after the call began (CPU of this process, BFF and agents but not Postgres: ${cpuMs.toFixed(0)} ms)`,
  );
  console.log(`  pass: ${await breakdown(since, callEnded)}`);
}
// Agents agree with the records: the figures are real pushes, checked once more by a sweep.
const sweep = await getEngine().result(await enqueue(catalog.rulesReconcile, ["sweep"]));
const sorted = [...times].sort((a, b) => a - b);
const cpuMedian = [...cpus].sort((a, b) => a - b)[Math.floor(cpus.length / 2)]!;
console.log(
  `rule change → enforced on ${NICS} NICs across ${DPUS} DPUs: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (target < 2000 ms), CPU median ${cpuMedian.toFixed(0)} ms; sweep after: ${JSON.stringify(sweep)}`,
);

await stopEngine();
await lab.close();
await closeDb();
await pg.stop();
process.exit(0);
