// BMC driver conformance: ONE table of behaviours, run against BOTH protocols through createBmcDriver —
// Redfish against the lab's simulator, IPMI against OpenIPMI's ipmi_sim (test/ipmi-sim.ts). A behaviour
// speaks only Anvil's vocabulary (BmcDriver, PowerState, BootDevice, BmcError codes); what the lab really
// did is read from each lab's own side (the Redfish sim's admin API, ipmi_sim's chassis hook), so a row
// passing for both shows nothing above the driver needs to know which protocol it talks to.
// Redfish runs once per simulator DIALECT (sim/redfish/dialect.ts: several systems on one BMC, DMTF's DPU
// topology, a sticky boot override, no sessions, consoles on the Manager or nowhere, logs not named SEL, TLS),
// each with the shared table plus the Redfish-only rows: the simulator and the driver agree only if the driver
// copes with every dialect, not because they were written together.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { type DialectName, type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { BmcError, type BmcDriver, type BmcEndpoint, type BootDevice, createBmcDriver, type PowerState } from "./index";
import { bmcAdmin } from "@/test/bmc-admin";
import { sharedImageServer } from "@/test/image-server";

/** One lab BMC, seen from the lab's side. */
interface Lab {
  endpoint(password?: string): BmcEndpoint;
  /** Power as the simulated hardware has it. */
  power(): Promise<"on" | "off">;
  /** The boot override the BMC holds, in Anvil's words ("none": no override in effect). */
  bootOverride(): Promise<{ device: BootDevice | "none" | "other"; persistent: boolean }>;
  close(): Promise<void>;
}

/** A Redfish lab BMC: the shared Lab plus what the Redfish-only rows check against. */
interface RedfishLab extends Lab {
  sim: RedfishSim;
  /** the lab's id of the machine under test */
  id: string;
  /** its ComputerSystem id on its BMC */
  systemId: string;
  kind: "host" | "dpu";
  /** the address a DPU of this host is enrolled by, when it has one the BMC links to */
  dpuAddress: string | null;
  /** the console kinds the driver should find, in order */
  consoles: Array<"websocket" | "ssh" | "ipmi">;
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
}

const byTarget: Record<string, BootDevice> = { Hdd: "disk", Pxe: "pxe", Cd: "cdrom", BiosSetup: "bios", UefiHttp: "uefi_http" };

