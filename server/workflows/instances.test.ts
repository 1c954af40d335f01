// Tests of the node reservation (a host whose DPU has a fault is skipped too) against the real Postgres: only an available, fault-free, non-maintenance host
// of the pool with an agent-equipped DPU is taken; it moves to deploying; concurrent reservations take different
// hosts (SKIP LOCKED) and the one that finds none gets null; a repeated call returns the same host.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { seal } from "@/server/lib/secrets";
import { uniq, useTestDb } from "@/test/db";
import { type Fixtures, insertHost, insertInstance, insertPool, makeFixtures } from "@/test/fixtures";
import { reserveNode } from "./instances";

let fx: Fixtures;

async function host(poolId: string, values: Partial<typeof s.nodes.$inferInsert> = {}, dpu: { agent: boolean } = { agent: true }) {
  const h = await insertHost(fx.db, { poolId, provisionState: "available", ...values });
  await insertHost(fx.db, {
    name: uniq("dpu"),
    kind: "dpu",
    parentNodeId: h.id,
    ...(dpu.agent ? { agentUrl: "http://127.0.0.1:1", agentToken: seal("t") } : {}),
  });
  return h;
}

async function pool() {
  return (await insertPool(fx.db)).id;
}

async function instance(poolId: string) {
  return (await insertInstance(fx.db, { tenantId: fx.tenant.id, poolId, systemVolumeSizeGiB: 10 })).id;
}

const stateOf = async (id: string) => (await fx.db.select().from(s.nodes).where(eq(s.nodes.id, id)))[0]!.provisionState;

beforeAll(async () => {
  fx = await makeFixtures(useTestDb());
});

describe("reserveNode", () => {
  it("skips hosts in maintenance, with a fault, not available or without an agent, and takes the good one", async () => {
    const p = await pool();
    await host(p, { maintenance: true });
    await host(p, { fault: "BMC unreachable" });
    await host(p, { provisionState: "active" });
    await host(p, {}, { agent: false });
    const faultyDpu = await host(p);
    await fx.db.update(s.nodes).set({ fault: "agent heartbeat lost" }).where(eq(s.nodes.parentNodeId, faultyDpu.id));
    const good = await host(p);
    const inst = await instance(p);
    const r = await fx.db.transaction((tx) => reserveNode(tx, p, inst));
    expect(r?.hostId).toBe(good.id);
    expect(r?.dpuId).toBeTruthy();
    expect(await stateOf(good.id)).toBe("deploying");
    const [row] = await fx.db.select().from(s.instances).where(eq(s.instances.id, inst));
    expect(row!.nodeId).toBe(good.id);
    // Idempotent: a retried step gets the same host back without another transition.
    const again = await fx.db.transaction((tx) => reserveNode(tx, p, inst));
    expect(again?.hostId).toBe(good.id);
  });

  it("gives concurrent creates different hosts and null to the one left without", async () => {
    const p = await pool();
    const hosts = [await host(p), await host(p)];
    const insts = [await instance(p), await instance(p), await instance(p)];
    const results = await Promise.all(insts.map((i) => fx.db.transaction((tx) => reserveNode(tx, p, i))));
    const taken = results.filter((r) => r !== null).map((r) => r!.hostId);
    expect(taken.sort()).toEqual(hosts.map((h) => h.id).sort());
    expect(results.filter((r) => r === null)).toHaveLength(1);
  });
});
