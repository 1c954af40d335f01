// The one-command real lab (sim/real/lab.ts), driven the way Anvil's provisioning drives a host, over the real
// interfaces only: Anvil's Ceph StorageClient (getStorage() with the lab's storageEnv) imports the guest image into
// an image volume, snapshots it and clones it into a tenant namespace, exports the clone to the DPU (rbd target +
// cephx secret); Anvil's DPU agent client presents the disk, the cloud-init seed and a NIC to the host; the host's
// Redfish BMC (HTTP) sets a one-time boot override and powers it on; the BMC's console WebSocket shows the firmware
// booting the disk and the guest's kernel starting. Then, as Anvil's delete does, the host is powered off and the DPU
// takes its functions away, and close() must leave no process, no namespace mount behind. One host.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDpuAgentClient, type DpuAgentClient, type RuleSetInput } from "../../server/drivers/dpu-agent/client";
import type { StorageClient } from "../../server/drivers/storage/client";
import { getStorage, IMAGES_NAMESPACE, tenantNamespace } from "../../server/storage/backend";
import { basic, ConsoleClient, powerOf, resetVia, rf, systemOf, waitFor } from "../redfish/test-helpers";
import { mountsUnder, pidsMentioning, type RealLab, startRealLab } from "./lab";

const BOOT_MS = 10 * 60_000;
const MAC = "52:54:00:a0:00:01";
const HOSTNAME = "lab-guest-1";
const RULES: RuleSetInput = {
  ingress: [{ id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "10.0.0.0/24" }],
  egress: [{ id: "all", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
};

let dir: string;
let lab: RealLab | undefined;
let storage: StorageClient;
let agent: DpuAgentClient;
let console_: ConsoleClient | undefined;
const savedEnv: Record<string, string | undefined> = {};
let qemuPid = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-real-lab-"));
  lab = await startRealLab({ dir, hosts: 1 });
  for (const [k, v] of Object.entries({ ...lab.storageEnv, ANVIL_MGMT_ALLOW: "127.0.0.0/8" })) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  storage = getStorage();
  const row = lab.hosts[0]!;
  agent = createDpuAgentClient({ baseUrl: row.agent_url!, token: row.agent_token!, timeoutMs: 60_000 });
  qemuPid = lab.qemuHosts[0]!.pid ?? 0;
}, 20 * 60_000);

