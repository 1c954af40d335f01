// The Redfish driver and a BMC cascade (the xFusion deck's style), against the lab simulator over real HTTP: the host's
// BMC names its DPU through its proxy (discovered as via "cascade", no address of the DPU's own), a driver at that
// proxy path drives the DPU BMC with the DPU's OWN credentials (sessions, power, SEL and live events all through the
// host BMC), and the host's credentials are refused there by the DPU BMC.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { rejection } from "@/test/rejection";
import { RedfishDriver } from "./redfish";
import { BmcError, type BmcLiveEvent } from "./types";

const DPU_PASSWORD = "cascade-Own-9";
let sim: RedfishSim;
const drivers: RedfishDriver[] = [];

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 1, idPrefix: "rcas", cascade: true, dpuPassword: DPU_PASSWORD, powerTransitionMs: 30, bootMs: 20 });
});
afterAll(async () => {
  for (const d of drivers) await d.close().catch(() => {});
  await sim.close();
});

function driver(address: string, password: string): RedfishDriver {
  const d = new RedfishDriver({ driver: "redfish", address, credentials: { username: "admin", password }, timeoutMs: 5000, retries: 0 }, { backoffMs: 20 });
  drivers.push(d);
  return d;
}

describe("a DPU behind its host's BMC", () => {
  it("is discovered through the host BMC's proxy, with no address of its own", async () => {
    const host = sim.byId("rcas-0001")!;
    const inv = await driver(host.url, host.password).getInventory();
    expect(inv.dpus).toEqual([
      {
        systemId: "/redfish/v1/Oem/Anvil/Cascade/rcas-0001-dpu/redfish/v1/Systems/Bluefield",
        networkDeviceFunctions: ["/redfish/v1/Chassis/Chassis.1/NetworkAdapters/Slot.1/NetworkDeviceFunctions/Slot.1-1"],
        bmcUrl: `${host.baseUrl}/redfish/v1/Oem/Anvil/Cascade/rcas-0001-dpu`,
        via: "cascade",
      },
    ]);
    expect(inv.dpuBmcUrl ?? null).toBeNull();
    expect(inv.dpus?.[0]?.bmcUrl).toBe(sim.byId("rcas-0001-dpu")!.url);
  });

  it("is driven through the proxy with its own credentials: inventory, power, SEL and live events", async () => {
    const dpu = sim.byId("rcas-0001-dpu")!;
    const d = driver(dpu.url, DPU_PASSWORD);
    const inv = await d.getInventory();
    expect(inv.systemType).toBe("dpu");
    expect(d.transport.authMode()).toBe("session");
    const got: BmcLiveEvent[] = [];
    const ac = new AbortController();
    const running = d.events.subscribe((e) => got.push(e), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    await d.setPower("on");
    const end = Date.now() + 5000;
    while (Date.now() < end && !got.some((e) => e.powerState === "on")) await new Promise((r) => setTimeout(r, 30));
    ac.abort();
    await running;
    expect(got.some((e) => e.powerState === "on")).toBe(true);
    expect(await d.getPowerState()).toBe("on");
    expect(Array.isArray(await d.listEvents({ limit: 5 }))).toBe(true);
    // Its serial console is reached through the proxy as well.
    expect((await d.consoleUri())?.url.startsWith(`${dpu.url.replace(/^http/, "ws")}/`)).toBe(true);
  });

  it("is refused with the host's credentials: the DPU BMC checks its own", async () => {
    const host = sim.byId("rcas-0001")!;
    const e = await rejection(driver(sim.byId("rcas-0001-dpu")!.url, host.password).getPowerState(), BmcError);
    expect(e.code).toBe("auth");
  });

  it("never sends the DPU's credentials to the host BMC's own resources", async () => {
    const host = sim.byId("rcas-0001")!;
    const d = driver(sim.byId("rcas-0001-dpu")!.url, DPU_PASSWORD);
    expect(d.transport.resolve("/redfish/v1/Systems/Bluefield")).toBe(
      `${host.baseUrl}/redfish/v1/Oem/Anvil/Cascade/rcas-0001-dpu/redfish/v1/Systems/Bluefield`,
    );
    expect(() => d.transport.resolve(`${host.baseUrl}/redfish/v1/Systems/System.Embedded.1`)).toThrow(/outside its service/);
  });
});
