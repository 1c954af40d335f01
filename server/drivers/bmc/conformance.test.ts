// BMC driver conformance: ONE table of behaviours, run against BOTH protocols through createBmcDriver —
// Redfish against the lab's simulator, IPMI against OpenIPMI's ipmi_sim (test/ipmi-sim.ts). A behaviour
// speaks only Anvil's vocabulary (BmcDriver, PowerState, BootDevice, BmcError codes); what the lab really
// did is read from each lab's own side (the Redfish sim's admin API, ipmi_sim's chassis hook), so a row
// passing for both shows nothing above the driver needs to know which protocol it talks to.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { BmcError, type BmcDriver, type BmcEndpoint, type BootDevice, createBmcDriver, type PowerState } from "./index";

/** One lab BMC, seen from the lab's side. */
interface Lab {
  endpoint(password?: string): BmcEndpoint;
  /** Power as the simulated hardware has it. */
  power(): Promise<"on" | "off">;
  /** The boot override the BMC holds, in Anvil's words. */
  bootOverride(): Promise<{ device: BootDevice | "other"; persistent: boolean }>;
  close(): Promise<void>;
}

async function redfishLab(): Promise<Lab> {
  const sim: RedfishSim = await startRedfishSim({ hosts: 1, dpuEvery: 0, powerTransitionMs: 100, bootMs: 50 });
  const b = sim.bmcs[0];
  const detail = async () => (await fetch(`${sim.adminUrl}/admin/bmcs/${b.id}`)).json() as Promise<{ powerState: string; bootOverride: { enabled: string; target: string } }>;
  const byTarget: Record<string, BootDevice> = { Hdd: "disk", Pxe: "pxe", Cd: "cdrom", BiosSetup: "bios", UefiHttp: "uefi_http" };
  return {
    endpoint: (password = b.password) => ({ driver: "redfish", address: b.url, credentials: { username: b.username, password }, timeoutMs: 5000 }),
    power: async () => ((await detail()).powerState === "Off" ? "off" : "on"),
    bootOverride: async () => {
      const o = (await detail()).bootOverride;
      return { device: byTarget[o.target] ?? "other", persistent: o.enabled === "Continuous" };
    },
    close: () => sim.close(),
  };
}

async function ipmiLab(): Promise<Lab> {
  const sim: IpmiSim = await startIpmiSim({
    initialPower: "off",
    softOffDelayMs: 200,
    fru: { productManufacturer: "Anvil Systems", productName: "Anvil Host 1U", productSerial: "SRV-0001" },
    guid: "00112233445566778899aabbccddeeff",
    sel: [{ sensorType: 0x01, sensorNumber: 0x30, offset: 0x07 }],
  });
  const byDevice: Record<string, BootDevice> = { default: "disk", pxe: "pxe", cdrom: "cdrom", bios: "bios" };
  return {
    endpoint: (password = sim.password) => ({ driver: "ipmi", address: sim.address, credentials: { username: sim.username, password }, timeoutMs: 8000 }),
    power: () => sim.power(),
    bootOverride: async () => {
      // Set System Boot Options, parameter 5 (boot flags): byte 1 bit 6 = persistent.
      const flags = sim
        .messages()
        .filter((m) => m.netfn === 0x00 && m.cmd === 0x08 && m.data[0] === 5)
        .at(-1)?.data;
      return { device: byDevice[await sim.bootDevice()] ?? "other", persistent: ((flags?.[1] ?? 0) & 0x40) !== 0 };
    },
    close: () => sim.stop(),
  };
}

