// BMC conformance against IPMI BMCs as they are in the field (issue #13): ONE table of behaviours, run against each
// ipmi_sim dialect — the plain BMC, one that refuses boot parameters with a zero ipmitool exit code, one that accepts
// them without applying them, and one whose serial console another client takes over. A row says what Anvil must
// do on every dialect: succeed and report what the BMC holds, or fail with a clear, non-retried error; never report
// success for something the BMC did not do. (conformance.test.ts runs the protocol-neutral table against Redfish and
// the plain ipmi_sim; this file is separate so the two tables can grow independently.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEACTIVATED, IpmiSolBackend, TAKEN_OVER } from "@/server/console/ipmi-sol";
import type { ConsoleStream } from "@/server/console/types";
import { type IpmiSim, type IpmiSimOptions, startIpmiSim } from "@/test/ipmi-sim";
import { BmcError, type BmcDriver, createBmcDriver } from "./index";
import { watchConsole } from "@/test/console-watch";
import { rejection } from "@/test/rejection";

type Dialect = "baseline" | "boot-refused" | "boot-ignored" | "sol-taken-over";

const DIALECTS: Array<[string, Dialect, IpmiSimOptions]> = [
  ["plain ipmi_sim", "baseline", {}],
  ["boot parameters refused with a zero exit code", "boot-refused", { chassis: { refuseBootParams: true } }],
  ["boot parameters accepted but not applied", "boot-ignored", { chassis: { ignoreBootParams: true } }],
  ["SOL taken over by another client", "sol-taken-over", {}],
];

interface Lab {
  dialect: Dialect;
  sim: IpmiSim;
}

/** IPMI requests of one kind the BMC received (netfn chassis 0x00). */
const chassisRequests = (sim: IpmiSim, cmd: number, first: number) =>
  sim.messages().filter((m) => m.netfn === 0x00 && m.cmd === cmd && m.data[0] === first).length;

