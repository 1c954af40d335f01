// The real lab's critical path to a booted host, phase by phase (sim/real/lab.ts): the same calls Anvil's
// provisioning makes — clone (Anvil's Ceph driver), rbd target + cephx secret, the DPU agent presenting the boot
// disk, the cloud-init seed and the NIC, the Redfish power-on request (one-time Hdd override + Reset On) — then what
// the host's serial console shows: firmware (SeaBIOS → "Booting from Hard Disk"), bootloader + kernel (→ "Linux
// version", → systemd), the guest to `login:`, cloud-init's runcmd marker. Once with 1 host, once with 2 hosts
// booting at once. Prints a table per round and the load average; asserts nothing. Env: HOSTS_MAX (default 2).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDpuAgentClient } from "../server/drivers/dpu-agent/client";
import { createCephStorageClient } from "../server/drivers/storage/ceph";
import { resetVia, rf, systemOf } from "../sim/redfish/test-helpers";
import { type RealLab, rssOf, startRealLab } from "../sim/real/lab";

// The lab is on loopback, which Anvil's management-network policy refuses unless allowed (as the dev lab allows it).
process.env.ANVIL_MGMT_ALLOW ??= "127.0.0.0/8";
const HOSTS_MAX = Number(process.env.HOSTS_MAX ?? 2);
const BOOT_TIMEOUT_MS = 15 * 60_000;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
const s = (ms: number | undefined) => (ms === undefined ? "—" : (ms / 1000).toFixed(1));

