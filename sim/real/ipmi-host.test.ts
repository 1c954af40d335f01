// A real QEMU host behind OpenIPMI's ipmi_sim, driven through Anvil's own IPMI driver (ipmitool lanplus, RMCP+ to
// ipmi_sim) and Anvil's IPMI SOL console backend. The boot disk is plugged the way a DPU does it: blockdev-add +
// device_add on the host's DPU QMP socket. A TCG boot to `login:` takes minutes (KVM: seconds). Needs root,
// qemu-system-x86, qemu-utils, openipmi, ipmitool, python3 (scripts/system-deps.sh); fails when one is missing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QmpClient } from "@/agent/backends/qmp";
import { IpmiSolBackend } from "@/server/console/ipmi-sol";
import type { ConsoleStream } from "@/server/console/types";
import { createBmcDriver } from "@/server/drivers/bmc/index";
import { BmcError, type BmcDriver } from "@/server/drivers/bmc/types";
import { watchConsole } from "@/test/console-watch";
import { ensureGuestImage } from "./guest-image";
import { type IpmiHost, startIpmiHost } from "./ipmi-host";

// The lab's BMC is on loopback, which the management-network policy refuses unless allowed (as the server tests do).
process.env.ANVIL_MGMT_ALLOW = "127.0.0.0/8";

const BOOT_MS = 10 * 60_000; // TCG on a loaded 2-core machine

let work: string;
let host: IpmiHost;
let bmc: BmcDriver;
let dpu: QmpClient;

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms: number, every = 250): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Sets a next-boot-only override through the driver; resolves with the device the BMC holds (read back). */
async function bootOverride(dev: "pxe" | "disk"): Promise<string | null> {
  const r = await bmc.setBootDevice(dev, { persistent: false, uefi: false });
  return r ? r.applied.device : null;
}

/** QEMU's run state after the BMC's hard off (stop + system_reset: QEMU reports a reset, stopped machine as prelaunch). */
const OFF = ["paused", "prelaunch"];

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** The devices plugged into the machine (QOM /machine/peripheral), e.g. ["boot", "lom0", "rp1", …]. */
async function peripherals(): Promise<string[]> {
  return (await dpu.execute<Array<{ name: string }>>("qom-list", { path: "/machine/peripheral" })).map((c) => c.name).sort();
}