afterAll(async () => {
  console_?.close();
  await lab?.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

const bmcOf = () => lab!.redfish.byId(lab!.hosts[0]!.name)!;
const auth = () => ({ authorization: basic(lab!.hosts[0]!.bmc_username, lab!.hosts[0]!.bmc_password) });
const lastState = async () => (await systemOf(bmcOf())).BootProgress.LastState as string;
async function bootOnce(target: "Hdd" | "Pxe"): Promise<void> {
  const sys = await systemOf(bmcOf());
  const r = await rf(bmcOf(), sys["@odata.id"], { method: "PATCH", body: { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: target } } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect((await resetVia(bmcOf(), "On")).status).toBe(204);
}

describe("the real lab, provisioned like Anvil does it", () => {
  it("rows and storage environment point at what the lab serves", async () => {
    const row = lab!.hosts[0]!;
    expect(row).toMatchObject({ name: "real-0001", driver: "redfish", verify_tls: false, dedicated_power: false });
    expect(new URL(row.bmc_address).hostname).toBe("127.0.0.1");
    expect(new URL(row.agent_url!).hostname).toBe("127.0.0.1");
    // The DPU's BMC advertises its real agent.
    const dpuBmc = lab!.redfish.bmcs.find((b) => b.kind === "dpu")!;
    expect((await systemOf(dpuBmc)).Oem.Anvil.AgentUrl).toBe(row.agent_url);
    expect(lab!.storageEnv).toMatchObject({ ANVIL_STORAGE: "ceph", ANVIL_CEPH_USER: "admin", ANVIL_CEPH_NETNS: lab!.ceph.netns });
    expect(lab!.csv().split("\r\n")[1]).toContain("real-0001");
    expect(await powerOf(bmcOf())).toBe("Off");
  });

  it(
    "clones the image into a tenant, presents it through the DPU, boots it via Redfish to login: with the seed's hostname, then takes it all apart",
    async () => {
      const row = lab!.hosts[0]!;
      const dpuId = lab!.redfish.bmcs.find((b) => b.kind === "dpu")!.id;
      // ---- storage: image volume in "images", golden snapshot, O(1) clone into the tenant's namespace
      const img = await storage.createVolume({
        name: "debian-12",
        logicalPoolId: lab!.poolId,
        sizeBytes: lab!.guestImage.sizeBytes,
        namespace: IMAGES_NAMESPACE,
      });
      expect(img.id).toBe(`${lab!.poolId}/images/debian-12`);
      await storage.writeVolumeData(img.id, { path: lab!.guestImage.path, format: "raw" });
      const snap = await storage.createSnapshot({ volumeId: img.id, name: "golden" });
      const clone = await storage.cloneVolume({ name: "i-1-boot", sourceSnapshotId: snap.id, sizeBytes: 4 * 1024 ** 3, namespace: tenantNamespace("test") });
      expect(clone.id).toBe(`${lab!.poolId}/tenant-test/i-1-boot`);
      const target = await storage.createTarget({ volumeId: clone.id, protocol: "rbd", initiator: dpuId });
      const secret = await storage.targetSecret(target.id);
      const rbd = target.rbd!;

      // ---- the DPU presents the disk, the seed and a NIC to the (powered-off) host
      const disk = await agent.putDisk("boot", {
        transport: "rbd",
        target: { pool: rbd.pool, namespace: rbd.namespace, image: rbd.image, monitors: rbd.monitors.split(","), user: secret.user },
        key: secret.key,
        role: "boot",
      });
      expect(JSON.stringify(disk)).not.toContain(secret.key);
      await agent.putCidata("seed", {
        userData: `#cloud-config\nhostname: ${HOSTNAME}\nmanage_etc_hosts: true\npassword: lab-pass-1\nchpasswd: { expire: false }\nruncmd:\n  - echo "ANVIL-LAB-OK $(hostname)" > /dev/console\n`,
        metaData: { "instance-id": "i-lab-1", "local-hostname": HOSTNAME },
        // a static address: with no DHCP server on the overlay, the default DHCP would hold the boot for minutes
        networkConfig: { version: 2, ethernets: { eth0: { match: { macaddress: MAC }, "set-name": "eth0", addresses: ["10.99.0.11/24"] } } },
      });
      await agent.putNic("nic0", { mac: MAC, network: { type: "vlan", vlanId: 100 }, rules: RULES });

      console_ = await ConsoleClient.open((await systemOf(bmcOf())).SerialConsole.WebSocket.ConsoleURI, auth());
      // ---- a one-time PXE override with the agent's boot disk (bootindex 1, plugged over the DPU's QMP) present:
      // the firmware tries only the onboard NIC and finds nothing — the boot order covers devices it did not plug.
      await bootOnce("Pxe");
      await console_.waitText("No bootable device", 180_000);
      expect(await lastState()).not.toMatch(/^OS/);
      expect((await resetVia(bmcOf(), "ForceOff")).status).toBe(204);
      await waitFor("Off", async () => (await powerOf(bmcOf())) === "Off", 30_000, 100);

      // ---- one-time Hdd override + On: SeaBIOS boots the DPU-presented RBD clone: GRUB loads the guest's kernel from
      // it. (The rest of the boot — login prompt, cloud-init's seed, the console login — is npm run test:real's, through
      // Anvil; here it would cost another two minutes of TCG.)
      const from = console_.output.length;
      await bootOnce("Hdd");
      await console_.waitText(/Linux version 6\./, BOOT_MS);
      await waitFor("OSBootStarted", async () => /^OS/.test(await lastState()), 60_000, 500);
      const boot = console_.output.slice(from);
      expect(boot).toContain("Booting from Hard Disk");
      expect(boot).not.toContain("No bootable device");
      expect((await systemOf(bmcOf())).Boot.BootSourceOverrideEnabled).toBe("Disabled");

      // ---- take it apart as Anvil's delete does: power off first, then the DPU removes what it presented from the
      // host that is off (a stopped machine cannot acknowledge the unplug; the agent completes it), then storage drops
      // the export and the clone
      expect((await resetVia(bmcOf(), "ForceOff")).status).toBe(204);
      await waitFor("Off", async () => (await powerOf(bmcOf())) === "Off", 30_000, 100);
      await agent.deleteDisk("boot");
      await agent.deleteCidata("seed");
      await agent.deleteNic("nic0");
      expect(await agent.listDisks()).toEqual([]);
      expect(await agent.listNics()).toEqual([]);
      expect(lab!.qemuHosts[0]!.diskIds()).toEqual([]);
      await storage.deleteTarget(target.id);
      await storage.deleteVolume(clone.id);
      expect((await storage.listTargets({ volumeId: clone.id }).catch(() => ({ items: [] }))).items).toEqual([]);
      await expect(storage.getVolume(clone.id)).rejects.toMatchObject({ status: 404 });
      expect(row.agent_token).toBeTruthy();
    },
    2 * BOOT_MS,
  );

  it("close() stops QEMU, the DPUs and Ceph and leaves no namespace mount behind", async () => {
    expect(qemuPid).toBeGreaterThan(0);
    expect(pidsMentioning(dir).length).toBeGreaterThan(0);
    expect(mountsUnder(dir).length).toBeGreaterThan(0);
    await lab!.close();
    expect(fs.existsSync(`/proc/${qemuPid}`)).toBe(false);
    expect(pidsMentioning(dir)).toEqual([]);
    expect(mountsUnder(dir)).toEqual([]);
  }, 120_000);
});
