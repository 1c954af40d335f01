// Rolling DPU OS update (rollout.run, the rollouts router) against the lab's Redfish simulator, a real Postgres and
// the workflow engine: over four hosts with max-unavailable 2 every DPU takes the new OS and never more than two hosts
// are out at once (from the hosts' recorded start and end times); a host whose DPU cannot take the update fails and
// pauses the rollout with the reason, hosts after it wait, and a resume after the cause is fixed finishes it; an abort
// skips the hosts not started and starts nothing more; a host running an instance is skipped, the others updated; a
// restart of the process mid-rollout loses nothing (the same replica recovers the run, which starts nothing twice).
import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { releaseStaleAddresses, uniq, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { callerAs, failure, fieldOf, insertInstance, insertPool } from "@/test/fixtures";
import { startEngine, stopEngine } from "./engine";
import { workflows } from "./registry";

let sim: RedfishSim;
const db = useTestDb();
/** The enrolled hosts, by position (each with one DPU). */
const hosts: { id: string; name: string; dpuId: string }[] = [];

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 5, powerTransitionMs: 30, bootMs: 30, updateMs: 600, dedicatedDpuPower: true });
  await releaseStaleAddresses(
    db,
    sim.bmcs.map((b) => b.url),
  );
});
afterAll(async () => {
  await sim?.close();
});
const fx = useEngine("rollouts");
const admin = () => callerAs(fx, "operatorAdmin");

beforeAll(async () => {
  const prefix = uniq("ro");
  for (const b of sim.bmcs.filter((x) => x.kind === "host")) {
    const name = `${prefix}-${b.id}`;
    const dpu = sim.byId(b.dpuId!)!;
    const r = await admin().nodes.enroll({
      name,
      driver: "redfish",
      address: b.url,
      username: b.username,
      password: b.password,
      verifyTls: false,
      dpu: { address: dpu.url, username: dpu.username, password: dpu.password },
    });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const [h] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
    const [d] = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, h!.id));
    hosts.push({ id: h!.id, name, dpuId: d!.id });
  }
  // A DPU takes an update only when it is on (nodeCan.firmwareUpdate); the lab's DPUs have their own supply.
  await setDpuPower(hosts, "on");
}, 60_000);

async function setDpuPower(of: typeof hosts, power: "on" | "off") {
  await db
    .update(s.nodes)
    .set({ powerState: power })
    .where(
      inArray(
        s.nodes.id,
        of.map((h) => h.dpuId),
      ),
    );
}

const image = (v: string) => `http://127.0.0.1:9/bf-bundle-${v}_25.04_ubuntu-22.04_prod.bfb`;