describe("a QEMU host behind ipmi_sim", () => {
  beforeAll(async () => {
    const image = await ensureGuestImage({ log: (l) => console.log(l) });
    work = mkdtempSync(join(tmpdir(), "anvil-ipmi-host-"));
    const overlay = join(work, "boot.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.path, "-F", "raw", overlay, "4G"]);
    host = await startIpmiHost({ dir: join(work, "h"), name: "ipmi-0001", memoryMiB: 1024 });
    // the DPU presents the boot disk on a root port, over its own QMP socket
    dpu = await QmpClient.connect(host.dpuQmpSocket);
    await dpu.execute("blockdev-add", {
      driver: "qcow2",
      "node-name": "boot-fmt",
      file: { driver: "file", filename: overlay, "node-name": "boot-file" },
    });
    await dpu.execute("device_add", { driver: "virtio-blk-pci", id: "boot", drive: "boot-fmt", bus: host.rootPorts[0], serial: "boot", bootindex: 1 });
    bmc = createBmcDriver({ driver: "ipmi", address: host.address, credentials: { username: host.username, password: host.password } });
  }, 20 * 60_000);

  afterAll(async () => {
    if (host?.hookErrors().length) console.log(`chassis hook failures: ${host.hookErrors().join("; ")}`);
    await bmc?.close();
    dpu?.close();
    await host?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("refuses a wrong password with the driver's clear error and changes nothing", async () => {
    const wrong = createBmcDriver({ driver: "ipmi", address: host.address, credentials: { username: host.username, password: "not-the-password" } });
    try {
      const err = await wrong.setPower("on").then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BmcError);
      expect((err as BmcError).code).toBe("auth");
      expect((err as BmcError).message).toBe(`BMC ${host.address} refused the credentials for user ${host.username} (wrong password)`);
    } finally {
      await wrong.close();
    }
    expect(await host.status()).toBe("prelaunch"); // still off: never started
    expect(await bmc.getPowerState()).toBe("off");
    expect(host.hookLog().filter((l) => l.startsWith("set"))).toEqual([]);
  });

  it(
    "a one-time PXE override reaches the firmware; power on boots the disk to login: on SOL; typing reaches the getty; a guest power-off reads Off; power on boots again; cycle; off stops the guest",
    async () => {
      // boot override: the firmware finds nothing to boot (no disk in its order, the NIC has no boot ROM)
      expect(await bootOverride("pxe")).toBe("pxe");
      const sol = new IpmiSolBackend({ address: host.address, credentials: { username: host.username, password: host.password } });
      let stream: ConsoleStream | undefined = await sol.connect();
      try {
        const out = watchConsole(stream, 60_000);
        await bmc.setPower("on");
        expect(await bmc.getPowerState()).toBe("on");
        expect(await host.status()).toBe("running");
        await out.waitFor("No bootable device", 180_000);
        expect(out.text()).toContain("SeaBIOS");
        // consumed: the flags say no override now, and a power cycle boots the disk again
        expect(await bootOverride("disk")).toBe("disk");

        // hard off: the CPU stops, the process and the DPU's devices stay
        await bmc.setPower("off");
        expect(await bmc.getPowerState()).toBe("off");
        expect(OFF).toContain(await host.status());
        expect(await peripherals()).toContain("boot");

        // power on: SeaBIOS → GRUB → Linux → login: on the SOL console
        const t0 = Date.now();
        const before = out.text().length;
        await bmc.setPower("on");
        await out.waitFor("Booting from Hard Disk", 180_000);
        await waitFor("login: on SOL", () => out.text().slice(before).includes(" login: "), BOOT_MS, 500);
        const bootS = (Date.now() - t0) / 1000;
        console.log(`IPMI power on → login: ${bootS.toFixed(1)} s (${host.accel})`);
        expect(out.text().slice(before)).toMatch(/Linux version 6\.1\./);
        expect(out.text().slice(before)).not.toContain("No bootable device");
        expect(await bmc.getPowerState()).toBe("on");

        // typing a newline reaches the getty: a fresh prompt
        const prompts = count(out.text(), " login: ");
        stream.write("\r");
        await waitFor("a new login: prompt", () => count(out.text(), " login: ") > prompts, 180_000);

        // the guest powers itself off (ACPI soft-off → the OS shuts down; -no-shutdown keeps QEMU): the BMC reads Off
        // because the machine is off, and the DPU's disk is still plugged
        await bmc.setPower("soft_off");
        await waitFor("guest power-off", async () => (await bmc.getPowerState()) === "off", BOOT_MS, 1000);
        expect(await host.status()).toBe("shutdown");
        expect(host.consoleText()).toMatch(/reboot: Power down/);
        expect(await peripherals()).toContain("boot");
        await stream.close();
        stream = undefined;

        // power on again: the firmware boots the disk again (up to the kernel: the rest was shown above)
        const t1 = Date.now();
        const mark = count(host.consoleText(), "SeaBIOS");
        await bmc.setPower("on");
        await waitFor(
          "second boot reaches Linux",
          () => count(host.consoleText(), "SeaBIOS") > mark && /Linux version/.test(host.consoleText().split("SeaBIOS").at(-1)!),
          BOOT_MS,
          500,
        );
        console.log(`IPMI power on → Linux: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
        expect(await bmc.getPowerState()).toBe("on");

        // power cycle: ipmi_sim turns it off, then on again once the hook reads Off
        const n = host.hookLog().length;
        await bmc.setPower("power_cycle");
        await waitFor("off, then on", () => /set power 0,.*set power 1/.test(host.hookLog().slice(n).join(",")), 30_000);
        // the hook logs a request as it starts; its QMP reset + cont follow a moment later
        await waitFor("running again", async () => (await host.status()) === "running", 30_000, 200);
        expect(await bmc.getPowerState()).toBe("on");

        // hard off stops the guest for real (QMP says paused)
        await bmc.setPower("off");
        expect(await bmc.getPowerState()).toBe("off");
        expect(OFF).toContain(await host.status());
      } finally {
        await stream?.close();
      }
    },
    4 * BOOT_MS,
  );
});

describe("a host behind ipmi_sim with QEMU in a network namespace", () => {
  let nsWork: string;
  let nsFile: string;
  let nsHost: IpmiHost | undefined;

  beforeAll(() => {
    nsWork = mkdtempSync(join(tmpdir(), "anvil-ipmi-ns-"));
    nsFile = join(nsWork, "netns");
    writeFileSync(nsFile, "");
    execFileSync("unshare", [`--net=${nsFile}`, "true"]);
  });

  afterAll(async () => {
    await nsHost?.stop();
    if (nsFile) execFileSync("umount", [nsFile]);
    if (nsWork) rmSync(nsWork, { recursive: true, force: true });
  });

  it("runs QEMU in the namespace; IPMI power and SOL still reach it (pty + relayed VM interface)", async () => {
    nsHost = await startIpmiHost({ dir: join(nsWork, "h"), name: "ipmi-ns", memoryMiB: 256, netns: nsFile });
    expect(readlinkSync(`/proc/${nsHost.qemuPid}/ns/net`)).not.toBe(readlinkSync("/proc/self/ns/net"));
    expect(readlinkSync(`/proc/${nsHost.ipmiSimPid}/ns/net`)).toBe(readlinkSync("/proc/self/ns/net"));
    const ep = { address: nsHost.address, credentials: { username: nsHost.username, password: nsHost.password } };
    const drv = createBmcDriver({ driver: "ipmi", ...ep });
    const stream = await new IpmiSolBackend(ep).connect();
    try {
      const out = watchConsole(stream, 120_000);
      await drv.setPower("on");
      expect(await drv.getPowerState()).toBe("on");
      await out.waitFor("No bootable device"); // no disk: SeaBIOS's message, seen over SOL
      await drv.setPower("off");
      expect(await drv.getPowerState()).toBe("off");
      expect(OFF).toContain(await nsHost.status());
    } finally {
      await stream.close();
      await drv.close();
    }
  }, 240_000);
});
