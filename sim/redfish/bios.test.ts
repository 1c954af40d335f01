// BIOS settings on a simulated host: Bios with @Redfish.Settings, PATCH of Bios/Settings kept pending until the
// next power-on or reboot (then current, pending cleared, a SEL entry), the attribute registry found through
// /redfish/v1/Registries, and refusals (unknown attribute, bad value, read-only) that change nothing.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "./index";
import { rf, waitFor } from "./test-helpers";

let sim: RedfishSim;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 2, powerTransitionMs: 30, bootMs: 30 });
});
afterAll(async () => {
  await sim.close();
});

const host = () => sim.byId("node-0001")!;
const dpu = () => sim.byId("node-0001-dpu")!;

async function biosPaths() {
  const systems = await rf(host(), "/redfish/v1/Systems");
  const sys = await rf(host(), systems.json.Members[0]["@odata.id"]);
  const bios = await rf(host(), sys.json.Bios["@odata.id"]);
  return { sys: sys.json, bios: bios.json, settings: bios.json["@Redfish.Settings"].SettingsObject["@odata.id"] as string };
}

async function reset(type: string) {
  const { sys } = await biosPaths();
  const r = await rf(host(), sys.Actions["#ComputerSystem.Reset"].target, { body: { ResetType: type } });
  expect(r.status).toBe(204);
}

describe("BIOS settings", () => {
  it("serves the attribute registry named by the Bios resource", async () => {
    const { bios } = await biosPaths();
    const root = await rf(host(), "/redfish/v1/");
    const files = await rf(host(), root.json.Registries["@odata.id"]);
    const file = files.json.Members.map((m: any) => m["@odata.id"]).find((p: string) => p.endsWith(`/${bios.AttributeRegistry}`));
    expect(file).toBeDefined();
    const f = await rf(host(), file);
    const reg = await rf(host(), f.json.Location[0].Uri);
    expect(reg.json["@odata.type"]).toMatch(/^#AttributeRegistry\./);
    const names = reg.json.RegistryEntries.Attributes.map((a: any) => a.AttributeName);
    expect(names).toEqual(expect.arrayContaining(Object.keys(bios.Attributes)));
  });

  it("keeps a PATCH pending until the next boot, then applies it and clears pending", async () => {
    const { bios, settings } = await biosPaths();
    expect(bios.Attributes.SysProfile).toBe("PerfPerWattOptimizedOs");
    const r = await rf(host(), settings, { method: "PATCH", body: { Attributes: { SysProfile: "PerfOptimized", PxeRetryCount: 5 } } });
    expect(r.status).toBe(204);
    // Pending: Settings shows the new values, the current Bios does not.
    expect((await rf(host(), settings)).json.Attributes).toMatchObject({ SysProfile: "PerfOptimized", PxeRetryCount: 5 });
    expect((await biosPaths()).bios.Attributes).toMatchObject({ SysProfile: "PerfPerWattOptimizedOs", PxeRetryCount: 3 });

    await reset("On");
    const after = await waitFor("applied", async () => {
      const b = (await biosPaths()).bios;
      return b.Attributes.SysProfile === "PerfOptimized" && b;
    });
    expect(after.Attributes.PxeRetryCount).toBe(5);
    expect(after["@Redfish.Settings"].Time).toEqual(expect.any(String));
    // Nothing pending any more: Settings equals current.
    expect((await rf(host(), settings)).json.Attributes).toEqual(after.Attributes);
    const sel = await rf(host(), `${(await biosPaths()).sys.LogServices["@odata.id"]}/SEL/Entries`);
    expect(sel.json.Members.map((m: any) => m.Message)).toContain("BIOS settings applied: SysProfile, PxeRetryCount.");
  });

  it("applies pending settings on a warm reboot too", async () => {
    const { settings } = await biosPaths();
    await waitFor("on", async () => (await biosPaths()).sys.PowerState === "On");
    expect((await rf(host(), settings, { method: "PATCH", body: { Attributes: { AcPwrRcvry: false } } })).status).toBe(204);
    await reset("ForceRestart");
    await waitFor("applied", async () => (await biosPaths()).bios.Attributes.AcPwrRcvry === false);
  });

  it("refuses an unknown attribute, a bad value and a read-only attribute, changing nothing", async () => {
    const { settings } = await biosPaths();
    const before = (await rf(host(), settings)).json.Attributes;
    const bad = await rf(host(), settings, {
      method: "PATCH",
      body: { Attributes: { SysProfile: "Custom", NoSuchThing: 1, PxeRetryCount: 11, BootMode: "Floppy", SystemMemorySize: "1 TB", OemBanner: 7 } },
    });
    expect(bad.status).toBe(400);
    const info = bad.json.error["@Message.ExtendedInfo"].map((m: any) => [m.MessageId.split(".").pop(), m.RelatedProperties[0]]);
    expect(info).toEqual([
      ["PropertyUnknown", "#/Attributes/NoSuchThing"],
      ["PropertyValueTypeError", "#/Attributes/PxeRetryCount"],
      ["PropertyValueNotInList", "#/Attributes/BootMode"],
      ["PropertyNotWritable", "#/Attributes/SystemMemorySize"],
      ["PropertyValueTypeError", "#/Attributes/OemBanner"],
    ]);
    expect((await rf(host(), settings)).json.Attributes).toEqual(before);
    expect((await rf(host(), settings, { method: "PATCH", body: { Attrs: {} } })).status).toBe(400);
  });

  it("has no BIOS on a DPU", async () => {
    const sys = await rf(dpu(), "/redfish/v1/Systems/Bluefield");
    expect(sys.json.Bios).toBeUndefined();
    expect((await rf(dpu(), "/redfish/v1/Systems/Bluefield/Bios")).status).toBe(404);
  });
});
