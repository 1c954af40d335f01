// Power semantics of the simulator over real HTTP: every ResetType, transition timing, BootProgress,
// host/DPU coupling in both directions, dedicated DPU supply, SEL entries and the SSE event stream.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "./index";
import { basic, powerOf, resetVia, rf, SseReader, systemOf, waitFor } from "./test-helpers";

// Generous enough that a loaded 2-core machine still observes the transitional states.
const T = 250; // powerTransitionMs
const BOOT = 200;
let sim: RedfishSim;

beforeAll(async () => {
  // Host 0 and 1 have coupled DPUs; host 2's DPU has a dedicated supply.
  sim = await startRedfishSim({ hosts: 6, powerTransitionMs: T, bootMs: BOOT, dedicatedDpuPower: (i) => i === 2 });
});
afterAll(async () => {
  await sim.close();
});

const b = (id: string) => sim.byId(id)!;

async function until(id: string, state: string, timeoutMs = 3000): Promise<void> {
  await waitFor(`${id} ${state}`, async () => (await powerOf(b(id))) === state, timeoutMs);
}

describe("ComputerSystem.Reset", () => {
  it("On goes PoweringOn, then On after powerTransitionMs, then boots to OSRunning when bootable", async () => {
    const h = b("node-0004");
    sim.setBootable(h.id, true);
    const t0 = Date.now();
    expect((await resetVia(h, "On")).status).toBe(204);
    expect(await powerOf(h)).toBe("PoweringOn");
    await until(h.id, "On");
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(T - 5);
    expect(took).toBeLessThan(T + 1500);
    const progress = await waitFor("OSRunning", async () => {
      const s = await systemOf(h);
      return s.BootProgress.LastState === "OSRunning" && s;
    });
    expect(progress.Status.State).toBe("Enabled");
    // On while On is a no-op.
    expect((await resetVia(h, "On")).status).toBe(204);
    expect(await powerOf(h)).toBe("On");
  });

  it("a host without a bootable disk stays short of OSRunning", async () => {
    const h = b("node-0005");
    await resetVia(h, "On");
    await until(h.id, "On");
    await new Promise((r) => setTimeout(r, BOOT + 60));
    const s = await systemOf(h);
    expect(s.BootProgress.LastState).not.toBe("OSRunning");
    expect(s.BootProgress.LastState).toBe("SystemHardwareInitializationComplete");
  });

  it("ForceOff is immediate; GracefulShutdown goes through PoweringOff", async () => {
    const h = b("node-0004");
    expect(await powerOf(h)).toBe("On");
    await resetVia(h, "GracefulShutdown");
    expect(await powerOf(h)).toBe("PoweringOff");
    await until(h.id, "Off");
    await resetVia(h, "On");
    await until(h.id, "On");
    await resetVia(h, "ForceOff");
    expect(await powerOf(h)).toBe("Off");
    expect((await systemOf(h)).BootProgress.LastState).toBe("None");
  });

  it("restarts pass through Off and come back On; restarts and Nmi are refused while Off", async () => {
    const h = b("node-0006");
    for (const t of ["GracefulRestart", "ForceRestart", "Nmi"]) {
      const r = await resetVia(h, t);
      expect(r.status).toBe(409);
      expect(r.json.error["@Message.ExtendedInfo"][0].Message).toMatch(new RegExp(t));
    }
    await resetVia(h, "On");
    await until(h.id, "On");

    await resetVia(h, "ForceRestart");
    expect(await powerOf(h)).toBe("PoweringOn");
    await until(h.id, "On");

    await resetVia(h, "GracefulRestart");
    expect(await powerOf(h)).toBe("PoweringOff");
    await until(h.id, "PoweringOn");
    await until(h.id, "On");

    await resetVia(h, "PowerCycle");
    expect(await powerOf(h)).toBe("PoweringOn");
    await until(h.id, "On");

    expect((await resetVia(h, "Nmi")).status).toBe(204);
    expect(await powerOf(h)).toBe("On");

    // Each change left SEL entries: power off/on pairs and the NMI.
    const entries = await rf(h, "/redfish/v1/Systems/System.Embedded.1/LogServices/SEL/Entries");
    const ids = entries.json.Members.map((e: any) => e.MessageId);
    expect(ids.filter((i: string) => i.endsWith(".PowerOn")).length).toBeGreaterThanOrEqual(4);
    expect(ids.filter((i: string) => i.endsWith(".PowerOff")).length).toBeGreaterThanOrEqual(3);
    expect(ids.some((i: string) => i.endsWith(".NmiAsserted"))).toBe(true);
    await resetVia(h, "ForceOff");
  });
});