async function redfishLab(
  dialect: DialectName = "lab",
  o: { hosts?: number; dpuEvery?: number; machine?: string; consoles?: RedfishLab["consoles"] } = {},
): Promise<RedfishLab> {
  const sim: RedfishSim = await startRedfishSim({ hosts: o.hosts ?? 1, dpuEvery: o.dpuEvery ?? 0, powerTransitionMs: 100, bootMs: 50, dialect });
  const b = sim.byId(o.machine ?? "node-0001");
  if (!b) throw new Error(`no machine ${o.machine} in the ${dialect} lab`);
  const admin = (method: string, path: string, body?: unknown) => bmcAdmin(sim, method, path, body);
  const detail = () => admin("GET", b.id) as Promise<{ powerState: string; bootOverride: { enabled: string; target: string } }>;
  const dpu = b.kind === "host" && b.dpuId ? sim.byId(b.dpuId) : undefined;
  return {
    sim,
    id: b.id,
    systemId: b.systemId,
    kind: b.kind,
    dpuAddress: dpu?.url ?? null,
    consoles: o.consoles ?? ["websocket"],
    admin,
    endpoint: (password = b.password) => ({
      driver: "redfish",
      address: b.url,
      credentials: { username: b.username, password },
      timeoutMs: 5000,
      ...(b.url.startsWith("https:") ? { verifyTls: false } : {}),
    }),
    power: async () => ((await detail()).powerState === "Off" ? "off" : "on"),
    bootOverride: async () => {
      const o = (await detail()).bootOverride;
      if (o.enabled === "Disabled" || o.target === "None") return { device: "none", persistent: false };
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

/** A row's body: the BMC offers the action, the driver's state reaches it and so does the hardware. */
const powers =
  (to: "on" | "off") =>
  async (d: BmcDriver, lab: Lab): Promise<void> => {
    expect(await d.supportedPowerActions()).toContain(to);
    await d.setPower(to);
    expect(await until(d, to)).toBe(to);
    expect(await lab.power()).toBe(to);
  };

/** The shared table. Rows run in order against one BMC per protocol. */
const BEHAVIOURS: Array<[string, (d: BmcDriver, lab: Lab) => Promise<void>]> = [
  [
    "reads the power state (off at start)",
    async (d, lab) => {
      expect(await d.getPowerState()).toBe("off");
      expect(await lab.power()).toBe("off");
    },
  ],
  ["powers on: the state reaches on and the hardware is on", powers("on")],
  ["powers off: the state reaches off and the hardware is off", powers("off")],
  [
    "sets the boot device to disk for the next boot only, and says what the BMC kept",
    async (d, lab) => {
      const r = await d.setBootDevice("disk", { persistent: false });
      const held = await lab.bootOverride();
      expect(held.device).toBe("disk");
      // A driver that reads the override back reports what the BMC holds (a BMC may keep "once" for every boot);
      // where it cannot say, the BMC must hold what was asked.
      const applied = r ? r.applied : undefined;
      if (applied && applied.persistent !== null) expect({ device: applied.device, persistent: applied.persistent }).toEqual(held);
      else expect(held).toEqual({ device: "disk", persistent: false });
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

/** Redfish only: what the dialects make hard. */
const REDFISH_BEHAVIOURS: Array<[string, (d: BmcDriver, lab: RedfishLab) => Promise<void>]> = [
  [
    "reads the system its address names, of the kind it is",
    async (d, lab) => {
      const inv = await d.getInventory();
      expect(String((inv.raw.system as { "@odata.id"?: string })["@odata.id"])).toBe(`/redfish/v1/Systems/${lab.systemId}`);
      expect(inv.systemType).toBe(lab.kind === "dpu" ? "dpu" : "physical");
    },
  ],
  [
    "finds the host's DPU wherever the BMC puts it, by the address it is enrolled by",
    async (d, lab) => {
      const inv = await d.getInventory();
      expect((inv.dpus ?? []).map((l) => l.bmcUrl)).toEqual(lab.kind === "host" && lab.dpuAddress ? [lab.dpuAddress] : []);
    },
  ],
  [
    "clears the boot override in a form the BMC accepts, and the BMC holds none",
    async (d, lab) => {
      await d.setBootDevice("pxe", { persistent: true });
      expect((await lab.bootOverride()).device).toBe("pxe");
      await d.clearBootOverride?.();
      expect(await lab.bootOverride()).toEqual({ device: "none", persistent: false });
      await d.clearBootOverride?.(); // nothing to clear: a no-op
    },
  ],
  [
    "reads critical hardware entries wherever the BMC logs them, and explains the health with them",
    async (d, lab) => {
      await lab.admin("POST", `${lab.id}/sel`, { Severity: "Critical", Message: "Fan 3 failed.", SensorType: "Fan" });
      try {
        const events = await d.listEvents();
        expect(events.filter((e) => e.message === "Fan 3 failed.").map((e) => e.severity)).toEqual(["critical"]);
        expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
        const h = await d.getHealth();
        expect(h.health).toBe("critical");
        expect(h.reason).toMatch(/^Fan 3 failed/);
      } finally {
        await lab.admin("DELETE", `${lab.id}/faults`);
      }
    },
  ],
  [
    "mounts and ejects virtual media, with or without the actions",
    async (d, lab) => {
      const vm = d.virtualMedia;
      expect(vm).toBeDefined();
      // A BMC fetches the image it mounts, so it must be served.
      const images = await sharedImageServer();
      images.serve("/rescue.iso", Buffer.alloc(2048, 1));
      const image = `${images.url}/rescue.iso`;
      await vm?.insert(image);
      expect(((await lab.admin("GET", lab.id)) as { virtualMedia: unknown }).virtualMedia).toMatchObject({
        image,
        inserted: true,
        writeProtected: true,
      });
      expect(await vm?.status()).toEqual({ inserted: true, image });
      await vm?.eject();
      expect(((await lab.admin("GET", lab.id)) as { virtualMedia: unknown }).virtualMedia).toBeNull();
    },
  ],
  [
    "describes the serial consoles the BMC offers, or says there is none",
    async (d, lab) => {
      const c = await d.consoleOptions?.();
      expect(c).toBeDefined();
      expect(c?.options.map((o) => o.kind)).toEqual(lab.consoles);
      if (!lab.consoles.length) expect(c?.none).toMatch(/serial console/);
    },
  ],
];

const LABS: Array<[string, () => Promise<Lab>]> = [
  ["redfish (lab simulator)", () => redfishLab("lab")],
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

/** Every Redfish dialect of the simulator, and the machine of it under test. */
const DIALECT_LABS: Array<[string, () => Promise<RedfishLab>]> = [
  ["lab", () => redfishLab("lab", { dpuEvery: 1 })],
  ["multi-node (Systems/2 of a two-node BMC)", () => redfishLab("multi-node", { hosts: 2, machine: "node-0002" })],
  ["dmtf-smartnic (the host, bare BMC URL)", () => redfishLab("dmtf-smartnic", { dpuEvery: 1, consoles: [] })],
  ["dmtf-smartnic (the DPU, by its system URL)", () => redfishLab("dmtf-smartnic", { dpuEvery: 1, machine: "node-0001-dpu", consoles: [] })],
  ["dmtf-rackmount (console on the Manager, Log1, media by PATCH)", () => redfishLab("dmtf-rackmount", { consoles: ["ssh", "ipmi"] })],
  ["sticky-boot (Once kept as Continuous, cleared by Target None)", () => redfishLab("sticky-boot")],
  ["basic-auth (no SessionService)", () => redfishLab("basic-auth")],
  ["ipmi-console (SerialConsole.IPMI only)", () => redfishLab("ipmi-console", { consoles: ["ipmi"] })],
  ["no-console", () => redfishLab("no-console", { consoles: [] })],
  ["tls-only (HTTPS port)", () => redfishLab("tls-only")],
];

describe.each(DIALECT_LABS)("Redfish driver conformance, dialect %s", (_name, start) => {
  let lab: RedfishLab;
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
  it.each(REDFISH_BEHAVIOURS)("%s", async (_behaviour, run) => {
    await run(d, lab);
  });
});
