// The Redfish driver's BIOS capability against the lab's simulated host BMC, over real HTTP: current, pending and
// the attribute registry found through /redfish/v1/Registries; a change pending until the host reboots, then
// applied; a change the registry refuses never reaches the BMC; a BMC without a registry still refuses bad values
// itself; a DPU (no Bios link) and an IPMI BMC have no BIOS capability.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, type SimBmc, startRedfishSim } from "@/sim/redfish";
import { rejection } from "@/test/rejection";
import { createBmcDriver } from "./index";
import { RedfishDriver } from "./redfish";
import { type RedfishProxy, startRedfishProxy } from "./redfish-test-proxy";
import { BmcError } from "./types";

let sim: RedfishSim;
let host: SimBmc;
let dpu: SimBmc;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 2, powerTransitionMs: 30, bootMs: 30 });
  [host, dpu] = sim.bmcs;
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  await sim?.close();
});

function driver(url: string): RedfishDriver {
  const d = new RedfishDriver(
    { driver: "redfish", address: url, credentials: { username: "admin", password: "password" }, timeoutMs: 5000 },
    { backoffMs: 30 },
  );
  cleanup.push(() => d.close());
  return d;
}

async function proxy(b: SimBmc, hooks: Parameters<typeof startRedfishProxy>[1]): Promise<RedfishProxy> {
  const p = await startRedfishProxy(b.url, hooks);
  cleanup.push(() => p.close());
  return p;
}

async function until(what: string, fn: () => Promise<boolean>) {
  const end = Date.now() + 5000;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Redfish BIOS", () => {
  it("reads current attributes, nothing pending, and the BMC's attribute registry", async () => {
    const s = await driver(host.url).bios.get();
    expect(s.current).toMatchObject({ BootMode: "Uefi", SysProfile: "PerfPerWattOptimizedOs", PxeRetryCount: 3, AcPwrRcvry: true });
    expect(s.pending).toEqual({});
    expect(s.registry?.find((a) => a.name === "SysProfile")).toMatchObject({
      type: "Enumeration",
      readOnly: false,
      values: expect.arrayContaining(["PerfOptimized"]),
    });
    expect(s.registry?.find((a) => a.name === "PxeRetryCount")).toMatchObject({ type: "Integer", lowerBound: 0, upperBound: 10 });
    expect(s.registry?.find((a) => a.name === "SystemMemorySize")?.readOnly).toBe(true);
  });

  it("keeps a change pending until the host reboots, then reads it as current", async () => {
    const d = driver(host.url);
    await d.bios.set({ SriovGlobalEnable: "Enabled", OemBanner: "rack 7" });
    const pending = await d.bios.get();
    expect(pending.pending).toEqual({ SriovGlobalEnable: "Enabled", OemBanner: "rack 7" });
    expect(pending.current.SriovGlobalEnable).toBe("Disabled");

    await d.setPower("on");
    await until("BIOS applied", async () => (await d.bios.get()).current.SriovGlobalEnable === "Enabled");
    const after = await d.bios.get();
    expect(after.current).toMatchObject({ SriovGlobalEnable: "Enabled", OemBanner: "rack 7" });
    expect(after.pending).toEqual({});
  });

  it("refuses what the registry refuses without sending a PATCH", async () => {
    const p = await proxy(host, {});
    const d = driver(p.url);
    const before = await d.bios.get();
    for (const [attrs, text] of [
      [{ NoSuchThing: "x" }, /NoSuchThing: .*no BIOS attribute "NoSuchThing"/],
      [{ SysProfile: "Turbo" }, /SysProfile: System Profile must be one of PerfOptimized, PerfPerWattOptimizedOs, Custom/],
      [{ PxeRetryCount: 99 }, /PxeRetryCount: PXE Retry Count must be from 0 to 10/],
      [{ SystemMemorySize: "1 TB" }, /SystemMemorySize: System Memory Size is read-only/],
      [{ AcPwrRcvry: "yes" }, /must be true or false/],
    ] as const) {
      const e = await rejection(d.bios.set(attrs), BmcError);
      expect(e.code).toBe("invalid");
      expect(e.message).toMatch(text);
    }
    expect(p.log.filter((l) => l.method === "PATCH")).toEqual([]);
    expect(await d.bios.get()).toEqual(before);
  });

  it("without a registry on the BMC, sends the change and reports the BMC's refusal", async () => {
    const p = await proxy(host, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/") delete j.Registries;
        return j;
      },
    });
    const d = driver(p.url);
    expect((await d.bios.get()).registry).toBeNull();
    const e = await rejection(d.bios.set({ SysProfile: "Turbo" }), BmcError);
    expect(e.code).toBe("invalid"); // a 400: the request was wrong, in the BMC's words
    expect(e.message).toMatch(/Turbo.*SysProfile/);
    expect((await d.bios.get()).pending).toEqual({});
  });

  it("a DPU has no BIOS link and an IPMI BMC no BIOS capability", async () => {
    expect((await rejection(driver(dpu.url).bios.get(), BmcError)).code).toBe("unsupported");
    const ipmi = createBmcDriver({ driver: "ipmi", address: "127.0.0.1:1", credentials: { username: "u", password: "p" } });
    cleanup.push(() => ipmi.close());
    expect(ipmi.bios).toBeUndefined();
  });
});
