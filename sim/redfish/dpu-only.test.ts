// DPU-only entries (RedfishSimOptions.dpuOnly): the simulator serves the DPU BMC of a host it does not serve (the real
// lab's IPMI hosts sit behind ipmi_sim). Over real HTTP: the DPU BMC answers as a DPU named after its host, with its
// own serial number, no host link and dedicated power, and powers on and off on its own; bad lists are refused.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "./index";
import { powerOf, resetVia, systemOf, waitFor } from "./test-helpers";

let sim: RedfishSim;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 1, idPrefix: "real", dpuOnly: ["real-ipmi-0001"], powerTransitionMs: 20, agentUrl: (id) => `http://127.0.0.1:9/${id}` });
});
afterAll(async () => {
  await sim.close();
});

describe("DPU-only entries", () => {
  it("serve a DPU BMC named after its host, beside the paired host and DPU", async () => {
    expect(sim.bmcs.map((b) => `${b.kind}:${b.id}`)).toEqual(["host:real-0001", "dpu:real-0001-dpu", "dpu:real-ipmi-0001-dpu"]);
    const lone = sim.byId("real-ipmi-0001-dpu")!;
    expect(lone.hostId).toBeUndefined();
    expect(new Set(sim.bmcs.map((b) => b.url)).size).toBe(3); // its own listener
    const sys = await systemOf(lone);
    expect(sys).toMatchObject({
      SystemType: "DPU",
      HostName: "real-ipmi-0001-dpu",
      Oem: { Anvil: { AgentUrl: "http://127.0.0.1:9/real-ipmi-0001-dpu", DedicatedPower: true } },
    });
    expect(sys.Links.OffloadedNetworkDeviceFunctions).toEqual([]);
    const paired = await systemOf(sim.byId("real-0001-dpu")!);
    expect(sys.SerialNumber).toMatch(/\S/);
    expect(sys.SerialNumber).not.toBe(paired.SerialNumber);
  });

  it("power on and off on its own (no host here to follow or to pull along)", async () => {
    const lone = sim.byId("real-ipmi-0001-dpu")!;
    const host = sim.byId("real-0001")!;
    expect((await resetVia(lone, "On")).status).toBeLessThan(300);
    await waitFor("DPU-only On", async () => (await powerOf(lone)) === "On", 5000);
    expect(await powerOf(host)).toBe("Off");
    expect((await resetVia(lone, "ForceOff")).status).toBeLessThan(300);
    await waitFor("DPU-only Off", async () => (await powerOf(lone)) === "Off", 5000);
  });

  it("refuses a list naming one of the simulator's own hosts, a repeat, or a bad id, before listening", async () => {
    await expect(startRedfishSim({ hosts: 2, idPrefix: "real", dpuOnly: ["real-0002"] })).rejects.toThrow(
      "startRedfishSim: dpuOnly: 'real-0002' is one of this simulator's own hosts (it has its DPU already)",
    );
    await expect(startRedfishSim({ hosts: 0, dpuOnly: ["a", "a"] })).rejects.toThrow("startRedfishSim: dpuOnly: host id 'a' repeats");
    await expect(startRedfishSim({ hosts: 0, dpuOnly: ["bad id"] })).rejects.toThrow(
      "startRedfishSim: dpuOnly: host id 'bad id' must be letters, digits, . _ -",
    );
  });
});