const watch = (stream: ConsoleStream) => watchConsole(stream, 15_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The table. Rows run in order against one BMC per dialect. */
const BEHAVIOURS: Array<[string, (d: BmcDriver, lab: Lab) => Promise<void>]> = [
  [
    "reads the power state and powers on and off",
    async (d, { sim }) => {
      expect(await d.getPowerState()).toBe("off");
      await d.setPower("on");
      expect(await d.getPowerState()).toBe("on");
      expect(await sim.power()).toBe("on");
      await d.setPower("off");
      expect(await d.getPowerState()).toBe("off");
    },
  ],
  [
    "sets the boot device for the next boot only — or says why not, and never claims it did",
    async (d, { sim, dialect }) => {
      const set = d.setBootDevice("disk", { persistent: false });
      if (dialect === "boot-refused") {
        const e = await rejection(set, BmcError);
        expect(e.code).toBe("bmc_error");
        expect(e.transient).toBe(false);
        expect(e.message).toBe(`BMC ${sim.address} refused to set the boot device to disk: Set Chassis Boot Parameter 5 failed: Unspecified error`);
        expect(await sim.bootDevice()).toBe("none");
      } else if (dialect === "boot-ignored") {
        const e = await rejection(set, BmcError);
        expect(e.transient).toBe(false);
        expect(e.message).toBe(`BMC ${sim.address} accepted the boot device disk (next boot only) but did not apply it: it holds no boot override`);
        expect(await sim.bootDevice()).toBe("none");
      } else {
        // Read back from the BMC: ipmi_sim reports the device, not the persistence bit.
        expect(await set).toEqual({ applied: { device: "disk", persistent: null } });
        expect(await sim.bootDevice()).toBe("default");
      }
    },
  ],
  [
    "sets a persistent boot device — or says why not",
    async (d, { sim, dialect }) => {
      const set = d.setBootDevice("pxe", { persistent: true, uefi: true });
      if (dialect === "boot-refused" || dialect === "boot-ignored") {
        const e = await rejection(set, BmcError);
        expect(e.message).toMatch(dialect === "boot-refused" ? /refused to set the boot device to pxe/ : /did not apply it/);
        expect(await sim.bootDevice()).not.toBe("pxe");
      } else {
        expect(await set).toEqual({ applied: { device: "pxe", persistent: null } });
        expect(await sim.bootDevice()).toBe("pxe");
      }
    },
  ],
  [
    "offers only the power actions the BMC has, and refuses another once, clearly, without retrying",
    async (d, { sim }) => {
      const offered = await d.supportedPowerActions();
      expect(offered).not.toContain("soft_reboot"); // no IPMI command
      expect((await rejection(d.setPower("soft_reboot"), BmcError)).message).toMatch(/^This BMC does not support soft reboot/);
      await d.setPower("on");
      const before = chassisRequests(sim, 0x02, 0x04); // Chassis Control: pulse diagnostic interrupt
      const nmi = await rejection(d.setPower("nmi"), BmcError);
      expect(nmi.code).toBe("unsupported");
      expect(nmi.transient).toBe(false);
      expect(nmi.message).toMatch(/^This BMC does not support NMI \(diagnostic interrupt\)/);
      expect(chassisRequests(sim, 0x02, 0x04)).toBe(before + 1);
      expect(await d.supportedPowerActions()).not.toContain("nmi");
      expect((await d.getInventory()).powerActions).toEqual(["on", "off", "soft_off", "reboot", "power_cycle"]);
      await d.setPower("off");
    },
  ],
  [
    "describes the hardware",
    async (d) => {
      const inv = await d.getInventory();
      expect(inv.manufacturer).toBe("Anvil Systems");
      expect(inv.uuid).toMatch(UUID);
      expect(inv.bmc.protocolVersion).toBe("2.0");
    },
  ],
  [
    "keeps the serial console: another client taking it is reported, the console is taken back, and a line typed meanwhile reaches the host once",
    async (_d, { sim, dialect }) => {
      await sim.serialConnected();
      const creds = { username: sim.username, password: sim.password };
      const first = await new IpmiSolBackend({ address: sim.address, credentials: creds }, { ownershipCheckMs: 500 }).connect();
      const out = watch(first);
      await out.waitFor("login: ");
      first.write("root\r");
      await out.waitFor("root@conformance:~$ ");
      if (dialect !== "sol-taken-over") {
        await first.close();
        expect((await out.closed).code).toBe("client");
        return;
      }
      const inputBefore = sim.serialInput().length;
      const intruder = await sim.solIntruder("activate");
      try {
        first.write("echo gap\r"); // the viewer still sees "connected": ipmitool cannot know yet
        const reason = await out.closed;
        expect(reason.code).toBe("remote");
        expect([TAKEN_OVER, DEACTIVATED]).toContain(reason.message);
        // What the session layer does on a remote close: connect again, which takes the console back.
        const again = await new IpmiSolBackend({ address: sim.address, credentials: creds }, { ownershipCheckMs: 500 }).connect();
        const out2 = watch(again);
        await out2.waitFor("[console: sent 9 bytes typed while the console was taken over]");
        await out2.waitFor("echo gap\r\n-sh: echo: command not found");
        // The host got the line once, and nothing else but wake CRs (no escape or control bytes).
        expect(sim.serialInput().subarray(inputBefore).toString("latin1")).toMatch(/^\r*echo gap\r$/);
        await again.close();
      } finally {
        await intruder.close();
      }
    },
  ],
];

describe.each(DIALECTS)("IPMI dialect conformance: %s", (_name, dialect, simOpts) => {
  let lab: Lab;
  let d: BmcDriver;
  beforeAll(async () => {
    const sim = await startIpmiSim({
      initialPower: "off",
      hostname: "conformance",
      fru: { productManufacturer: "Anvil Systems", productName: "Anvil Host 1U", productSerial: "SRV-0001" },
      guid: "00112233445566778899aabbccddeeff",
      ...simOpts,
    });
    lab = { dialect, sim };
    d = createBmcDriver({ driver: "ipmi", address: sim.address, credentials: { username: sim.username, password: sim.password }, timeoutMs: 8000 });
  });
  afterAll(async () => {
    await d?.close();
    await lab?.sim.stop();
  });
  it.each(BEHAVIOURS)("%s", async (_behaviour, run) => {
    await run(d, lab);
  });
});