/** Polls the rollout until `done` says so (or 60 s pass). */
async function until(id: string, done: (r: Awaited<ReturnType<ReturnType<typeof admin>["rollouts"]["get"]>>) => boolean) {
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await admin().rollouts.get({ id });
    if (done(r)) return r;
    if (Date.now() > end) throw new Error(`rollout ${id} never got there: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The run has ended when its workflow cleared run_active (nothing in flight, nothing more it will start). */
const runEnded = async (id: string) => {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const [r] = await db.select({ a: s.rollouts.runActive }).from(s.rollouts).where(eq(s.rollouts.id, id));
    if (!r!.a) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`the run of rollout ${id} did not end`);
};

const dpuOs = async (dpuId: string) => {
  const [d] = await db.select({ inventory: s.nodes.inventory }).from(s.nodes).where(eq(s.nodes.id, dpuId));
  return ((d!.inventory as { firmware?: { id: string; version: string }[] }).firmware ?? []).find((f) => f.id === "DPU_OS")?.version;
};

/** The most hosts whose [start, end] intervals overlap at any moment. */
function peakUnavailable(rows: { startedAt: Date | null; endedAt: Date | null }[]): number {
  const edges = rows.flatMap((r) => [
    { t: r.startedAt!.getTime(), d: 1 },
    { t: r.endedAt!.getTime(), d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let peak = 0;
  for (const e of edges) {
    now += e.d;
    peak = Math.max(peak, now);
  }
  return peak;
}

describe("rolling DPU OS update", () => {
  it("updates every DPU over four hosts, never more than max-unavailable at once", async () => {
    const four = hosts.slice(0, 4);
    const { id } = await admin().rollouts.start({ imageUri: image("3.0.1-7"), maxUnavailable: 2, instancePolicy: "skip", hostIds: four.map((h) => h.id) });
    const r = await until(id, (x) => x.status !== "running");
    expect(r.status, JSON.stringify(r)).toBe("succeeded");
    expect(r.hosts.map((h) => [h.hostName, h.state])).toEqual(four.map((h) => [h.name, "done"]));
    for (const h of four) expect(await dpuOs(h.dpuId)).toBe("3.0.1-7");
    const rows = await db.select().from(s.rolloutHosts).where(eq(s.rolloutHosts.rolloutId, id));
    expect(peakUnavailable(rows)).toBe(2); // the limit is used, and never passed
    // Each DPU's update is an ordinary dpu.firmware_update operation that names the rollout.
    const ops = await db
      .select()
      .from(s.operations)
      .where(
        inArray(
          s.operations.id,
          rows.flatMap((x) => x.operationIds),
        ),
      );
    expect(ops.map((o) => [o.kind, o.status, (o.input as { rolloutId?: string }).rolloutId])).toEqual(four.map(() => ["dpu.firmware_update", "succeeded", id]));
    await expect(failure(admin().rollouts.pause({ id }))).resolves.toMatchObject({ code: "PRECONDITION_FAILED", message: "The rollout has finished." });
  });

  it("pauses at the first failure, keeps later hosts waiting, and finishes when resumed", async () => {
    const four = hosts.slice(0, 4);
    await setDpuPower([four[1]!], "off"); // the second host's DPU cannot take an update
    const { id } = await admin().rollouts.start({ imageUri: image("3.0.2-1"), maxUnavailable: 1, instancePolicy: "skip", hostIds: four.map((h) => h.id) });
    let r = await until(id, (x) => x.status === "paused");
    await runEnded(id);
    r = await admin().rollouts.get({ id });
    expect(r.reason).toBe(`${four[1]!.name} failed: ${four[1]!.name}-dpu: The DPU must be powered on to take an update.`);
    expect(r.hosts.map((h) => h.state)).toEqual(["done", "failed", "pending", "pending"]);
    expect(r.allowed).toEqual({ pause: { ok: false, reason: "It is already paused." }, resume: { ok: true }, abort: { ok: true } });
    expect(await dpuOs(four[2]!.dpuId)).toBe("3.0.1-7"); // not touched while paused

    await setDpuPower([four[1]!], "on");
    await admin().rollouts.resume({ id });
    r = await until(id, (x) => x.status !== "running");
    expect(r.status).toBe("succeeded");
    expect(r.hosts.map((h) => h.state)).toEqual(["done", "done", "done", "done"]);
    for (const h of four) expect(await dpuOs(h.dpuId)).toBe("3.0.2-1");
    const audits = await db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, id), eq(s.auditEvents.action, "rollout.resume")));
    expect(audits.map((a) => a.details)).toEqual([{ retried: [four[1]!.name] }]);
  });

  it("abort skips the hosts not started and starts nothing more", async () => {
    const three = hosts.slice(0, 3);
    const { id } = await admin().rollouts.start({ imageUri: image("3.0.3-1"), maxUnavailable: 1, instancePolicy: "skip", hostIds: three.map((h) => h.id) });
    await until(id, (x) => x.hosts[0]!.state === "updating");
    await admin().rollouts.abort({ id });
    await runEnded(id);
    const r = await admin().rollouts.get({ id });
    expect(r.status).toBe("aborted");
    // The host that was updating finished its update (not cut short); the others never started.
    expect(r.hosts.map((h) => h.state)).toEqual(["done", "skipped", "skipped"]);
    expect(r.hosts[1]!.message).toBe("Not started: the rollout was aborted.");
    expect(r.hosts[1]!.operationIds).toEqual([]);
    expect(await dpuOs(three[1]!.dpuId)).toBe("3.0.2-1");
    await expect(failure(admin().rollouts.resume({ id }))).resolves.toMatchObject({ code: "PRECONDITION_FAILED", message: "The rollout was aborted." });
  });

  it("skips a host running an instance and updates the others", async () => {
    const pair = [hosts[3]!, hosts[4]!];
    const pool = await insertPool(db);
    const inst = await insertInstance(db, { tenantId: fx.tenant.id, poolId: pool.id, nodeId: pair[0]!.id, state: "running" });
    try {
      const { id } = await admin().rollouts.start({ imageUri: image("3.0.4-2"), maxUnavailable: 2, instancePolicy: "skip", hostIds: pair.map((h) => h.id) });
      const r = await until(id, (x) => x.status !== "running");
      expect(r.status).toBe("succeeded");
      expect(r.hosts.map((h) => [h.state, h.message])).toEqual([
        ["skipped", `Runs ${inst.name}: skipped, so its instances keep their DPU.`],
        ["done", "Updated 1 DPU."],
      ]);
      expect(await dpuOs(pair[0]!.dpuId)).toBe("3.0.2-1");
      expect(await dpuOs(pair[1]!.dpuId)).toBe("3.0.4-2");
    } finally {
      await db.update(s.instances).set({ state: "deleted", nodeId: null }).where(eq(s.instances.id, inst.id));
    }
  });

  it("survives a restart of the process running it: the engine recovers the run from Postgres and it finishes", async () => {
    const three = hosts.slice(0, 3);
    const before = Date.now();
    const { id } = await admin().rollouts.start({ imageUri: image("3.0.5-1"), maxUnavailable: 1, instancePolicy: "skip", hostIds: three.map((h) => h.id) });
    await until(id, (x) => x.hosts[0]!.state === "updating");
    // This rollout's run: the only rollout.run started since (the earlier rollouts' runs have ended).
    const runs = await db.execute<{ workflow_uuid: string; executor_id: string }>(
      sql`select workflow_uuid, executor_id from dbos.workflow_status where name = 'rollout.run' and status = 'PENDING' and created_at >= ${before}`,
    );
    expect(runs.rows).toHaveLength(1);
    // The process goes away mid-rollout and comes back as the same replica (DBOS recovers its pending runs at launch).
    await stopEngine();
    await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: runs.rows[0]!.executor_id, schedules: false });
    const r = await until(id, (x) => x.status !== "running");
    expect(r.status).toBe("succeeded");
    expect(r.hosts.map((h) => h.state)).toEqual(["done", "done", "done"]);
    for (const h of three) expect(await dpuOs(h.dpuId)).toBe("3.0.5-1");
    // One update per DPU: nothing was started twice by the recovered run.
    const rows = await db.select().from(s.rolloutHosts).where(eq(s.rolloutHosts.rolloutId, id));
    expect(rows.map((x) => x.operationIds.length)).toEqual([1, 1, 1]);
    const ops = await db.select({ id: s.operations.id }).from(s.operations).where(sql`${s.operations.input}->>'rolloutId' = ${id}`);
    expect(ops).toHaveLength(3);
  });

  it("refuses bad input with the field, starting nothing", async () => {
    const before = await db.select({ id: s.rollouts.id }).from(s.rollouts);
    const both = await failure(admin().rollouts.start({ imageUri: image("9"), maxUnavailable: 1, instancePolicy: "skip" }));
    expect([both.code, fieldOf(both)]).toEqual(["BAD_REQUEST", "poolId"]);
    const dpu = await failure(admin().rollouts.start({ imageUri: image("9"), maxUnavailable: 1, instancePolicy: "skip", hostIds: [hosts[0]!.dpuId] }));
    expect([dpu.code, fieldOf(dpu), dpu.message]).toEqual(["BAD_REQUEST", "hostIds", `Select hosts, not DPUs: ${hosts[0]!.name}-dpu.`]);
    const off = await failure(
      admin().rollouts.start({ imageUri: "http://169.254.169.254/x.bfb", maxUnavailable: 1, instancePolicy: "skip", hostIds: [hosts[0]!.id] }),
    );
    expect([off.code, fieldOf(off)]).toEqual(["BAD_REQUEST", "imageUri"]);
    const empty = await insertPool(db);
    const none = await failure(admin().rollouts.start({ imageUri: image("9"), maxUnavailable: 1, instancePolicy: "skip", poolId: empty.id }));
    expect([none.code, fieldOf(none), none.message]).toEqual(["BAD_REQUEST", "poolId", `Pool ${empty.name} has no hosts.`]);
    expect(await db.select({ id: s.rollouts.id }).from(s.rollouts)).toHaveLength(before.length);
  });
});
