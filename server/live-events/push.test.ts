// Pushed BMC events (Redfish EventService subscriptions) against the Redfish simulator, the real receiver route behind
// the front door and a real Postgres: a BMC without an event stream gets a subscription to the receiver carrying a
// per-subscription token; a fault injected at it reaches hardware_events once; a request with an unknown token (or a
// bad body) is refused and changes nothing; a subscription the BMC lost is re-created; a deleted node's subscription
// and those of a stopped service (its shards move) are deleted at the BMC. A BMC offering neither stays on polling.
// The nodes live in a sync shard of their own (SHARD), the only one this test's service may claim; no sync pass runs.
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { seal } from "@/server/lib/secrets";
import { type RedfishSim, type SimBmc, startRedfishSim } from "@/sim/redfish";
import { rf } from "@/sim/redfish/test-helpers";
import { bmcAdmin } from "@/test/bmc-admin";
import { useTestDb } from "@/test/db";
import { callerAs, insertHost, makeFixtures } from "@/test/fixtures";
import { type AppServer, startAppServer } from "@/test/http-app";
import { pushStats, tokenHash } from "./push";
import { type LiveEvents, pushBaseUrlFromEnv, startLiveEvents } from "./service";

const SHARD = 7002;
const db = useTestDb();
let sim: RedfishSim;
let app: AppServer;
let svc: LiveEvents;
const ids: Record<string, string> = {};

async function enroll(bmcId: string) {
  const b = sim.byId(bmcId)!;
  const row = await insertHost(db, {
    bmcAddress: b.url,
    bmcCredentials: seal(JSON.stringify({ username: b.username, password: b.password })),
    provisionState: "manageable",
    syncShard: SHARD,
  });
  ids[bmcId] = row.id;
  return row.id;
}

/** The EventDestinations the BMC holds, as the BMC shows them. */
async function subscriptionsAt(bmcId: string): Promise<Array<{ uri: string; destination: string; context: string }>> {
  const b = sim.byId(bmcId)! as SimBmc;
  const coll = await rf(b, "/redfish/v1/EventService/Subscriptions");
  const out = [];
  for (const m of coll.json.Members as Array<{ "@odata.id": string }>) {
    const one = await rf(b, m["@odata.id"]);
    out.push({ uri: m["@odata.id"], destination: one.json.Destination as string, context: one.json.Context as string });
  }
  return out;
}

const rowOf = async (nodeId: string) => (await db.select().from(s.bmcEventSubscriptions).where(eq(s.bmcEventSubscriptions.nodeId, nodeId)))[0];
const eventsOf = (nodeId: string) => db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, nodeId));
const selWith = async (nodeId: string, message: string) =>
  (
    await db
      .select()
      .from(s.hardwareEvents)
      .where(and(eq(s.hardwareEvents.nodeId, nodeId), eq(s.hardwareEvents.kind, "sel")))
  ).filter((e) => e.message === message).length;

const event = (context?: string) => ({
  "@odata.type": "#Event.v1_7_0.Event",
  Id: "1",
  Name: "Event Array",
  ...(context ? { Context: context } : {}),
  Events: [
    {
      EventType: "Alert",
      EventId: "1",
      Severity: "Critical",
      Message: "Fan 1 failed.",
      MessageId: "OpenBMC.0.1.FanFailed",
      OriginOfCondition: { "@odata.id": "/redfish/v1/Systems/System.Embedded.1" },
    },
  ],
});

