// The linux backend against the real Debian tools: its own userspace Open vSwitch (ovsdb-server + ovs-vswitchd
// --enable-dummy, netdev datapath, dummy ports) proves with ofproto/trace which packets the security flows pass;
// genisoimage/isoinfo/cloud-init/netplan check the seed image; a fake SPDK JSON-RPC server on a unix socket checks
// the exact method names and parameters. A missing tool fails the test with the package to install.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVS_TOOLS, type OvsLab, requireTools, startOvsLab } from "../../test/ovs-lab";

const TOKEN = "linux-test-token";
const TOOLS: [string, string][] = [
  ...OVS_TOOLS,
  ["genisoimage", "genisoimage"],
  ["isoinfo", "genisoimage"],
  ["cloud-init", "cloud-init"],
  ["netplan", "netplan.io"],
];

let lab: OvsLab;
let dir: string;
let spdk: Server;
const spdkCalls: { method: string; params: any }[] = [];
const sh: OvsLab["sh"] = (...args) => lab.sh(...args);
const must: OvsLab["must"] = (...args) => lab.must(...args);
const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(lab.url + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = res.headers.get("content-type") ?? "";
  return { status: res.status, json: type.includes("json") ? await res.json() : undefined, res };
};

/** Fake SPDK: answers like spdk_tgt, replies split across writes to exercise the unframed JSON stream parsing. */
function startFakeSpdk(path: string): Promise<Server> {
  const server = createServer((sock) => {
    let buf = "";
    sock.on("data", (chunk) => {
      buf += chunk.toString();
      let req: { id: number; method: string; params?: any };
      try {
        req = JSON.parse(buf);
      } catch {
        return; // incomplete
      }
      buf = "";
      spdkCalls.push({ method: req.method, params: req.params });
      const p = req.params ?? {};
      let reply: unknown;
      if (req.method === "bdev_nvme_attach_controller") {
        reply = p.subnqn.endsWith(":missing") ? { error: { code: -32602, message: "Unable to connect to subsystem" } } : { result: [`${p.name}n1`] };
      } else if (["bdev_iscsi_create", "bdev_aio_create", "bdev_rbd_create"].includes(req.method)) reply = { result: p.name };
      else if (
        [
          "vfu_virtio_create_blk_endpoint",
          "vfu_virtio_delete_endpoint",
          "bdev_nvme_detach_controller",
          "bdev_iscsi_delete",
          "bdev_aio_delete",
          "bdev_rbd_delete",
        ].includes(req.method)
      )
        reply = { result: true };
      else reply = { error: { code: -32601, message: "Method not found" } };
      const text = JSON.stringify({ jsonrpc: "2.0", id: req.id, ...(reply as object) });
      sock.write(text.slice(0, 7));
      setTimeout(() => sock.write(text.slice(7)), 2);
    });
  });
  return new Promise((r) => server.listen(path, () => r(server)));
}

beforeAll(async () => {
  requireTools(TOOLS);
  lab = await startOvsLab({
    prefix: "anvil-agent-ovs-",
    token: TOKEN,
    beforeAgent: async (d) => {
      spdk = await startFakeSpdk(join(d, "spdk.sock"));
    },
  });
  dir = lab.dir;
}, 30_000);

afterAll(async () => {
  await lab?.close();
  await new Promise((r) => (spdk ? spdk.close(r) : r(undefined)));
});