describe("host/DPU power coupling", () => {
  it("powering the DPU on while its host is off powers the host on", async () => {
    const h = b("node-0001");
    const d = b("node-0001-dpu");
    expect(await powerOf(h)).toBe("Off");
    await resetVia(d, "On");
    await until(d.id, "On");
    await until(h.id, "On");
  });

  it("any host power-off takes a coupled DPU down; a warm restart does not", async () => {
    const h = b("node-0001");
    const d = b("node-0001-dpu");
    await resetVia(h, "ForceRestart");
    await until(h.id, "On");
    expect(await powerOf(d)).toBe("On");

    await resetVia(h, "GracefulShutdown");
    await until(h.id, "Off");
    expect(await powerOf(d)).toBe("Off");
    const sel = await rf(d, "/redfish/v1/Systems/Bluefield/LogServices/SEL/Entries");
    expect(sel.json.Members.some((e: any) => /Host power lost/.test(e.Message))).toBe(true);

    await resetVia(d, "On");
    await until(h.id, "On");
    await until(d.id, "On");
    await resetVia(h, "ForceOff");
    expect(await powerOf(d)).toBe("Off");
  });

  it("a power cycle of the host power-cycles a coupled DPU", async () => {
    const h = b("node-0002");
    const d = b("node-0002-dpu");
    await resetVia(d, "On");
    await until(d.id, "On");
    await until(h.id, "On");
    await resetVia(h, "PowerCycle");
    expect(await powerOf(d)).toBe("PoweringOn");
    await until(d.id, "On");
    await until(h.id, "On");
  });

  it("a DPU with a dedicated supply survives host power-off and powers on alone", async () => {
    const h = b("node-0003");
    const d = b("node-0003-dpu");
    await resetVia(d, "On");
    await until(d.id, "On");
    expect(await powerOf(h)).toBe("Off");
    await resetVia(h, "On");
    await until(h.id, "On");
    await resetVia(h, "ForceOff");
    expect(await powerOf(d)).toBe("On");
    expect((await systemOf(d)).Oem.Anvil.DedicatedPower).toBe(true);
  });
});

describe("EventService", () => {
  it("streams power-change events over SSE as Redfish Event payloads", async () => {
    const h = b("node-0006");
    await resetVia(h, "ForceOff");
    const es = await rf(h, "/redfish/v1/EventService");
    const sse = await SseReader.open(`${h.url}${es.json.ServerSentEventUri}`, { authorization: basic(h.username, h.password) });
    try {
      expect(sse.status).toBe(200);
      await resetVia(h, "On");
      const ev = await waitFor("ResourcePoweredOn event", () => sse.events.find((e) => e.Events?.some((x: any) => x.MessageId.endsWith("ResourcePoweredOn"))));
      expect(ev["@odata.type"]).toMatch(/^#Event\./);
      expect(ev.Events[0].OriginOfCondition["@odata.id"]).toBe("/redfish/v1/Systems/System.Embedded.1");
      expect(sse.events.some((e) => e.Events[0].MessageId.endsWith("ResourcePoweringOn"))).toBe(true);
    } finally {
      sse.close();
    }
    const unauth = await SseReader.open(`${h.url}${es.json.ServerSentEventUri}`, {});
    expect(unauth.status).toBe(401);
    unauth.close();
  });

  it("creates subscriptions (201 + Location) and pushes events to a loopback destination", async () => {
    const { createServer } = await import("node:http");
    const got: any[] = [];
    const receiver = createServer((req, res) => {
      let text = "";
      req.on("data", (d) => (text += d));
      req.on("end", () => {
        got.push(JSON.parse(text));
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    const port = (receiver.address() as any).port;
    try {
      const h = b("node-0005");
      const bad = await rf(h, "/redfish/v1/EventService/Subscriptions", { body: { Destination: "nope" } });
      expect(bad.status).toBe(400);
      const r = await rf(h, "/redfish/v1/EventService/Subscriptions", {
        body: { Destination: `http://127.0.0.1:${port}/events`, Protocol: "Redfish", Context: "anvil-test" },
      });
      expect(r.status).toBe(201);
      const loc = r.headers.get("location")!;
      expect((await rf(h, loc)).json.Destination).toBe(`http://127.0.0.1:${port}/events`);
      await resetVia(h, "ForceOff");
      const ev = await waitFor("pushed event", () => got.find((e) => e.Events[0].MessageId.endsWith("ResourcePoweredOff")));
      expect(ev.Context).toBe("anvil-test");
      expect((await rf(h, loc, { method: "DELETE" })).status).toBe(204);
      expect((await rf(h, loc)).status).toBe(404);
    } finally {
      receiver.close();
    }
  });
});
