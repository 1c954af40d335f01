// The emulated DPU on real parts: single-node Ceph (sim/real/ceph.ts), a q35 QEMU host (KVM when usable, else TCG)
// in Ceph's namespace with native PCIe hot-plug on four pcie-root-ports, and startDpu() (its own userspace OVS in its
// own namespace, the agent with the qemu emulation). Everything goes through the agent's REAL HTTP API; the host's
// side is read over QMP (query-pci, query-named-block-nodes, qom-get/qom-list) since there is no guest OS.
// SeaBIOS runs (no bootable device) so bridges get bus numbers and query-pci lists what sits behind each root port.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QmpClient } from "../../agent/backends/qmp";
import { OVS_TOOLS, requireTools } from "../../test/ovs-lab";
import { type CephLab, startCeph } from "./ceph";
import { type EmulatedDpu, linkDpus, startDpu } from "./dpu";

const TOKEN = "dpu-test-token";
const ROOT_PORTS = ["rp1", "rp2", "rp3", "rp4"];
const MAC = "52:54:00:12:34:56";
const RULES = {
  ingress: [{ id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "10.0.0.0/24" }],
  egress: [{ id: "all", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
};
const CIDATA = { userData: "#cloud-config\nhostname: host1\n", metaData: { "instance-id": "i-1", "local-hostname": "host1" } };

let dir: string;
let ceph: CephLab | undefined;
let dpu: EmulatedDpu | undefined;
let qmp: QmpClient | undefined;
let qemuPid = 0;
let key = "";

const sh = (args: string[]) =>
  new Promise<string>((res, rej) =>
    execFile(args[0]!, args.slice(1), { timeout: 60_000, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }, (err, out, stderr) =>
      err ? rej(new Error(`${args.join(" ")}: ${stderr || err.message}`)) : res(out),
    ),
  );
const inCeph = (args: string[]) => sh(["nsenter", `--net=${ceph!.netns}`, ...args]);
const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(dpu!.url + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
};
const rbdDisk = (image: string, role: "boot" | "data" = "boot") => ({
  transport: "rbd",
  target: { pool: "rbd", image, monitors: ["127.0.0.1:3300"], user: "admin" },
  key,
  role,
});

/**
 * Root port id → the devices behind it (qdev id and type), read from QOM (each device's parent_bus), so it holds
 * whether or not firmware has numbered the buses: the host stays powered off here, as a lab host is while its DPU
 * prepares it.
 */
async function rootPorts(): Promise<Record<string, { id: string; type: string }[]>> {
  const out: Record<string, { id: string; type: string }[]> = Object.fromEntries(ROOT_PORTS.map((p) => [p, []]));
  const children = (await qmp!.execute<{ name: string; type: string }[]>("qom-list", { path: "/machine/peripheral" })).filter(
    (c) => c.type.startsWith("child<") && !ROOT_PORTS.includes(c.name),
  );
  for (const c of children) {
    const bus = await qmp!.execute<string>("qom-get", { path: `/machine/peripheral/${c.name}`, property: "parent_bus" });
    const port = /^\/machine\/peripheral\/([^/]+)\//.exec(bus)?.[1];
    if (port && port in out) out[port]!.push({ id: c.name, type: c.type.slice(6, -1) });
  }
  return out;
}
const nodeNames = async () => (await qmp!.execute<{ "node-name": string }[]>("query-named-block-nodes", { flat: true })).map((n) => n["node-name"]);
const objects = async () => (await qmp!.execute<{ name: string }[]>("qom-list", { path: "/objects" })).map((o) => o.name);
const links = async (ns: string) =>
  (await sh(["nsenter", `--net=${ns}`, "ip", "-o", "link", "show"]))
    .split("\n")
    .map((l) => /^\d+: ([^:@\s]+)/.exec(l)?.[1])
    .filter(Boolean);
const ovsPorts = async () => (await dpu!.vsctl("list-ports", "br-int")).split("\n").filter(Boolean);
const qomGet = (path: string, property: string) => qmp!.execute("qom-get", { path, property });
const empty = { rp1: [], rp2: [], rp3: [], rp4: [] };

beforeAll(async () => {
  requireTools([
    ...OVS_TOOLS,
    ["qemu-system-x86_64", "qemu-system-x86"],
    ["ceph-mon", "ceph-mon"],
    ["ceph-osd", "ceph-osd"],
    ["rbd", "ceph-common"],
    ["genisoimage", "genisoimage"],
    ["nsenter", "util-linux"],
    ["unshare", "util-linux"],
    ["ip", "iproute2"],
    ["ping", "iputils-ping"],
  ]);
  const block = "/usr/lib/x86_64-linux-gnu/qemu/block-rbd.so";
  if (!existsSync(block)) throw new Error(`${block} is missing: apt-get install -y qemu-block-extra`);
  dir = await mkdtemp(join(tmpdir(), "anvil-dpu-"));
  ceph = await startCeph({ dir: join(dir, "ceph") });
  const C = ["-c", ceph.conf];
  await inCeph(["ceph", ...C, "osd", "pool", "create", "rbd", "8"]);
  await inCeph(["rbd", ...C, "pool", "init", "rbd"]);
  for (const img of ["root", "root2"]) await inCeph(["rbd", ...C, "create", "--size", "64M", `rbd/${img}`]);
  key = (await inCeph(["ceph", ...C, "auth", "get-key", "client.admin"])).trim();
  // ACPI hot-plug, as the lab's hosts have: with no guest running, the agent completes an unplug by resetting the stopped machine.
  // One QMP socket per client: a QMP chardev serves one connection at a time (the DPU's, the test's).
  const qmpSocket = join(dir, "qmp-dpu.sock");
  await inCeph([
    "qemu-system-x86_64",
    "-name",
    "dpu-test-host",
    "-machine",
    "q35",
    ...(existsSync("/dev/kvm") ? ["-accel", "kvm"] : []),
    "-accel",
    "tcg",
    "-m",
    "256",
    "-nodefaults",
    "-display",
    "none",
    // Powered off, as a lab host is while the DPU prepares it (sim/real/qemu-host.ts keeps QEMU stopped while off).
    "-S",
    ...ROOT_PORTS.flatMap((id, i) => ["-device", `pcie-root-port,id=${id},chassis=${i + 1},slot=${i + 1}`]),
    "-qmp",
    `unix:${qmpSocket},server=on,wait=off`,
    "-qmp",
    `unix:${join(dir, "qmp-test.sock")},server=on,wait=off`,
    "-pidfile",
    join(dir, "qemu.pid"),
    "-daemonize",
  ]);
  qemuPid = Number(readFileSync(join(dir, "qemu.pid"), "utf8").trim());
  qmp = await QmpClient.connect(join(dir, "qmp-test.sock"));
  dpu = await startDpu({ dir: join(dir, "dpu"), qmpSocket, rootPorts: ROOT_PORTS, qemuNetns: ceph.netns, token: TOKEN, underlayAddress: "10.98.0.1/24" });
}, 300_000);

afterAll(async () => {
  await dpu?.stop();
  qmp?.close();
  if (qemuPid) {
    try {
      process.kill(qemuPid, "SIGTERM");
    } catch {
      // gone
    }
  }
  await ceph?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe("an emulated DPU presents disks, the cidata seed and NICs to a QEMU host over QMP", () => {
  it("attaches an rbd boot disk, the seed and a NIC through the HTTP API onto the host's root ports", async () => {
    const disk = await call("PUT", "/v1/disks/root", rbdDisk("root"));
    expect(disk.status, disk.text).toBe(201);
    expect(disk.text).not.toContain(key);
    expect(disk.json).toMatchObject({ function: { pf: 0, vf: 0 }, bdev: "anvil-node-pf0vf0", endpoint: "anvil-disk-pf0vf0@rp1" });
    const seed = await call("PUT", "/v1/cidata/seed", CIDATA);
    expect(seed.status, seed.text).toBe(201);
    const nic = await call("PUT", "/v1/nics/nic0", { mac: MAC, network: { type: "vlan", vlanId: 100 }, rules: RULES });
    expect(nic.status, nic.text).toBe(201);
    const tap = nic.json.port as string;

    expect(await rootPorts()).toEqual({
      rp1: [{ id: "anvil-disk-pf0vf0", type: "virtio-blk-pci" }],
      rp2: [{ id: "anvil-seed-pf0vf1", type: "virtio-blk-pci" }],
      rp3: [{ id: "anvil-nic-pf1vf0", type: "virtio-net-pci" }],
      rp4: [],
    });
    // The guest would see /dev/disk/by-id/virtio-root, boot from it, and find the cidata label on the seed.
    expect(await qomGet("/machine/peripheral/anvil-disk-pf0vf0", "serial")).toBe("root");
    expect(await qomGet("/machine/peripheral/anvil-disk-pf0vf0", "bootindex")).toBe(1);
    expect(await qomGet("/machine/peripheral/anvil-nic-pf1vf0", "mac")).toBe(MAC);
    const nodes = await qmp!.execute<{ "node-name": string; ro: boolean; drv: string; image: { filename: string } }[]>("query-named-block-nodes", {
      flat: true,
    });
    const rootNode = nodes.find((n) => n["node-name"] === "anvil-node-pf0vf0")!;
    // librbd opened the image with the cephx key (blockdev-add fails otherwise); QEMU shows the node without it.
    expect(rootNode.image.filename.startsWith("json:")).toBe(true);
    expect(JSON.parse(rootNode.image.filename.slice(5))).toMatchObject({
      driver: "raw",
      file: { driver: "rbd", pool: "rbd", image: "root", user: "admin", "server.0.host": "127.0.0.1", "server.0.port": "3300" },
    });
    expect(rootNode.image.filename).not.toContain(key);
    const seedNode = nodes.find((n) => n["node-name"] === "anvil-node-pf0vf1")!;
    expect(seedNode).toMatchObject({ ro: true });
    expect(seedNode.image.filename).toBe(join(dpu!.dir, "agent", "cidata", "seed", "seed.iso"));
    expect(await objects()).toContain("anvil-key-pf0vf0");

    // The tap is in the DPU's namespace (not QEMU's), is the NIC's OVS port, and the NIC's flows use its ofport.
    expect(await links(dpu!.netns)).toContain(tap);
    expect(await links(ceph!.netns)).not.toContain(tap);
    expect(await ovsPorts()).toContain(tap);
    expect((await dpu!.vsctl("get", "Interface", tap, "ofport")).trim()).toBe("1000");
    expect((await dpu!.vsctl("get", "Interface", tap, "type")).trim()).toBe('""');
    const flows = await sh(["ovs-ofctl", "-O", "OpenFlow13", "dump-flows", `unix:${join(dpu!.ovsRunDir, "br-int.mgmt")}`]);
    expect(flows).toContain(`in_port=1000,dl_src=${MAC}`);

    // Nothing of the key in the journal or the agent's replies.
    expect(await readFile(join(dpu!.dir, "agent", "agent-state.json"), "utf8")).not.toContain(key);
    for (const p of ["/v1/disks", "/v1/disks/root", "/v1/inventory"]) expect((await call("GET", p)).text).not.toContain(key);
  });

  it("answers repeats with the existing attachment and plugs nothing more", async () => {
    const before = await rootPorts();
    expect((await call("PUT", "/v1/disks/root", rbdDisk("root"))).status).toBe(200);
    expect((await call("PUT", "/v1/cidata/seed", CIDATA)).status).toBe(200);
    expect((await call("PUT", "/v1/nics/nic0", { mac: MAC, network: { type: "vlan", vlanId: 100 }, rules: RULES })).status).toBe(200);
    expect(await rootPorts()).toEqual(before);
  });

  it("detaches: devices gone from the bus, root ports free, nodes, secret, tap and OVS port gone", async () => {
    const tap = (await call("GET", "/v1/nics/nic0")).json.port as string;
    for (const p of ["/v1/disks/root", "/v1/cidata/seed", "/v1/nics/nic0"]) expect((await call("DELETE", p)).status, p).toBe(204);
    expect(await rootPorts()).toEqual(empty);
    expect((await nodeNames()).filter((n) => n.startsWith("anvil-"))).toEqual([]);
    expect((await objects()).filter((n) => n.startsWith("anvil-"))).toEqual([]);
    expect(await links(dpu!.netns)).not.toContain(tap);
    expect(await links(ceph!.netns)).not.toContain(tap);
    expect(await ovsPorts()).not.toContain(tap);
    const journal = JSON.parse(await readFile(join(dpu!.dir, "agent", "agent-state.json"), "utf8"));
    expect(journal.qemu.functions).toEqual({});
    // The freed root port is used again.
    expect((await call("PUT", "/v1/disks/root", rbdDisk("root"))).json.endpoint).toBe("anvil-disk-pf0vf0@rp1");
    expect((await call("DELETE", "/v1/disks/root")).status).toBe(204);
  });

  it("refuses a volume QEMU cannot open with a clear error and leaves nothing plugged", async () => {
    const r = await call("PUT", "/v1/disks/ghost", rbdDisk("no-such-image", "data"));
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe("qemu_error");
    expect(r.json.error.message).toMatch(/blockdev-add/);
    expect(r.text).not.toContain(key);
    expect(await rootPorts()).toEqual(empty);
    expect((await objects()).filter((n) => n.startsWith("anvil-"))).toEqual([]);
    expect((await call("GET", "/v1/inventory")).json.physicalFunctions[0].vfsInUse).toBe(0);
  });

  it("after an agent restart, the journal lets reset remove everything, leftovers with the agent's prefix too", async () => {
    expect((await call("PUT", "/v1/disks/root", rbdDisk("root"))).status).toBe(201);
    expect((await call("PUT", "/v1/cidata/seed", CIDATA)).status).toBe(201);
    const tap = (await call("PUT", "/v1/nics/nic0", { mac: MAC, network: { type: "vlan", vlanId: 100 }, rules: RULES })).json.port as string;
    // A device the journal does not know (as if the agent died between device_add and its journal write).
    await qmp!.execute("blockdev-add", { driver: "null-co", "node-name": "anvil-node-pf0vf9" });
    await qmp!.execute("device_add", { driver: "virtio-blk-pci", id: "anvil-disk-pf0vf9", drive: "anvil-node-pf0vf9", bus: "rp4" });
    expect(Object.values(await rootPorts()).flat()).toHaveLength(4);

    await dpu!.restartAgent();
    expect((await call("GET", "/v1/disks")).json.items).toEqual([]);
    const reset = await call("POST", "/v1/reset");
    expect(reset.status, reset.text).toBe(200);
    expect(await rootPorts()).toEqual(empty);
    expect((await nodeNames()).filter((n) => n.startsWith("anvil-"))).toEqual([]);
    expect((await objects()).filter((n) => n.startsWith("anvil-"))).toEqual([]);
    expect(await links(dpu!.netns)).not.toContain(tap);
    expect(await ovsPorts()).toEqual([]);
    const journal = JSON.parse(await readFile(join(dpu!.dir, "agent", "agent-state.json"), "utf8"));
    expect(journal.qemu.functions).toEqual({});
    // Reset twice is fine.
    expect((await call("POST", "/v1/reset")).status).toBe(200);
  });

  it("carries the underlay address on br-phy in the DPU's namespace only, and linkDpus joins two DPUs' underlays", async () => {
    expect(await dpu!.exec(["ip", "-o", "addr", "show", "dev", "br-phy"])).toContain("10.98.0.1/24");
    expect(await sh(["ip", "-o", "addr", "show"])).not.toContain("10.98.0.1/24");
    // A second DPU (its agent never needs QMP here): br-phy to br-phy over a veth, inside the two namespaces only.
    const other = await startDpu({
      dir: join(dir, "dpu2"),
      qmpSocket: join(dir, "unused.sock"),
      rootPorts: ["rp9"],
      token: TOKEN,
      underlayAddress: "10.98.0.2/24",
    });
    try {
      await linkDpus(dpu!, other, ["ul-dpu1", "ul-dpu2"]);
      expect(await other.vsctl("list-ports", "br-phy")).toContain("ul-dpu2");
      expect(await dpu!.exec(["ping", "-c", "2", "-i", "0.3", "-W", "5", "10.98.0.2"])).toMatch(/2 received/);
    } finally {
      await other.stop();
    }
    expect(existsSync(join(dir, "dpu2", "netns"))).toBe(false);
  });
});
