// Live BMC events against the Redfish simulator and a real Postgres: a fault injected at a BMC reaches the node row and
// hardware_events through its event stream (no sync pass runs here), the SEL lands once however often it is read,
// a dropped stream is reopened, a BMC without a stream is left to the sync's polling (which then records its SEL), a
// deleted node's stream is closed; and the IPMI SEL (OpenIPMI's ipmi_sim) is read into hardware_events once.
// The nodes live in a sync shard of their own (SHARD), the only one this test's service may claim.
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { seal } from "@/server/lib/secrets";
import { readSel } from "@/server/workflows/sel";
import { syncShard } from "@/server/workflows/sync";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { bmcAdmin } from "@/test/bmc-admin";
import { useTestDb } from "@/test/db";
import { insertHost } from "@/test/fixtures";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { LiveEvents } from "./service";

const SHARD = 7001;
const db = useTestDb();
let sim: RedfishSim;
let svc: LiveEvents;
const ids: Record<string, string> = {};

async function enrolled(bmcId: string) {
  const b = sim.byId(bmcId)!;
  const row = await insertHost(db, {
    bmcAddress: b.url,
    bmcCredentials: seal(JSON.stringify({ username: b.username, password: b.password })),
    provisionState: "manageable",
    syncShard: SHARD,
  });
  return row.id;
}

const eventsOf = (nodeId: string, kind: string) =>
  db
    .select()
    .from(s.hardwareEvents)
    .where(and(eq(s.hardwareEvents.nodeId, nodeId), eq(s.hardwareEvents.kind, kind)));

beforeAll(async () => {
  // node-0003's BMC offers no event stream (push subscriptions only).
  sim = await startRedfishSim({ hosts: 3, powerTransitionMs: 50, bootMs: 50, dialect: (i) => (i === 2 ? { sse: false } : "lab") });
  for (const id of ["node-0001", "node-0002", "node-0003"]) ids[id] = await enrolled(id);
  svc = new LiveEvents({ maxStreams: 50, rescanMs: 200, noStreamRetryMs: 60_000, debounceMs: 20, shards: [SHARD] });
  svc.start();
});
afterAll(async () => {
  await svc?.stop();
  await sim?.close();
});