async function until(d: BmcDriver, want: PowerState, ms = 5000): Promise<PowerState> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await d.getPowerState();
    if (s === want || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The shared table. Rows run in order against one BMC per protocol. */
const BEHAVIOURS: Array<[string, (d: BmcDriver, lab: Lab) => Promise<void>]> = [
  [
    "reads the power state (off at start)",
    async (d, lab) => {
      expect(await d.getPowerState()).toBe("off");
      expect(await lab.power()).toBe("off");
    },
  ],
  [
    "powers on: the state reaches on and the hardware is on",
    async (d, lab) => {
      expect(await d.supportedPowerActions()).toContain("on");
      await d.setPower("on");
      expect(await until(d, "on")).toBe("on");
      expect(await lab.power()).toBe("on");
    },
  ],
  [
    "powers off: the state reaches off and the hardware is off",
    async (d, lab) => {
      expect(await d.supportedPowerActions()).toContain("off");
      await d.setPower("off");
      expect(await until(d, "off")).toBe("off");
      expect(await lab.power()).toBe("off");
    },
  ],
  [
    "sets the boot device to disk for the next boot only",
    async (d, lab) => {
      await d.setBootDevice("disk", { persistent: false });
      expect(await lab.bootOverride()).toEqual({ device: "disk", persistent: false });
    },
  ],
  [
    "describes the hardware in one inventory shape",
    async (d) => {
      const inv = await d.getInventory();
      expect(["physical", "dpu", "unknown"]).toContain(inv.systemType);
      for (const k of ["manufacturer", "model", "serialNumber", "partNumber"] as const) expect(inv[k] === null || typeof inv[k] === "string").toBe(true);
      expect(inv.manufacturer).toBeTruthy();
      expect(inv.serialNumber).toBeTruthy();
      expect(inv.uuid).toMatch(UUID);
      expect(typeof inv.bmc.protocolVersion).toBe("string");
      expect(inv.bmc.firmwareVersion === null || typeof inv.bmc.firmwareVersion === "string").toBe(true);
      expect(inv.cpu === null || (Number.isInteger(inv.cpu.count) && inv.cpu.count > 0)).toBe(true);
      expect(inv.memoryGiB === null || inv.memoryGiB > 0).toBe(true);
      expect(inv.nics === null || inv.nics.every((n) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(n.macAddress))).toBe(true);
      expect(inv.dpus === null || Array.isArray(inv.dpus)).toBe(true);
      expect(typeof inv.raw).toBe("object");
    },
  ],
  [
    "reports health with a reason whenever it is not ok",
    async (d) => {
      const h = await d.getHealth();
      expect(["ok", "warning", "critical", "unknown"]).toContain(h.health);
      if (h.health !== "ok") expect(h.reason).toBeTruthy();
    },
  ],
  [
    "lists the event log oldest first, honouring limit",
    async (d) => {
      const events = await d.listEvents();
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        expect(typeof e.id).toBe("string");
        expect(e.created === null || e.created instanceof Date).toBe(true);
        expect(["ok", "warning", "critical"]).toContain(e.severity);
        expect(e.message).toBeTruthy();
      }
      const times = events.map((e) => e.created?.getTime()).filter((t): t is number => t !== undefined);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(await d.listEvents({ limit: 1 })).toEqual(events.slice(-1));
    },
  ],
  [
    "refuses a wrong password with an auth error that is not retried",
    async (_d, lab) => {
      const bad = createBmcDriver(lab.endpoint("wrong-password"));
      try {
        const e = await bad.getPowerState().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(BmcError);
        expect((e as BmcError).code).toBe("auth");
        expect((e as BmcError).transient).toBe(false);
        expect((e as BmcError).message).toMatch(/credentials/);
      } finally {
        await bad.close();
      }
    },
  ],
];

const LABS: Array<[string, () => Promise<Lab>]> = [
  ["redfish (lab simulator)", redfishLab],
  ["ipmi (OpenIPMI ipmi_sim)", ipmiLab],
];

describe.each(LABS)("BmcDriver conformance: %s", (_name, start) => {
  let lab: Lab;
  let d: BmcDriver;
  beforeAll(async () => {
    lab = await start();
    d = createBmcDriver(lab.endpoint());
  });
  afterAll(async () => {
    await d?.close();
    await lab?.close();
  });
  it.each(BEHAVIOURS)("%s", async (_behaviour, run) => {
    await run(d, lab);
  });
});
