// The IPMI driver against a real IPMI 2.0 BMC: OpenIPMI's ipmi_sim started by test/ipmi-sim.ts.
// Fails (does not skip) when ipmi_sim/ipmitool are missing, naming the apt package to install.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { createBmcDriver } from "./index";
import { IpmiDriver } from "./ipmi";
import { BmcError, type BmcDriver } from "./types";
import { rejection } from "@/test/rejection";

let sim: IpmiSim;
let bmc: BmcDriver;

async function until<T>(read: () => Promise<T>, want: T, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let last = await read();
  while (last !== want && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

/** The data bytes of the last Set System Boot Options (netfn chassis 0x00, cmd 0x08) for parameter 5, boot flags. */
function lastBootFlags(): number[] | undefined {
  return sim
    .messages()
    .filter((m) => m.netfn === 0x00 && m.cmd === 0x08 && m.data[0] === 5)
    .at(-1)?.data;
}

beforeAll(async () => {
  sim = await startIpmiSim({
    initialPower: "off",
    softOffDelayMs: 300,
    fru: {
      boardManufacturer: "Anvil Boards",
      boardProduct: "AB-1",
      boardSerial: "BRD-0001",
      productManufacturer: "Anvil Systems",
      productName: "Anvil Host 1U",
      productPartNumber: "AH1U-01",
      productSerial: "SRV-4242",
    },
    guid: "00112233445566778899aabbccddeeff",
    sel: [{ sensorType: 0x01, sensorNumber: 0x30, offset: 0x09 }],
  });
  bmc = createBmcDriver({ driver: "ipmi", address: sim.address, credentials: { username: sim.username, password: sim.password } });
});

afterAll(async () => {
  await bmc?.close();
  await sim?.stop();
});

/** Runs `fn` with ipmi_sim's chassis behaving so, and puts it back to normal after. */
async function withChassis(behaviour: Parameters<IpmiSim["setChassisBehaviour"]>[0], fn: () => Promise<void>) {
  await sim.setChassisBehaviour(behaviour);
  try {
    await fn();
  } finally {
    await sim.setChassisBehaviour({});
  }
}

describe("IPMI driver against ipmi_sim", () => {
  it("reads and changes power: on, off, cycle, reset, soft", async () => {
    expect(await bmc.getPowerState()).toBe("off");

    await bmc.setPower("on");
    expect(await bmc.getPowerState()).toBe("on");
    expect(await sim.power()).toBe("on");

    await bmc.setPower("off");
    expect(await bmc.getPowerState()).toBe("off");

    await bmc.setPower("on");
    // power cycle: ipmi_sim turns the power off, then back on about a second later.
    await bmc.setPower("power_cycle");
    const log = await sim.chassisLog();
    expect(log.slice(log.lastIndexOf("set power 1") - 2)).toContain("set power 0");
    expect(await until(() => bmc.getPowerState(), "on", 4000)).toBe("on");

    await bmc.setPower("reboot");
    expect(await sim.chassisLog()).toContain("set reset 1");
    expect(await bmc.getPowerState()).toBe("on");

    // soft off is an ACPI request: the power goes off once the "OS" has shut down.
    await bmc.setPower("soft_off");
    expect(await sim.chassisLog()).toContain("set shutdown 1");
    expect(await until(() => bmc.getPowerState(), "off", 3000)).toBe("off");
  });

  it("reports actions the BMC rejects as unsupported and stops offering them", async () => {
    const diagRequests = () => sim.messages().filter((m) => m.netfn === 0x00 && m.cmd === 0x02 && m.data[0] === 0x04).length;
    expect(await bmc.supportedPowerActions()).toContain("nmi");
    expect((await bmc.getInventory()).powerActions).toContain("nmi");
    const before = diagRequests();
    const err = await bmc.setPower("nmi").catch((e) => e);
    expect(err).toBeInstanceOf(BmcError);
    expect(err.code).toBe("unsupported");
    expect(err.transient).toBe(false);
    expect(err.message).toBe(
      `This BMC does not support NMI (diagnostic interrupt) (BMC ${sim.address} refused it: Set Chassis Power Control to Diag failed: Invalid data field in request)`,
    );
    // Asked once, not retried; the second request is refused from memory without asking the BMC again.
    expect(diagRequests()).toBe(before + 1);
    const again = await bmc.setPower("nmi").catch((e) => e);
    expect(again.message).toBe(`This BMC does not support NMI (diagnostic interrupt) (BMC ${sim.address} refused it earlier)`);
    expect(diagRequests()).toBe(before + 1);
    expect(await bmc.supportedPowerActions()).not.toContain("nmi");
    // The inventory (stored with the node at enrolment and inspection) says so too: the UI disables the button.
    expect((await bmc.getInventory()).powerActions).toEqual(["on", "off", "soft_off", "reboot", "power_cycle"]);

    const soft = await bmc.setPower("soft_reboot").catch((e) => e);
    expect(soft.code).toBe("unsupported");
    expect(soft.transient).toBe(false);
    expect(soft.message).toMatch(/^This BMC does not support soft reboot: IPMI has no such command/);
  });

  it("sets the boot device with persistent and efiboot flags, and reads it back", async () => {
    // ipmi_sim reports the device selector but not the flag bits (byte 1 reads 0): persistence unknown.
    expect(await bmc.setBootDevice("pxe", { persistent: true, uefi: true })).toEqual({ applied: { device: "pxe", persistent: null } });
    const getBootFlags = sim.messages().filter((m) => m.netfn === 0x00 && m.cmd === 0x09 && m.data[0] === 5);
    expect(getBootFlags.length).toBeGreaterThan(0); // Get System Boot Options, parameter 5
    expect(await sim.bootDevice()).toBe("pxe");
    // Boot flags byte 1: 0x80 valid, 0x40 persistent, 0x20 EFI; byte 2 bits 5:2 = device (1 = PXE).
    expect(lastBootFlags()?.slice(0, 3)).toEqual([5, 0xe0, 0x04]);

    await bmc.setBootDevice("disk", { persistent: false });
    expect(await sim.bootDevice()).toBe("default"); // IPMI's "force boot from default hard drive"
    expect(lastBootFlags()?.slice(0, 3)).toEqual([5, 0x80, 0x08]);

    await bmc.setBootDevice("cdrom", { persistent: true, uefi: false });
    expect(await sim.bootDevice()).toBe("cdrom");
    expect(lastBootFlags()?.slice(0, 3)).toEqual([5, 0xc0, 0x14]);

    const http = await bmc.setBootDevice("uefi_http", { persistent: false }).catch((e) => e);
    expect(http.code).toBe("unsupported");
  });

  it("reports a boot device the BMC refused although ipmitool exited 0", async () => {
    await bmc.setBootDevice("disk", { persistent: false });
    await withChassis({ refuseBootParams: true }, async () => {
      const err = await rejection(bmc.setBootDevice("pxe", { persistent: true }), BmcError);
      expect([err.code, err.transient]).toEqual(["bmc_error", false]);
      expect(err.message).toBe(`BMC ${sim.address} refused to set the boot device to pxe: Set Chassis Boot Parameter 5 failed: Unspecified error`);
      expect(await sim.bootDevice()).toBe("default");
    });
  });

  it("reports a boot device the BMC accepted but did not apply (read back)", async () => {
    await bmc.setBootDevice("disk", { persistent: false });
    await withChassis({ ignoreBootParams: true }, async () => {
      const err = await rejection(bmc.setBootDevice("cdrom", { persistent: false }), BmcError);
      expect([err.code, err.transient]).toEqual(["bmc_error", false]);
      expect(err.message).toBe(`BMC ${sim.address} accepted the boot device cdrom (next boot only) but did not apply it: it holds disk`);
    });
  });

  it("reads the inventory from mc info, FRU 0 and the system GUID", async () => {
    const inv = await bmc.getInventory();
    expect(inv).toMatchObject({
      systemType: "unknown",
      manufacturer: "Anvil Systems",
      model: "Anvil Host 1U",
      serialNumber: "SRV-4242",
      partNumber: "AH1U-01",
      bmc: { manufacturer: "MontaVista Software, Inc.", firmwareVersion: "9.08", protocolVersion: "2.0" },
      cpu: null,
      memoryGiB: null,
      nics: null,
      dpus: null,
    });
    expect(inv.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((inv.raw.fru as Record<string, string>)["Board Serial"]).toBe("BRD-0001");
  });

  it("reads health from the chassis status", async () => {
    expect(await bmc.getHealth()).toEqual({ health: "ok" });
  });

  it("lists SEL events with time, severity, since and limit", async () => {
    const before = await bmc.listEvents();
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({
      id: "0001",
      severity: "critical",
      sensorType: "Temperature",
      direction: "asserted",
      message: "Temperature #0x30: Upper Critical going high (asserted)",
    });
    expect(Math.abs(before[0].created!.getTime() - Date.now())).toBeLessThan(60_000);

    // SEL times have 1 s resolution: make the second event land in a later second.
    await new Promise((r) => setTimeout(r, 1100));
    await sim.addSelEvent({ sensorType: 0x04, sensorNumber: 0x40, offset: 0x00, deassert: false }); // fan lower non-critical going low
    await sim.addSelEvent({ sensorType: 0x01, sensorNumber: 0x30, offset: 0x09, deassert: true });

    const all = await bmc.listEvents();
    expect(all.map((e) => e.id)).toEqual(["0001", "0002", "0003"]);
    expect(all[1]).toMatchObject({ sensorType: "Fan", severity: "warning" });
    expect(all[2]).toMatchObject({ direction: "deasserted", severity: "ok" });

    // Cut at the second event's own BMC timestamp (the BMC's clock, not ours, decides what "since" means).
    const cut = all[1]!.created!;
    expect(cut.getTime()).toBeGreaterThan(all[0]!.created!.getTime());
    const recent = await bmc.listEvents({ since: cut });
    expect(recent.map((e) => e.id)).toEqual(["0002", "0003"]);
    expect((await bmc.listEvents({ limit: 1 })).map((e) => e.id)).toEqual(["0003"]);
    await expect(bmc.listEvents({ limit: 0 })).rejects.toMatchObject({ code: "invalid" });
  });

  it("refuses a wrong password with an auth error an operator can act on", async () => {
    const bad = new IpmiDriver({ driver: "ipmi", address: sim.address, credentials: { username: sim.username, password: "not-the-password" } });
    const err = await bad.getPowerState().catch((e) => e);
    expect(err).toBeInstanceOf(BmcError);
    expect(err.code).toBe("auth");
    expect(err.message).toBe(`BMC ${sim.address} refused the credentials for user ${sim.username} (wrong password)`);
    expect(err.transient).toBe(false);

    // sel list runs without -v; the driver still tells auth from unreachable.
    const selErr = await bad.listEvents().catch((e) => e);
    expect(selErr.code).toBe("auth");

    const unknown = new IpmiDriver({ driver: "ipmi", address: sim.address, credentials: { username: "mallory", password: "x" } });
    const uerr = await unknown.getPowerState().catch((e) => e);
    expect(uerr.code).toBe("auth");
    expect(uerr.message).toContain("does not know user mallory");
  });

  it("reports an address nobody answers on as unreachable within the timeout", async () => {
    const silent = new IpmiDriver({
      driver: "ipmi",
      address: "127.0.0.1:9", // discard port: nothing answers
      credentials: { username: "admin", password: "x" },
      timeoutMs: 4000,
      retries: 2,
    });
    const t0 = Date.now();
    const err = await silent.getPowerState().catch((e) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(BmcError);
    expect(err.code).toBe("unreachable");
    expect(err.message).toContain("127.0.0.1:9 did not answer");
    expect(took).toBeLessThanOrEqual(4500);
  });

  it("rejects bad endpoints up front", () => {
    const mk =
      (address: string, username = "admin", password = "x") =>
      () =>
        new IpmiDriver({ driver: "ipmi", address, credentials: { username, password } });
    expect(mk("bmc.example:70000")).toThrow(/invalid UDP port/);
    expect(mk("a:b:c")).not.toThrow(); // bare IPv6
    expect(mk("host name")).toThrow(/no valid host/);
    expect(mk("10.0.0.1", "")).toThrow(/no IPMI user/);
    expect(mk("10.0.0.1", "admin", "x".repeat(21))).toThrow(/at most 20/);
    // The factory refuses a protocol it has no driver for (Redfish now has one: see redfish.test.ts).
    expect(() => createBmcDriver({ driver: "snmp" as never, address: "https://bmc", credentials: { username: "a", password: "b" } })).toThrow(
      /No BMC driver for protocol "snmp"/,
    );
  });

  it("cannot be used after close", async () => {
    const d = new IpmiDriver({ driver: "ipmi", address: sim.address, credentials: { username: sim.username, password: sim.password } });
    await d.close();
    await expect(d.getPowerState()).rejects.toMatchObject({ code: "invalid" });
  });
});