describe("disks through SPDK JSON-RPC", () => {
  it("attaches NVMe/TCP with the exact RPCs and presents a virtio-blk endpoint", async () => {
    spdkCalls.length = 0;
    const r = await call("PUT", "/v1/disks/boot", {
      transport: "nvme-tcp",
      target: { nqn: "nqn.2024-01.io.anvil:vol-1", address: "10.9.0.1", port: 4420 },
      hostNqn: "nqn.2014-08.org.nvmexpress:uuid:dpu-1",
      role: "boot",
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ bdev: "anvil-bootn1", endpoint: "anvil-blk-pf0vf0", function: { pf: 0, vf: 0 } });
    expect(spdkCalls).toEqual([
      {
        method: "bdev_nvme_attach_controller",
        params: {
          name: "anvil-boot",
          trtype: "TCP",
          traddr: "10.9.0.1",
          adrfam: "IPv4",
          trsvcid: "4420",
          subnqn: "nqn.2024-01.io.anvil:vol-1",
          hostnqn: "nqn.2014-08.org.nvmexpress:uuid:dpu-1",
        },
      },
      { method: "vfu_virtio_create_blk_endpoint", params: { name: "anvil-blk-pf0vf0", bdev_name: "anvil-bootn1", num_queues: 4, qsize: 256 } },
    ]);
  });

  it("attaches iSCSI by URL and detaches in reverse order", async () => {
    spdkCalls.length = 0;
    const r = await call("PUT", "/v1/disks/data", {
      transport: "iscsi",
      target: { iqn: "iqn.2024-01.io.anvil:vol-2", address: "10.9.0.2" },
      initiatorIqn: "iqn.2024-01.io.anvil:dpu-1",
      role: "data",
    });
    expect(r.status).toBe(201);
    expect(spdkCalls[0]).toEqual({
      method: "bdev_iscsi_create",
      params: { name: "anvil-data", initiator_iqn: "iqn.2024-01.io.anvil:dpu-1", url: "iscsi://10.9.0.2:3260/iqn.2024-01.io.anvil:vol-2/0" },
    });
    spdkCalls.length = 0;
    expect((await call("DELETE", "/v1/disks/data")).status).toBe(204);
    expect(spdkCalls.map((c) => [c.method, c.params.name])).toEqual([
      ["vfu_virtio_delete_endpoint", "anvil-blk-pf0vf1"],
      ["bdev_iscsi_delete", "anvil-data"],
    ]);
  });

  it("attaches Ceph RBD with bdev_rbd_create and never shows the cephx key", async () => {
    spdkCalls.length = 0;
    const key = "AQBmZWVkZmFjZWZlZWRmYWNlZmVlZGZhY2U9PT09PQ==";
    const r = await call("PUT", "/v1/disks/ceph", {
      transport: "rbd",
      target: { pool: "rbd", image: "vol-3", monitors: ["127.0.0.1", "[fd00::2]:6789"], user: "anvil" },
      key,
      role: "data",
    });
    expect(r.status).toBe(201);
    expect(spdkCalls).toEqual([
      {
        method: "bdev_rbd_create",
        params: {
          name: "anvil-ceph",
          pool_name: "rbd",
          rbd_name: "vol-3",
          user_id: "anvil",
          block_size: 512,
          config: { mon_host: "127.0.0.1:3300,[fd00::2]:6789", key, auth_client_required: "cephx" },
        },
      },
      { method: "vfu_virtio_create_blk_endpoint", params: { name: "anvil-blk-pf0vf1", bdev_name: "anvil-ceph", num_queues: 4, qsize: 256 } },
    ]);
    expect(r.json.target).toEqual({ pool: "rbd", image: "vol-3", monitors: ["127.0.0.1:3300", "[fd00::2]:6789"], user: "anvil" });
    const again = await call("PUT", "/v1/disks/ceph", {
      transport: "rbd",
      target: { pool: "rbd", image: "vol-3", monitors: ["127.0.0.1:3300", "[fd00::2]:6789"], user: "anvil" },
      key,
      role: "data",
    });
    expect(again.status).toBe(200);
    for (const path of ["/v1/disks", "/v1/disks/ceph", "/v1/inventory", "/v1/health"]) {
      const text = await (await fetch(lab.url + path, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      expect(text, path).not.toContain(key);
    }
    for (const text of [JSON.stringify(r.json), JSON.stringify(again.json)]) expect(text).not.toContain(key);
    expect(await readFile(join(dir, "agent", "agent-state.json"), "utf8")).not.toContain(key);
    spdkCalls.length = 0;
    expect((await call("DELETE", "/v1/disks/ceph")).status).toBe(204);
    expect(spdkCalls.map((c) => [c.method, c.params.name])).toEqual([
      ["vfu_virtio_delete_endpoint", "anvil-blk-pf0vf1"],
      ["bdev_rbd_delete", "anvil-ceph"],
    ]);
  });

  it("refuses a malformed rbd spec with a message that does not repeat the key", async () => {
    const bad = "not a key!";
    const r = await call("PUT", "/v1/disks/ceph2", {
      transport: "rbd",
      target: { pool: "rbd", image: "vol-4", monitors: ["127.0.0.1:3300"], user: "anvil" },
      key: bad,
      role: "data",
    });
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({ code: "invalid_request", field: "key" });
    expect(JSON.stringify(r.json)).not.toContain(bad);
    const mon = await call("PUT", "/v1/disks/ceph2", {
      transport: "rbd",
      target: { pool: "rbd", image: "vol-4", monitors: ["127.0.0.1:99999"], user: "anvil" },
      key: "AQBmZWVkZmFjZWZlZWRmYWNlZmVlZGZhY2U9PT09PQ==",
      role: "data",
    });
    expect(mon.status).toBe(422);
    expect(mon.json.error.field).toBe("target.monitors[0]");
    const ns = await call("PUT", "/v1/disks/ceph2", {
      transport: "rbd",
      target: { pool: "rbd", namespace: "t1", image: "vol-4", monitors: ["127.0.0.1:3300"], user: "anvil" },
      key: "AQBmZWVkZmFjZWZlZWRmYWNlZmVlZGZhY2U9PT09PQ==",
      role: "data",
    });
    expect(ns.status).toBe(422);
    expect(ns.json.error.code).toBe("unsupported_transport");
  });

  it("reports an SPDK error as 502 and leaks no function", async () => {
    const r = await call("PUT", "/v1/disks/gone", {
      transport: "nvme-tcp",
      target: { nqn: "nqn.2024-01.io.anvil:missing", address: "10.9.0.1" },
      hostNqn: "nqn.2014-08.org.nvmexpress:uuid:dpu-1",
      role: "data",
    });
    expect(r.status).toBe(502);
    expect(r.json.error).toMatchObject({ code: "spdk_error" });
    expect(r.json.error.message).toContain("Unable to connect to subsystem");
    const inv = await call("GET", "/v1/inventory");
    expect(inv.json.physicalFunctions[0].vfsInUse).toBe(1);
  });
});

describe("cidata seed image with genisoimage", () => {
  const networkConfig = {
    version: 2,
    ethernets: {
      eth0: {
        match: { macaddress: "02:00:00:00:00:0a" },
        "set-name": "eth0",
        addresses: ["10.1.0.10/24"],
        routes: [{ to: "default", via: "10.1.0.1" }],
        nameservers: { addresses: ["10.1.0.2", "1.1.1.1"], search: ["anvil.internal"] },
      },
    },
  };
  const seedDir = () => join(dir, "seed-check");

  async function putAndExtract(name: string, userData: string) {
    const r = await call("PUT", `/v1/cidata/${name}`, { userData, metaData: { "instance-id": `i-${name}`, "local-hostname": name }, networkConfig });
    expect(r.status).toBe(201);
    const img = await call("GET", `/v1/cidata/${name}/image`);
    const iso = join(seedDir(), `${name}.iso`);
    await mkdir(seedDir(), { recursive: true });
    await writeFile(iso, Buffer.from(await img.res.arrayBuffer()));
    return iso;
  }

  it("builds an ISO labelled cidata that cloud-init and netplan accept", async () => {
    spdkCalls.length = 0;
    const userData = "#cloud-config\nhostname: web-1\npackages: [nginx]\nruncmd:\n  - [systemctl, enable, --now, nginx]\n";
    const iso = await putAndExtract("web-1", userData);
    expect(spdkCalls[0]).toEqual({
      method: "bdev_aio_create",
      params: { name: "anvil-cidata-web-1", filename: join(dir, "agent", "cidata", "web-1", "seed.iso"), readonly: true },
    });
    expect(spdkCalls[1].method).toBe("vfu_virtio_create_blk_endpoint");

    expect(await must("isoinfo", ["-d", "-i", iso])).toMatch(/^Volume id: cidata$/m);
    const ud = await must("isoinfo", ["-J", "-x", "/user-data", "-i", iso]);
    expect(ud).toBe(userData);
    expect(await must("isoinfo", ["-J", "-x", "/meta-data", "-i", iso])).toContain('instance-id: "i-web-1"');
    await writeFile(join(seedDir(), "user-data"), ud);
    const schema = await sh("cloud-init", ["schema", "--config-file", join(seedDir(), "user-data")]);
    expect(schema.stdout + schema.stderr).toMatch(/Valid schema|Valid cloud-config/);
    expect(schema.code).toBe(0);

    const root = join(seedDir(), "root");
    await mkdir(join(root, "etc", "netplan"), { recursive: true });
    const nc = await must("isoinfo", ["-J", "-x", "/network-config", "-i", iso]);
    await writeFile(join(root, "etc", "netplan", "50-cloud-init.yaml"), nc, { mode: 0o600 });
    await must("netplan", ["generate", "--root-dir", root]);
    const network = await readFile(join(root, "run", "systemd", "network", "10-netplan-eth0.network"), "utf8");
    expect(network).toContain("Address=10.1.0.10/24");
    expect(network).toMatch(/Gateway=10\.1\.0\.1/);
    expect(network).toContain("DNS=10.1.0.2");
    expect(network).toContain("DNS=1.1.1.1");
    expect(network).toContain("Domains=anvil.internal");
    const link = await readFile(join(root, "run", "systemd", "network", "10-netplan-eth0.link"), "utf8");
    expect(link).toContain("MACAddress=02:00:00:00:00:0a");
  });

  it("carries invalid cloud-config through unchanged, and cloud-init refuses it", async () => {
    const iso = await putAndExtract("bad-1", "#cloud-config\npackages: 5\n");
    const ud = await must("isoinfo", ["-J", "-x", "/user-data", "-i", iso]);
    await writeFile(join(seedDir(), "bad-user-data"), ud);
    const schema = await sh("cloud-init", ["schema", "--config-file", join(seedDir(), "bad-user-data")]);
    expect(schema.code).not.toBe(0);
    expect(schema.stdout + schema.stderr).toContain("packages: 5 is not of type 'array'");
  });

  it("removes the image and its SPDK objects", async () => {
    spdkCalls.length = 0;
    expect((await call("DELETE", "/v1/cidata/bad-1")).status).toBe(204);
    expect(spdkCalls.map((c) => c.method)).toEqual(["vfu_virtio_delete_endpoint", "bdev_aio_delete"]);
    expect(existsSync(join(dir, "agent", "cidata", "bad-1"))).toBe(false);
  });
});

describe("NICs on Open vSwitch with conntrack security flows", () => {
  const MAC = { a: "02:00:00:00:00:0a", b: "02:00:00:00:00:0b", c: "02:00:00:00:00:0c", d: "02:00:00:00:00:0d", e: "02:00:00:00:00:0e" };
  const ssh = { ingress: [{ id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "10.1.0.0/24" }], egress: [] };
  const open = {
    ingress: [{ id: "any", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
    egress: [{ id: "out", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
  };
  let dp: Record<string, number> = {};
  const ports: Record<string, string> = {};

  const trace = (flow: string, ctNext: string[] = []) => lab.trace(flow, ctNext);
  const tcp = (from: string, src: string, dst: string, dport: number, extra = "") =>
    `in_port=${from},dl_src=${src},dl_dst=${dst},tcp,nw_src=${extra ? extra.split("|")[0] : "10.1.0.5"},nw_dst=${extra ? extra.split("|")[1] : "10.1.0.10"},tp_dst=${dport}`;

  beforeAll(async () => {
    const put = async (name: string, body: unknown) => {
      const r = await call("PUT", `/v1/nics/${name}`, body);
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      return r.json;
    };
    ports.a = (await put("a", { mac: MAC.a, network: { type: "vlan", vlanId: 100 }, rules: ssh })).port;
    ports.e = (await put("e", { mac: MAC.e, network: { type: "vlan", vlanId: 100 }, rules: open })).port;
    ports.b = (await put("b", { mac: MAC.b, network: { type: "vlan", vlanId: 200 }, rules: open })).port;
    ports.c = (await put("c", { mac: MAC.c, network: { type: "vxlan", vni: 5000, remoteIps: ["192.0.2.10"] }, rules: ssh })).port;
    ports.d = (await put("d", { mac: MAC.d, network: { type: "vxlan", vni: 6000, remoteIps: ["192.0.2.10"] }, rules: open })).port;
    dp = await lab.datapathPorts();
  });

  const ofport = async (port: string) => (await must("ovs-vsctl", ["get", "Interface", port, "ofport"])).trim();

  it("creates tagged ports with iface-id and VXLAN tunnel ports per VNI", async () => {
    expect((await must("ovs-vsctl", ["get", "Port", ports.a, "tag"])).trim()).toBe("100");
    expect((await must("ovs-vsctl", ["get", "Port", ports.b, "tag"])).trim()).toBe("200");
    expect((await must("ovs-vsctl", ["get", "Interface", ports.a, "external_ids:iface-id"])).trim()).toBe("a");
    const tunnels = (await must("ovs-vsctl", ["--format=csv", "--data=bare", "--no-headings", "--columns=name,options", "find", "Interface", "type=vxlan"]))
      .trim()
      .split("\n");
    expect(tunnels).toHaveLength(2);
    expect(tunnels.join("\n")).toMatch(/key=5000/);
    expect(tunnels.join("\n")).toMatch(/key=6000/);
    expect(tunnels.join("\n")).toMatch(/remote_ip=192\.0\.2\.10/);
    const tagC = (await must("ovs-vsctl", ["get", "Port", ports.c, "tag"])).trim();
    const tagD = (await must("ovs-vsctl", ["get", "Port", ports.d, "tag"])).trim();
    expect(tagC).not.toBe(tagD);
  });

  it("passes a new TCP 22 connection from an allowed CIDR and drops port 23 or another CIDR", async () => {
    const allowed = await trace(`in_port=uplink,dl_vlan=100,${tcp("uplink", "02:00:00:00:99:01", MAC.a, 22).replace("in_port=uplink,", "")}`);
    expect(allowed.out, allowed.text).toEqual([dp[ports.a]]);
    const port23 = await trace(`in_port=uplink,dl_vlan=100,${tcp("uplink", "02:00:00:00:99:01", MAC.a, 23).replace("in_port=uplink,", "")}`);
    expect(port23.out, port23.text).toEqual([]);
    const otherCidr = await trace(
      `in_port=uplink,dl_vlan=100,${tcp("uplink", "02:00:00:00:99:01", MAC.a, 22, "10.2.0.5|10.1.0.10").replace("in_port=uplink,", "")}`,
    );
    expect(otherCidr.out).toEqual([]);
  });

  it("passes return traffic of an established connection, drops new egress without a rule, drops spoofed MACs", async () => {
    const reply = `in_port=${await ofport(ports.a)},dl_src=${MAC.a},dl_dst=02:00:00:00:99:01,tcp,nw_src=10.1.0.10,nw_dst=10.1.0.5,tp_src=22,tp_dst=40000`;
    const est = await trace(reply, ["trk,est"]);
    expect(est.out, est.text).toContain(dp.uplink);
    expect(est.text).toMatch(/push_vlan\(vid=100/);
    const fresh = await trace(reply, ["trk,new"]);
    expect(fresh.out, fresh.text).toEqual([]);
    const spoof = await trace(reply.replace(`dl_src=${MAC.a}`, "dl_src=02:00:00:00:66:66"), ["trk,est"]);
    expect(spoof.out).toEqual([]);
    expect(spoof.text).not.toMatch(/ct\(/);
  });

  it("applies the receiver's ingress rules to traffic between NICs of the same network", async () => {
    const fromE = (dport: number) => `in_port=${0},dl_src=${MAC.e},dl_dst=${MAC.a},tcp,nw_src=10.1.0.7,nw_dst=10.1.0.10,tp_dst=${dport}`;
    const e = await ofport(ports.e);
    const ok = await trace(fromE(22).replace("in_port=0", `in_port=${e}`), ["trk,new", "trk,new"]);
    expect(ok.out, ok.text).toEqual([dp[ports.a]]);
    const denied = await trace(fromE(23).replace("in_port=0", `in_port=${e}`), ["trk,new", "trk,new"]);
    expect(denied.out).toEqual([]);
  });

  it("isolates tenants on different VLANs and VNIs", async () => {
    // B (VLAN 200, allows all egress) sends to A's MAC: never reaches A, only VLAN 200 ports.
    const b = await ofport(ports.b);
    const bToA = await trace(`in_port=${b},dl_src=${MAC.b},dl_dst=${MAC.a},tcp,nw_src=10.1.0.9,nw_dst=10.1.0.10,tp_dst=22`, ["trk,new"]);
    expect(bToA.out).not.toContain(dp[ports.a]);
    expect(bToA.out).not.toContain(dp[ports.e]);
    expect(bToA.text).toMatch(/push_vlan\(vid=200/);
    // VLAN 200 traffic from the fabric addressed to A's MAC is not delivered to A.
    const fabric = await trace(`in_port=uplink,dl_vlan=200,dl_src=02:00:00:00:99:02,dl_dst=${MAC.a},tcp,nw_src=10.1.0.5,nw_dst=10.1.0.10,tp_dst=22`);
    expect(fabric.out).not.toContain(dp[ports.a]);
    // D (VNI 6000) to C's MAC (VNI 5000): not delivered to C.
    const d = await ofport(ports.d);
    const dToC = await trace(`in_port=${d},dl_src=${MAC.d},dl_dst=${MAC.c},tcp,nw_src=10.1.0.6,nw_dst=10.1.0.11,tp_dst=22`, ["trk,new"]);
    expect(dToC.out).not.toContain(dp[ports.c]);
    // From the VNI 5000 tunnel, C's allowed port passes; VNI 6000 to C's MAC does not reach C.
    const tunnels = (await must("ovs-vsctl", ["--format=csv", "--data=bare", "--no-headings", "--columns=name,options", "find", "Interface", "type=vxlan"]))
      .trim()
      .split("\n");
    const t5000 = tunnels.find((l) => l.includes("key=5000"))!.split(",")[0];
    const t6000 = tunnels.find((l) => l.includes("key=6000"))!.split(",")[0];
    const viaTunnel = await trace(
      `in_port=${t5000},tun_id=5000,tun_src=192.0.2.10,tun_dst=192.0.2.1,dl_src=02:00:00:00:99:03,dl_dst=${MAC.c},tcp,nw_src=10.1.0.5,nw_dst=10.1.0.11,tp_dst=22`,
    );
    expect(viaTunnel.out, viaTunnel.text).toEqual([dp[ports.c]]);
    const wrongVni = await trace(
      `in_port=${t6000},tun_id=6000,tun_src=192.0.2.10,tun_dst=192.0.2.1,dl_src=02:00:00:00:99:03,dl_dst=${MAC.c},tcp,nw_src=10.1.0.5,nw_dst=10.1.0.11,tp_dst=22`,
    );
    expect(wrongVni.out).not.toContain(dp[ports.c]);
  });

  it("replaces rules atomically when the security group changes", async () => {
    const r = await call("PUT", "/v1/nics/a/rules", {
      ingress: [{ id: "telnet", ethertype: "ipv4", protocol: "tcp", portMin: 23, cidr: "10.1.0.0/24" }],
      egress: [],
    });
    expect(r.status).toBe(200);
    const flow = (port: number) => `in_port=uplink,dl_vlan=100,dl_src=02:00:00:00:99:01,dl_dst=${MAC.a},tcp,nw_src=10.1.0.5,nw_dst=10.1.0.10,tp_dst=${port}`;
    expect((await trace(flow(23))).out).toEqual([dp[ports.a]]);
    expect((await trace(flow(22))).out).toEqual([]);
  });

  it("deletes a NIC with its flows and tunnel, and reset removes everything the agent created", async () => {
    expect((await call("DELETE", "/v1/nics/d")).status).toBe(204);
    const tunnels = (await must("ovs-vsctl", ["--format=csv", "--data=bare", "--no-headings", "--columns=name", "find", "Interface", "type=vxlan"]))
      .trim()
      .split("\n")
      .filter(Boolean);
    expect(tunnels).toHaveLength(1);
    expect(await must("ovs-vsctl", ["list-ports", "br-int"])).not.toContain(ports.d);

    const reset = await call("POST", "/v1/reset");
    expect(reset.status).toBe(200);
    expect(reset.json.removed).toEqual({ disks: 1, cidata: 1, nics: 4 });
    expect((await must("ovs-vsctl", ["list-ports", "br-int"])).trim()).toBe("uplink");
    const flows = await must("ovs-ofctl", ["-O", "OpenFlow13", "dump-flows", "br-int"]);
    expect(flows).not.toMatch(/cookie=0xa4e1/);
    expect(flows).toMatch(/priority=0 actions=NORMAL/);
    // The agent works again after a reset.
    expect((await call("PUT", "/v1/nics/a", { mac: MAC.a, network: { type: "vlan", vlanId: 100 }, rules: ssh })).status).toBe(201);
  });
});
