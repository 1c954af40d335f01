// Fault injection through the admin API: latency, errorRate, timeout, unreachable, stuck power, health,
// SEL entries, agent URL; plus the admin API's own pagination and input validation.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "./index";
import { basic, ConsoleClient, powerOf, resetVia, rf, SseReader, systemOf, waitFor } from "./test-helpers";

let sim: RedfishSim;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 5, powerTransitionMs: 40, bootMs: 60 });
});
afterAll(async () => {
  await sim.close();
});

async function admin(path: string, method = "GET", body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${sim.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

describe("admin API", () => {
  it("pages through BMCs with a cursor and filters by kind", async () => {
    const first = await admin("/admin/bmcs?limit=4");
    expect(first.status).toBe(200);
    expect(first.json.items.map((b: any) => b.id)).toEqual(["node-0001", "node-0001-dpu", "node-0002", "node-0002-dpu"]);
    expect(first.json.total).toBe(10);
    const seen = [...first.json.items];
    let cursor = first.json.nextCursor;
    while (cursor) {
      const page = await admin(`/admin/bmcs?limit=4&cursor=${cursor}`);
      seen.push(...page.json.items);
      cursor = page.json.nextCursor;
    }
    expect(seen.map((b) => b.id)).toEqual(sim.bmcs.map((b) => b.id));
    const dpus = await admin("/admin/bmcs?kind=dpu&limit=100");
    expect(dpus.json.items.every((b: any) => b.kind === "dpu")).toBe(true);
    expect(dpus.json.total).toBe(5);
    expect((await admin("/admin/bmcs?limit=0")).status).toBe(400);
    expect((await admin("/admin/bmcs?cursor=abc")).status).toBe(400);
  });

  it("answers 404 for unknown BMCs and 400 for bad bodies", async () => {
    expect((await admin("/admin/bmcs/nope")).status).toBe(404);
    expect((await admin("/admin/bmcs/nope/faults", "PUT", { latencyMs: 1 })).status).toBe(404);
    const bad = await admin("/admin/bmcs/node-0001/faults", "PUT", { errorRate: 2 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/errorRate/);
    expect((await admin("/admin/bmcs/node-0001/faults", "PUT", { surprise: true })).status).toBe(400);
    expect((await admin("/admin/bmcs/node-0001/faults", "PUT", "{not json")).status).toBe(400);
    expect((await admin("/admin/bmcs/node-0001/sel", "POST", { Severity: "Bad", Message: "x", SensorType: "Fan" })).status).toBe(400);
    expect((await admin("/admin/bmcs/node-0001/faults", "POST", {})).status).toBe(405);
    const detail = await admin("/admin/bmcs/node-0001");
    expect(detail.json).toMatchObject({ id: "node-0001", kind: "host", dpuId: "node-0001-dpu", powerState: "Off", faults: null });
  });
});

describe("faults", () => {
  it("latencyMs delays every answer of that BMC only", async () => {
    const h = sim.byId("node-0001")!;
    const other = sim.byId("node-0002")!;
    expect((await admin("/admin/bmcs/node-0001/faults", "PUT", { latencyMs: 300 })).status).toBe(200);
    let t0 = Date.now();
    expect((await rf(h, "/redfish/v1/")).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    t0 = Date.now();
    await rf(other, "/redfish/v1/");
    expect(Date.now() - t0).toBeLessThan(290);
    expect((await admin("/admin/bmcs/node-0001/faults", "DELETE")).status).toBe(204);
    t0 = Date.now();
    await rf(h, "/redfish/v1/");
    expect(Date.now() - t0).toBeLessThan(290);
  });

  it("errorRate 1 turns every request (and console upgrade) into a 5xx", async () => {
    const h = sim.byId("node-0002")!;
    await admin("/admin/bmcs/node-0002/faults", "PUT", { errorRate: 1 });
    for (let i = 0; i < 6; i++) {
      const r = await rf(h, "/redfish/v1/Systems");
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(r.json.error["@Message.ExtendedInfo"].length).toBe(1);
    }
    await expect(ConsoleClient.open(`ws${h.url.slice(4)}/console/System.Embedded.1`, { authorization: basic("admin", "password") })).rejects.toThrow(/503/);
    await admin("/admin/bmcs/node-0002/faults", "DELETE");
    expect((await rf(h, "/redfish/v1/Systems")).status).toBe(200);
  });

  it("timeout accepts the request but never answers", async () => {
    const h = sim.byId("node-0002")!;
    await admin("/admin/bmcs/node-0002/faults", "PUT", { timeout: true });
    const t0 = Date.now();
    await expect(fetch(`${h.url}/redfish/v1/`, { signal: AbortSignal.timeout(400) })).rejects.toThrow();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    await admin("/admin/bmcs/node-0002/faults", "DELETE");
    expect((await rf(h, "/redfish/v1/")).status).toBe(200);
  });

  it("unreachable refuses connections and cuts open ones, then recovers", async () => {
    const h = sim.byId("node-0003")!;
    const c = await ConsoleClient.open((await systemOf(h)).SerialConsole.WebSocket.ConsoleURI, { authorization: basic("admin", "password") });
    const sse = await SseReader.open(`${h.url}/redfish/v1/EventService/SSE`, { authorization: basic("admin", "password") });
    expect((await admin("/admin/bmcs/node-0003/faults", "PUT", { unreachable: true })).status).toBe(200);
    await expect(fetch(`${h.url}/redfish/v1/`)).rejects.toThrow();
    await waitFor("console cut", () => c.closed);
    sse.close();
    // Other BMCs are not affected.
    expect((await rf(sim.byId("node-0004")!, "/redfish/v1/")).status).toBe(200);
    await admin("/admin/bmcs/node-0003/faults", "DELETE");
    expect((await rf(h, "/redfish/v1/")).status).toBe(200);
  });

  it("stuckPower accepts Reset but the state never changes", async () => {
    const h = sim.byId("node-0004")!;
    await admin("/admin/bmcs/node-0004/faults", "PUT", { stuckPower: true });
    expect((await resetVia(h, "On")).status).toBe(204);
    await new Promise((r) => setTimeout(r, 150));
    expect(await powerOf(h)).toBe("Off");
    await admin("/admin/bmcs/node-0004/faults", "DELETE");
    await resetVia(h, "On");
    await waitFor("On", async () => (await powerOf(h)) === "On");
  });

  it("health Critical shows in Status, writes a SEL entry and an event; clearing restores OK", async () => {
    const h = sim.byId("node-0005")!;
    const sse = await SseReader.open(`${h.url}/redfish/v1/EventService/SSE`, { authorization: basic("admin", "password") });
    try {
      await admin("/admin/bmcs/node-0005/faults", "PUT", { health: "Critical" });
      const s = await systemOf(h);
      expect(s.Status.Health).toBe("Critical");
      const sel = await rf(h, "/redfish/v1/Systems/System.Embedded.1/LogServices/SEL/Entries");
      const last = sel.json.Members[sel.json.Members.length - 1];
      expect(last).toMatchObject({ Severity: "Critical", SensorType: "Management Subsystem Health" });
      await waitFor("health event", () => sse.events.find((e) => e.Events[0].MessageId.endsWith("ResourceStatusChangedCritical")));
      await admin("/admin/bmcs/node-0005/faults", "DELETE");
      expect((await systemOf(h)).Status.Health).toBe("OK");
    } finally {
      sse.close();
    }
  });

  it("an injected PSU failure lands in the SEL, raises health and is streamed", async () => {
    const h = sim.byId("node-0005")!;
    const sse = await SseReader.open(`${h.url}/redfish/v1/EventService/SSE`, { authorization: basic("admin", "password") });
    try {
      const r = await admin("/admin/bmcs/node-0005/sel", "POST", {
        Severity: "Critical",
        Message: "Power supply PSU1 failed.",
        SensorType: "Power Supply / Converter",
        MessageId: "OpenBMC.0.1.PowerSupplyFailed",
      });
      expect(r.status).toBe(201);
      const entry = await rf(h, r.json["@odata.id"]);
      expect(entry.json).toMatchObject({
        Severity: "Critical",
        Message: "Power supply PSU1 failed.",
        SensorType: "Power Supply / Converter",
        EntryType: "SEL",
      });
      expect((await systemOf(h)).Status.Health).toBe("Critical");
      await waitFor("SEL event", () => sse.events.find((e) => e.Events[0].MessageId === "OpenBMC.0.1.PowerSupplyFailed"));
    } finally {
      sse.close();
      await admin("/admin/bmcs/node-0005/faults", "DELETE");
    }
  });

  it("sets a DPU's agent URL (Oem.Anvil.AgentUrl) and refuses it on a host", async () => {
    const r = await admin("/admin/bmcs/node-0001-dpu/agent-url", "PUT", { url: "http://127.0.0.1:7777" });
    expect(r.status).toBe(200);
    expect((await systemOf(sim.byId("node-0001-dpu")!)).Oem.Anvil.AgentUrl).toBe("http://127.0.0.1:7777");
    expect((await admin("/admin/bmcs/node-0001/agent-url", "PUT", { url: "http://127.0.0.1:7777" })).status).toBe(400);
    expect((await admin("/admin/bmcs/node-0001-dpu/agent-url", "PUT", { url: "ftp://x" })).status).toBe(400);
    sim.setAgentUrl("node-0001-dpu", null);
    expect((await systemOf(sim.byId("node-0001-dpu")!)).Oem.Anvil.AgentUrl).toBeNull();
  });

  it("marks a host's disk bootable through the admin API (out-of-process labs)", async () => {
    const h = sim.byId("node-0004")!;
    await resetVia(h, "ForceOff");
    expect((await admin("/admin/bmcs/node-0004/bootable", "PUT", { bootable: true })).status).toBe(200);
    expect((await admin("/admin/bmcs/node-0004-dpu/bootable", "PUT", { bootable: true })).status).toBe(400);
    expect((await admin("/admin/bmcs/node-0004/bootable", "PUT", { bootable: "yes" })).status).toBe(400);
    await resetVia(h, "On");
    await waitFor("OSRunning", async () => (await systemOf(h)).BootProgress.LastState === "OSRunning");
    expect((await admin("/admin/bmcs/node-0004")).json).toMatchObject({ bootable: true, powerState: "On", bootProgress: "OSRunning" });
  });
});
