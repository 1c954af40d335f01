// Real hosts: the lab's guest image (built once, then cached), QEMU machines that boot it through SeaBIOS + GRUB,
// and the Redfish BMC simulator with those machines behind it, driven over real HTTP and the console WebSocket.
// Cost: the first run builds the image (~2–5 min, mmdebstrap); later runs reuse it. A TCG boot to `login:` takes
// ~1–3 min depending on load (KVM: seconds). Needs root, mmdebstrap, qemu-system-x86, qemu-utils (system-deps.sh).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "../redfish/index";
import { basic, ConsoleClient, powerOf, resetVia, rf, systemOf, waitFor } from "../redfish/test-helpers";
import { ensureGuestImage, type GuestImage } from "./guest-image";
import { qemuSystemBackend } from "./qemu-backend";
import { QemuHost } from "./qemu-host";

const BOOT_MS = 8 * 60_000; // a TCG boot on a loaded 2-core machine; KVM takes seconds

let image: GuestImage;
let work: string;
let withDisk: QemuHost;
let noDisk: QemuHost;
let sim: RedfishSim;

beforeAll(async () => {
  image = await ensureGuestImage({ log: (l) => console.log(l) });
  work = mkdtempSync(join(tmpdir(), "anvil-qemu-host-"));
  // The boot disk is a copy-on-write overlay, so the cached image stays pristine.
  // 4 GiB, larger than the image's 2 GiB: cloud-init's growpart grows the root partition at first boot.
  const overlay = join(work, "boot.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.path, "-F", "raw", overlay, "4G"]);
  // cloud-init NoCloud seed, presented as a read-only virtio disk (the cloud kernel has no AHCI for a SATA CD)
  const ci = join(work, "ci");
  mkdirSync(ci);
  writeFileSync(join(ci, "meta-data"), "instance-id: iid-real-0001\nlocal-hostname: real-0001\n");
  writeFileSync(
    join(ci, "user-data"),
    '#cloud-config\nmanage_etc_hosts: true\nruncmd:\n  - echo "ANVIL-CIDATA-OK $(hostname) root=$(lsblk -bno SIZE /dev/disk/by-uuid/$(findmnt -no UUID /))" > /dev/console\n',
  );
  const iso = join(work, "cidata.iso");
  execFileSync("genisoimage", ["-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", join(ci, "user-data"), join(ci, "meta-data")]);
  withDisk = await QemuHost.start({ name: "real-0001", dir: join(work, "h1") });
  noDisk = await QemuHost.start({ name: "real-0002", dir: join(work, "h2"), memoryMiB: 256 });
  await withDisk.attachDisk({ id: "boot", file: overlay, format: "qcow2", bootIndex: 1 });
  await withDisk.attachDisk({ id: "cidata", file: iso, readOnly: true });
  const hosts = [withDisk, noDisk];
  sim = await startRedfishSim({ hosts: 2, dpuEvery: 0, idPrefix: "real", systemBackend: (i) => qemuSystemBackend(hosts[i], { gracefulTimeoutMs: 60_000 }) });
}, 20 * 60_000);

afterAll(async () => {
  await sim?.close();
  await Promise.all([withDisk?.stop(), noDisk?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const bmc = (id: string) => sim.byId(id)!;
const auth = (id: string) => ({ authorization: basic(bmc(id).username, bmc(id).password) });
const lastState = async (id: string): Promise<string> => (await systemOf(bmc(id))).BootProgress.LastState;

describe("guest image", () => {
  it("is built once and then served from the cache (same path, same bytes)", async () => {
    const again = await ensureGuestImage();
    expect(again.cached).toBe(true);
    expect(again.path).toBe(image.path);
    expect(again.recipeHash).toBe(image.recipeHash);
    expect(again.sizeBytes).toBe(2 * 1024 ** 3);
    // an MBR with a bootable partition at 1 MiB and GRUB in it
    const table = execFileSync("sfdisk", ["--json", image.path], { encoding: "utf8" });
    const part = JSON.parse(table).partitiontable.partitions[0];
    expect(part).toEqual(expect.objectContaining({ start: 2048, bootable: true }));
    const mbr = execFileSync("dd", [`if=${image.path}`, "bs=512", "count=1", "status=none"]);
    expect(mbr.includes(Buffer.from("GRUB"))).toBe(true);
  });
});

describe("QEMU hosts behind the Redfish BMC", () => {
  it("start powered off", async () => {
    expect(await powerOf(bmc("real-0001"))).toBe("Off");
    expect(await lastState("real-0001")).toBe("None");
    expect(withDisk.power).toBe("Off");
  });

  it("with no disk, power on ends at SeaBIOS's 'No bootable device' and never reports an OS", async () => {
    const id = "real-0002";
    const c = await ConsoleClient.open((await systemOf(bmc(id))).SerialConsole.WebSocket.ConsoleURI, auth(id));
    const seen = new Set<string>();
    try {
      expect((await resetVia(bmc(id), "On")).status).toBe(204);
      await waitFor("PowerState On", async () => (await powerOf(bmc(id))) === "On", 30_000, 100);
      await c.waitText("SeaBIOS", 60_000);
      await c.waitText("No bootable device", 120_000);
      // keep watching for a while: BootProgress must never claim an OS
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        seen.add(await lastState(id));
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(seen).toEqual(new Set(["SystemHardwareInitializationComplete"]));
      const sel = (await rf(bmc(id), "/redfish/v1/Systems/System.Embedded.1/LogServices/SEL/Entries")).json;
      expect(sel.Members.some((e: { Message: string }) => /No bootable device/.test(e.Message))).toBe(true);
      expect((await resetVia(bmc(id), "Nmi")).status).toBe(204); // QMP inject-nmi; the BMC logs it
      await waitFor("NMI in the SEL", async () => {
        const entries = (await rf(bmc(id), "/redfish/v1/Systems/System.Embedded.1/LogServices/SEL/Entries")).json.Members;
        return entries.some((e: { Message: string }) => /NMI/.test(e.Message));
      });
      expect((await resetVia(bmc(id), "ForceOff")).status).toBe(204);
      await waitFor("PowerState Off", async () => (await powerOf(bmc(id))) === "Off", 30_000, 100);
      // QMP answers in order: by the time Off is seen, inject-nmi has answered, and a failure would be in the SEL
      const after = (await rf(bmc(id), "/redfish/v1/Systems/System.Embedded.1/LogServices/SEL/Entries")).json.Members;
      expect(after.filter((e: { Message: string }) => /failed/.test(e.Message))).toEqual([]);
    } finally {
      c.close();
    }
  }, 240_000);

  it(
    "a one-time PXE override finds nothing to boot; the next power-on boots the disk to login: (console fan-out, keystrokes); GracefulShutdown powers the guest off",
    async () => {
      const id = "real-0001";
      const sys = await systemOf(bmc(id));
      const patched = await rf(bmc(id), sys["@odata.id"], {
        method: "PATCH",
        body: { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Pxe" } },
      });
      expect(patched.status).toBe(200);
      const uri = sys.SerialConsole.WebSocket.ConsoleURI;
      const a = await ConsoleClient.open(uri, auth(id));
      let b: ConsoleClient | undefined;
      try {
        await resetVia(bmc(id), "On");
        await a.waitText("No bootable device", 120_000);
        expect(await lastState(id)).not.toMatch(/^OS/);
        expect((await systemOf(bmc(id))).Boot.BootSourceOverrideEnabled).toBe("Disabled"); // consumed
        await resetVia(bmc(id), "ForceOff");
        await waitFor("Off", async () => (await powerOf(bmc(id))) === "Off", 30_000, 100);

        const t0 = Date.now();
        const start = a.output.length;
        await resetVia(bmc(id), "On");
        await waitFor("OSBootStarted", async () => (await lastState(id)) === "OSBootStarted", BOOT_MS, 250);
        await a.waitText(/GNU GRUB|Linux version/, BOOT_MS);
        await waitFor("OSRunning", async () => (await lastState(id)) === "OSRunning", BOOT_MS, 500);
        // cloud-init read the seed from the presented cidata disk, named the host, and grew the root to the volume
        const ran = /ANVIL-CIDATA-OK (\S+) root=(\d+)/.exec(await a.waitText(/ANVIL-CIDATA-OK \S+ root=\d+/, BOOT_MS)) ?? [];
        expect(ran[1]).toBe("real-0001");
        expect(Number(ran[2])).toBeGreaterThan(3 * 1024 ** 3);
        console.log(`boot to login: ${((Date.now() - t0) / 1000).toFixed(1)} s (${withDisk.accel})`);
        const boot = a.output.slice(start);
        expect(boot).toContain("SeaBIOS");
        expect(boot).toContain("Booting from Hard Disk");
        expect(boot).toMatch(/Linux version 6\.1\./);
        expect(boot).toContain("login: ");
        expect(boot).not.toContain("No bootable device");

        // a second viewer joins late: it gets the scrollback (the login prompt), and both see what the guest echoes
        b = await ConsoleClient.open(uri, auth(id));
        await b.waitText("login: ", 10_000);
        // (generous waits: beside the rest of the test run a TCG guest can take tens of seconds to echo)
        a.send("anvil-probe\r");
        await a.waitText("anvil-probe", 120_000);
        await b.waitText("anvil-probe", 120_000);
        await b.waitText(/Password: /, 120_000); // the guest's getty asked for the password: keystrokes reached it

        // a DPU-style hot-plug into the running guest: the kernel sees a new virtio disk; unplug completes (DEVICE_DELETED)
        const extra = join(work, "extra.raw");
        execFileSync("truncate", ["-s", "64M", extra]);
        await withDisk.attachDisk({ id: "vol1", file: extra });
        await a.waitText(/virtio_blk virtio\d+: \[vd[b-z]\] 131072 512-byte logical blocks/, 180_000);
        await withDisk.detachDisk("vol1", 180_000);
        expect(withDisk.diskIds()).toEqual(["boot", "cidata"]);

        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${withDisk.pid}/status`, "utf8"))?.[1];
        console.log(`QEMU RSS after boot: ${Math.round(Number(rss) / 1024)} MiB`);

        // GracefulShutdown = the ACPI power button: the guest shuts itself down, QEMU stops (-no-shutdown), BMC says Off
        const t1 = Date.now();
        expect((await resetVia(bmc(id), "GracefulShutdown")).status).toBe(204);
        await waitFor("Off", async () => (await powerOf(bmc(id))) === "Off", BOOT_MS, 500);
        console.log(`graceful shutdown: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
        expect(await withDisk.status()).toBe("shutdown"); // the guest powered off, not a hard off by us
        expect(a.output).toMatch(/reboot: Power down/);
        expect(await lastState(id)).toBe("None");
        expect(withDisk.diskIds()).toEqual(["boot", "cidata"]); // power off keeps the presented devices
        await withDisk.detachDisk("boot", 30_000); // and a DPU can still take one away while the host is off
        expect(withDisk.diskIds()).toEqual(["cidata"]);
      } finally {
        a.close();
        b?.close();
      }
    },
    2 * BOOT_MS,
  );
});