/** Console markers, in boot order. */
const MARKERS: [string, RegExp][] = [
  ["SeaBIOS", /SeaBIOS \(version/],
  ["Booting from Hard Disk", /Booting from Hard Disk/],
  ["Linux version", /Linux version \d/],
  ["systemd", /Welcome to .*Debian|systemd\[1\]/],
  ["login:", / login: /],
  ["cloud-init runcmd", /ANVIL-BENCH-DONE/],
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-bench-real-boot-"));
const t0 = performance.now();
console.log(`load before: ${load()}`);
const lab = await startRealLab({ dir, hosts: HOSTS_MAX, quiet: true });
let stopping = false;
const stopAll = async () => {
  if (stopping) return;
  stopping = true;
  await lab.close();
  fs.rmSync(dir, { recursive: true, force: true });
};
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
try {
  console.log(`real lab up (${HOSTS_MAX} hosts, ${lab.qemuHosts[0]?.accel}) in ${s(performance.now() - t0)} s, load ${load()}`);
  const storage = createCephStorageClient({
    mon: lab.storageEnv.ANVIL_CEPH_MON!,
    user: "admin",
    keyring: lab.storageEnv.ANVIL_CEPH_KEYRING!,
    netns: lab.storageEnv.ANVIL_CEPH_NETNS,
  });
  let t = performance.now();
  const img = await storage.createVolume({ name: "debian-12", logicalPoolId: lab.poolId, sizeBytes: lab.guestImage.sizeBytes, namespace: "images" });
  await storage.writeVolumeData(img.id, { path: lab.guestImage.path, format: "raw" });
  const snap = await storage.createSnapshot({ volumeId: img.id, name: "golden" });
  console.log(
    `image import (${Math.round(lab.guestImage.sizeBytes / 2 ** 20)} MiB raw, sparse) + snapshot: ${s(performance.now() - t)} s (not on the per-host path)`,
  );

  for (let round = 1; round <= HOSTS_MAX; round++) {
    const hosts = Array.from({ length: round }, (_, i) => i);
    const loadStart = load();
    const results = await Promise.all(
      hosts.map(async (i) => {
        const row = lab.hosts[i]!;
        const dpuId = lab.redfish.bmcs.find((b) => b.kind === "dpu" && b.hostId === row.name)!.id;
        const agent = createDpuAgentClient({ baseUrl: row.agent_url!, token: row.agent_token!, timeoutMs: 60_000 });
        const phases: [string, number][] = [];
        const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
          const a = performance.now();
          const r = await fn();
          phases.push([name, performance.now() - a]);
          return r;
        };
        const hostname = `bench-r${round}-h${i + 1}`;
        const mac = `52:54:00:b0:0${round}:0${i + 1}`;
        const clone = await step("clone (Ceph driver)", () =>
          storage.cloneVolume({ name: `${hostname}-boot`, sourceSnapshotId: snap.id, sizeBytes: 4 * 1024 ** 3, namespace: "tenant-bench" }),
        );
        const { target, secret } = await step("rbd target + secret", async () => {
          const tg = await storage.createTarget({ volumeId: clone.id, protocol: "rbd", initiator: dpuId });
          return { target: tg, secret: await storage.targetSecret(tg.id) };
        });
        const rbd = target.rbd!;
        await step("agent: attach disk", () =>
          agent.putDisk("boot", {
            transport: "rbd",
            target: { pool: rbd.pool, namespace: rbd.namespace, image: rbd.image, monitors: rbd.monitors.split(","), user: secret.user },
            key: secret.key,
            role: "boot",
          }),
        );
        await step("agent: cidata", () =>
          agent.putCidata("seed", {
            userData: `#cloud-config\nhostname: ${hostname}\nruncmd:\n  - echo "ANVIL-BENCH-DONE $(hostname)" > /dev/console\n`,
            metaData: { "instance-id": `i-${hostname}`, "local-hostname": hostname },
            // static: there is no DHCP server on the overlay, and DHCP would hold networking.service for minutes
            networkConfig: { version: 2, ethernets: { eth0: { match: { macaddress: mac }, "set-name": "eth0", addresses: [`10.99.0.${10 + i}/24`] } } },
          }),
        );
        await step("agent: NIC", () =>
          agent.putNic("nic0", {
            mac,
            network: { type: "vlan", vlanId: 100 },
            rules: { ingress: [], egress: [{ id: "all", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }] },
          }),
        );
        // Watch the console (what the BMC's console WebSocket carries) from here on.
        const host = lab.qemuHosts[i]!;
        let text = "";
        const seen = new Map<string, number>();
        let done: () => void = () => {};
        const finished = new Promise<void>((r) => {
          done = r;
        });
        const unsubscribe = host.serial.subscribe((chunk: Buffer) => {
          text = (text + chunk.toString("latin1")).slice(-8192);
          for (const [name, rx] of MARKERS) if (!seen.has(name) && rx.test(text)) seen.set(name, performance.now());
          if (seen.has("cloud-init runcmd")) done();
        });
        const bmc = lab.redfish.byId(lab.hosts[i]!.name)!;
        const onAt = await step("Redfish: override Hdd + Reset On", async () => {
          const sys = await systemOf(bmc);
          const patched = await rf(bmc, sys["@odata.id"], {
            method: "PATCH",
            body: { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Hdd" } },
          });
          if (patched.status >= 300) throw new Error(`boot override: HTTP ${patched.status}`);
          const on = await resetVia(bmc, "On");
          if (on.status >= 300) throw new Error(`Reset On: HTTP ${on.status}`);
          return performance.now();
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, BOOT_TIMEOUT_MS)))]);
        clearTimeout(timer);
        if (typeof unsubscribe === "function") unsubscribe();
        let prev = onAt;
        for (const [name] of MARKERS) {
          const at = seen.get(name);
          phases.push([`→ ${name}`, at === undefined ? Number.NaN : at - prev]);
          if (at !== undefined) prev = at;
        }
        const total = phases.reduce((a, [, ms]) => a + (Number.isNaN(ms) ? 0 : ms), 0);
        const rss = rssOf(host.pid);
        // Take it apart for the next round, as Anvil's delete does: power off, then the DPU removes its functions.
        await resetVia(bmc, "ForceOff");
        await agent.reset();
        await storage.deleteTarget(target.id);
        await storage.deleteVolume(clone.id);
        return { name: row.name, phases, total, rss };
      }),
    );
    console.log(`\n${round} host(s) booting at once (load at start ${loadStart}, at end ${load()}); seconds per phase:`);
    const names = results[0]!.phases.map(([n]) => n);
    const w = Math.max(...names.map((n) => n.length)) + 2;
    console.log(`${"phase".padEnd(w)}${results.map((r) => r.name.padStart(12)).join("")}`);
    for (const [k, n] of names.entries()) console.log(`${n.padEnd(w)}${results.map((r) => s(r.phases[k]![1]).padStart(12)).join("")}`);
    console.log(`${"total to cloud-init done".padEnd(w)}${results.map((r) => s(r.total).padStart(12)).join("")}`);
    console.log(`${"QEMU RSS after boot (MiB)".padEnd(w)}${results.map((r) => String(Math.round(r.rss / 2 ** 20)).padStart(12)).join("")}`);
  }
  await storage.deleteSnapshot(snap.id).catch(() => {});
  await storage.close();
} finally {
  const t = performance.now();
  await stopAll();
  console.log(`\nteardown: ${s(performance.now() - t)} s; load ${load()}`);
}