describe("live events", () => {
  it("claims its shard and opens a stream to each BMC that offers one", async () => {
    await expect.poll(() => svc.watching().sort(), { timeout: 15_000 }).toEqual([ids["node-0001"], ids["node-0002"]].sort());
    expect(svc.shards()).toEqual([SHARD]);
    // Recorded for the node page (event-delivery router): these two by their stream, the push-less third by nothing.
    await expect
      .poll(
        async () =>
          (
            await db
              .select()
              .from(s.bmcEventSubscriptions)
              .where(inArray(s.bmcEventSubscriptions.nodeId, Object.values(ids)))
          )
            .map((r) => [r.nodeId, r.delivery])
            .sort(),
        { timeout: 10_000 },
      )
      .toEqual(
        [
          [ids["node-0001"], "sse"],
          [ids["node-0002"], "sse"],
        ].sort(),
      );
    // The first look at each watched node (poll + SEL read) is done before faults are injected below.
    await expect.poll(() => svc.idle(), { timeout: 15_000 }).toBe(true);
  });

  it("a health fault injected at the BMC reaches the node and its events through the stream, its SEL entry once", async () => {
    const id = ids["node-0001"]!;
    expect((await db.select().from(s.nodes).where(eq(s.nodes.id, id)))[0]!.fault).toBeNull();
    await bmcAdmin(sim, "PUT", "node-0001/faults", { health: "Critical" });
    await expect.poll(async () => (await db.select().from(s.nodes).where(eq(s.nodes.id, id)))[0]!.health, { timeout: 10_000 }).toBe("critical");
    const [n] = await db.select().from(s.nodes).where(eq(s.nodes.id, id));
    expect(n!.fault).toMatch(/^Critical health/);
    expect((await eventsOf(id, "fault")).map((e) => e.severity)).toEqual(["critical"]);
    await expect.poll(async () => (await eventsOf(id, "sel")).filter((e) => e.severity === "critical").length, { timeout: 10_000 }).toBe(1);
    const before = (await eventsOf(id, "sel")).length;
    expect(await readSel(id)).toBe(0);
    expect(await readSel(id)).toBe(0);
    expect((await eventsOf(id, "sel")).length).toBe(before);
    await bmcAdmin(sim, "DELETE", "node-0001/faults");
  });

  it("an SEL entry the BMC logs (a PSU failure) lands once, with what the BMC said", async () => {
    const id = ids["node-0002"]!;
    await bmcAdmin(sim, "POST", "node-0002/sel", {
      Severity: "Critical",
      Message: "Power supply PSU1 failed.",
      SensorType: "Power Supply / Converter",
      MessageId: "OpenBMC.0.1.PowerSupplyFailed",
    });
    await expect.poll(async () => (await eventsOf(id, "sel")).filter((e) => e.message === "Power supply PSU1 failed.").length, { timeout: 10_000 }).toBe(1);
    const [row] = (await eventsOf(id, "sel")).filter((e) => e.message === "Power supply PSU1 failed.");
    expect(row).toMatchObject({ severity: "critical", details: { messageId: "OpenBMC.0.1.PowerSupplyFailed", sensorType: "Power Supply / Converter" } });
    await expect.poll(() => svc.idle(), { timeout: 10_000 }).toBe(true);
    expect(await readSel(id)).toBe(0);
    expect((await eventsOf(id, "sel")).filter((e) => e.message === "Power supply PSU1 failed.").length).toBe(1);
    await bmcAdmin(sim, "DELETE", "node-0002/faults");
  });

  it("reopens a stream the BMC dropped, catches up on what happened meanwhile and delivers what happens afterwards", async () => {
    const id = ids["node-0001"]!;
    const reopened = svc.reconnected;
    await bmcAdmin(sim, "PUT", "node-0001/faults", { unreachable: true });
    await bmcAdmin(sim, "POST", "node-0001/sel", {
      Severity: "Warning",
      Message: "Fan 3 below threshold.",
      SensorType: "Fan",
      MessageId: "OpenBMC.0.1.FanLow",
    });
    await new Promise((r) => setTimeout(r, 700));
    await bmcAdmin(sim, "DELETE", "node-0001/faults");
    expect(svc.watching()).toContain(id);
    await expect.poll(() => svc.reconnected, { timeout: 20_000 }).toBeGreaterThan(reopened);
    await expect.poll(async () => (await eventsOf(id, "sel")).filter((e) => e.message === "Fan 3 below threshold.").length, { timeout: 10_000 }).toBe(1);
    await bmcAdmin(sim, "POST", "node-0001/sel", {
      Severity: "Warning",
      Message: "Fan 4 below threshold.",
      SensorType: "Fan",
      MessageId: "OpenBMC.0.1.FanLow",
    });
    await expect.poll(async () => (await eventsOf(id, "sel")).filter((e) => e.message === "Fan 4 below threshold.").length, { timeout: 10_000 }).toBe(1);
  });

  it("leaves a BMC without an event stream to the sync, whose pass records its fault and SEL", async () => {
    const id = ids["node-0003"]!;
    expect(svc.watching()).not.toContain(id);
    await bmcAdmin(sim, "POST", "node-0003/sel", {
      Severity: "Critical",
      Message: "Memory ECC uncorrectable.",
      SensorType: "Memory",
      MessageId: "OpenBMC.0.1.MemoryECC",
    });
    await syncShard(SHARD, 0);
    const [n] = await db.select().from(s.nodes).where(eq(s.nodes.id, id));
    expect(n!.health).toBe("critical");
    expect((await eventsOf(id, "sel")).filter((e) => e.message === "Memory ECC uncorrectable.")).toHaveLength(1);
    await bmcAdmin(sim, "DELETE", "node-0003/faults");
  });

  it("closes the stream of a deleted node", async () => {
    const id = ids["node-0002"]!;
    await db.delete(s.nodes).where(eq(s.nodes.id, id));
    await expect.poll(() => svc.watching().includes(id), { timeout: 10_000 }).toBe(false);
    expect(svc.watching()).toContain(ids["node-0001"]);
  });
});

describe("IPMI SEL", () => {
  let ipmi: IpmiSim;
  beforeAll(async () => {
    ipmi = await startIpmiSim({ initialPower: "on", sel: [{ sensorType: 0x01, sensorNumber: 0x30, offset: 0x09, deassert: false }] });
  });
  afterAll(async () => {
    await ipmi?.stop();
  });

  it("reads ipmi_sim's SEL into hardware_events once, adding only new entries", async () => {
    const row = await insertHost(db, {
      bmcDriver: "ipmi",
      bmcAddress: ipmi.address,
      bmcCredentials: seal(JSON.stringify({ username: ipmi.username, password: ipmi.password })),
      provisionState: "manageable",
    });
    const first = await readSel(row.id);
    expect(first).toBe(1);
    expect(await readSel(row.id)).toBe(0);
    await ipmi.addSelEvent({ sensorType: 0x04, sensorNumber: 0x40, offset: 0x00, deassert: false });
    expect(await readSel(row.id)).toBe(1);
    const sel = await eventsOf(row.id, "sel");
    expect(sel).toHaveLength(first + 1);
    expect(new Set(sel.map((e) => e.sourceId)).size).toBe(sel.length);
  });
});