const post = (path: string, body: unknown) =>
  fetch(`${app.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

beforeAll(async () => {
  // node-0001 and node-0003 (enrolled later): push subscriptions only; node-0002: no live events at all.
  sim = await startRedfishSim({ hosts: 3, powerTransitionMs: 50, bootMs: 50, dialect: (i) => (i === 1 ? "no-events" : "push-only") });
  app = await startAppServer();
  for (const id of ["node-0001", "node-0002"]) await enroll(id);
  svc = startLiveEvents({
    maxStreams: 50,
    rescanMs: 200,
    noStreamRetryMs: 60_000,
    debounceMs: 20,
    shards: [SHARD],
    pushBaseUrl: app.url,
    subscriptionCheckMs: 300,
  });
});
afterAll(async () => {
  await svc?.stop();
  await app?.close();
  await sim?.close();
});

describe("pushed BMC events", () => {
  it("subscribes a BMC without an event stream to the receiver, with a token of its own bound to the node", async () => {
    const id = ids["node-0001"]!;
    await expect.poll(() => svc.deliveryOf(id), { timeout: 15_000 }).toBe("push");
    const [sub, ...more] = await subscriptionsAt("node-0001");
    expect(more).toEqual([]);
    expect(sub!.context).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sub!.destination).toBe(`${app.url}/api/bmc-events/${sub!.context}`);
    expect(await rowOf(id)).toMatchObject({
      delivery: "push",
      subscriptionUri: sub!.uri,
      tokenHash: tokenHash(sub!.context),
      destination: `${app.url}/api/bmc-events/`,
    });
    // The token itself is nowhere in Anvil's database.
    expect(JSON.stringify(await rowOf(id))).not.toContain(sub!.context);
    await expect.poll(() => svc.idle(), { timeout: 10_000 }).toBe(true);
  });

  it("leaves a BMC offering neither an event stream nor subscriptions on polling", async () => {
    const id = ids["node-0002"]!;
    await svc.rescan();
    expect(svc.watching()).not.toContain(id);
    expect(await rowOf(id)).toBeUndefined();
    expect((await rf(sim.byId("node-0002")! as SimBmc, "/redfish/v1/EventService/Subscriptions")).status).toBe(404);
  });

  it("tells the node page how each node's events arrive (push, polling; SSE in service.test.ts' nodes)", async () => {
    const viewer = callerAs(await makeFixtures(db), "operatorViewer");
    expect(await viewer.eventDelivery.get({ id: ids["node-0001"]! })).toMatchObject({ delivery: "push" });
    expect(await viewer.eventDelivery.get({ id: ids["node-0002"]! })).toMatchObject({ delivery: "polling", since: null });
  });

  it("a fault injected at the push-only BMC reaches the node and hardware_events once, however often it is pushed", async () => {
    const id = ids["node-0001"]!;
    const pushed = pushStats.accepted;
    await bmcAdmin(sim, "PUT", "node-0001/faults", { health: "Critical" });
    await expect.poll(async () => (await db.select().from(s.nodes).where(eq(s.nodes.id, id)))[0]!.health, { timeout: 10_000 }).toBe("critical");
    await bmcAdmin(sim, "POST", "node-0001/sel", {
      Severity: "Critical",
      Message: "Power supply PSU2 failed.",
      SensorType: "Power Supply / Converter",
      MessageId: "OpenBMC.0.1.PowerSupplyFailed",
    });
    await expect.poll(() => selWith(id, "Power supply PSU2 failed."), { timeout: 10_000 }).toBe(1);
    // It came by push (no sync pass runs here): the BMC posted to the receiver.
    expect(pushStats.accepted).toBeGreaterThan(pushed);
    await expect.poll(() => svc.idle(), { timeout: 10_000 }).toBe(true);
    // The same event delivered again (BMCs retry) reads the log again and adds nothing.
    const [sub] = await subscriptionsAt("node-0001");
    const before = (await eventsOf(id)).length;
    const accepted = pushStats.accepted;
    expect((await post(`/api/bmc-events/${sub!.context}`, event(sub!.context))).status).toBe(204);
    expect(pushStats.accepted).toBe(accepted + 1);
    await expect.poll(() => svc.idle(), { timeout: 10_000 }).toBe(true);
    expect((await eventsOf(id)).length).toBe(before);
    expect(await selWith(id, "Power supply PSU2 failed.")).toBe(1);
    await bmcAdmin(sim, "DELETE", "node-0001/faults");
  });

  it("refuses an unknown token with 404 and a bad body with 400, changing nothing", async () => {
    // A BMC of its own, where nothing happens meanwhile: any push accepted below would be one of these requests.
    const id = await enroll("node-0003");
    await expect.poll(() => svc.deliveryOf(id), { timeout: 15_000 }).toBe("push");
    await expect.poll(() => svc.idle(), { timeout: 10_000 }).toBe(true);
    const before = (await eventsOf(id)).length;
    const accepted = pushStats.accepted;
    const [sub] = await subscriptionsAt("node-0003");
    const row = await rowOf(id);
    const unknown = randomBytes(32).toString("base64url");
    const refused = await post(`/api/bmc-events/${unknown}`, event(unknown));
    expect(refused.status).toBe(404);
    expect((await refused.json()).error.code).toBe("NOT_FOUND");
    expect((await post("/api/bmc-events/not-a-token", event())).status).toBe(404);
    const tok = sub!.context;
    for (const [body, why] of [
      ["{not json", /not JSON/],
      [{ Events: [] }, /Events/],
      [{ Events: [{ Message: "no id" }] }, /Events\.0\.MessageId/],
      [event("another-context"), /Context/],
    ] as const) {
      const r = await post(`/api/bmc-events/${tok}`, body);
      expect(r.status).toBe(400);
      expect((await r.json()).error.message).toMatch(why);
    }
    const big = await post(`/api/bmc-events/${tok}`, { ...event(tok), Padding: "x".repeat(70 * 1024) });
    expect(big.status).toBe(413);
    // None was taken as an event of the node, and nothing was written.
    expect(pushStats.accepted).toBe(accepted);
    expect((await eventsOf(id)).length).toBe(before);
    expect(await rowOf(id)).toEqual(row);
  });

  it("re-creates the subscription of a BMC that lost it, and its events arrive again", async () => {
    const id = ids["node-0001"]!;
    const [old] = await subscriptionsAt("node-0001");
    const again = svc.resubscribed;
    // What a BMC reset does to its subscriptions.
    expect((await rf(sim.byId("node-0001")! as SimBmc, old!.uri, { method: "DELETE" })).status).toBe(204);
    await expect.poll(() => svc.resubscribed, { timeout: 15_000 }).toBeGreaterThan(again);
    const [now, ...more] = await subscriptionsAt("node-0001");
    expect(more).toEqual([]);
    expect(now!.context).not.toBe(old!.context);
    expect((await rowOf(id))!.tokenHash).toBe(tokenHash(now!.context));
    // The lost subscription's token is dead.
    expect((await post(`/api/bmc-events/${old!.context}`, event(old!.context))).status).toBe(404);
    await bmcAdmin(sim, "POST", "node-0001/sel", {
      Severity: "Warning",
      Message: "Fan 2 below threshold.",
      SensorType: "Fan",
      MessageId: "OpenBMC.0.1.FanLow",
    });
    await expect.poll(() => selWith(id, "Fan 2 below threshold."), { timeout: 10_000 }).toBe(1);
  });

  it("deletes the subscription at the BMC when the node is deleted", async () => {
    const id = ids["node-0001"]!;
    expect(await subscriptionsAt("node-0001")).toHaveLength(1);
    await db.delete(s.nodes).where(eq(s.nodes.id, id));
    await expect.poll(() => svc.watching().includes(id), { timeout: 10_000 }).toBe(false);
    await expect.poll(() => subscriptionsAt("node-0001"), { timeout: 10_000 }).toEqual([]);
  });

  it("deletes its subscriptions at the BMCs when the service stops (its shards move to another replica)", async () => {
    const id = ids["node-0003"]!;
    expect(svc.deliveryOf(id)).toBe("push");
    expect(await subscriptionsAt("node-0003")).toHaveLength(1);
    await svc.stop();
    expect(await subscriptionsAt("node-0003")).toEqual([]);
    expect(await rowOf(id)).toBeUndefined();
  });
});

describe("where BMCs push to", () => {
  it("is ANVIL_BMC_EVENTS_URL, else a non-loopback ANVIL_URL, else this process on 127.0.0.1 (the lab)", () => {
    expect(pushBaseUrlFromEnv({ ANVIL_BMC_EVENTS_URL: "https://anvil-mgmt.example:8443/", ANVIL_URL: "https://anvil.example" })).toBe(
      "https://anvil-mgmt.example:8443",
    );
    expect(pushBaseUrlFromEnv({ ANVIL_URL: "https://anvil.example/console" })).toBe("https://anvil.example");
    expect(pushBaseUrlFromEnv({ ANVIL_URL: "http://localhost:3274", PORT: "3274" })).toBe("http://127.0.0.1:3274");
    expect(pushBaseUrlFromEnv({})).toBe("http://127.0.0.1:3000");
  });
});
