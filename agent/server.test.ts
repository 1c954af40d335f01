// API tests of the agent against a started server with the sim backend: auth, every endpoint, idempotency,
// validation errors, fault injection and the storage-service connect call (against a tiny fake storage server).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimBackend } from "./backends/sim";
import type { HostDevice } from "./backends/types";
import { type AgentServer, createAgentServer } from "./server";

const TOKEN = "test-token-123456";

interface Started {
  agent: AgentServer;
  url: string;
  call: (method: string, path: string, body?: unknown, token?: string | null) => Promise<{ status: number; json: any; res: Response }>;
}

const running: AgentServer[] = [];

async function start(opts: Parameters<typeof createAgentServer>[0] = { token: TOKEN }): Promise<Started> {
  const agent = createAgentServer(opts);
  running.push(agent);
  const { url } = await agent.listen(0);
  const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const type = res.headers.get("content-type") ?? "";
    const json = type.includes("json") ? await res.json() : undefined;
    return { status: res.status, json, res };
  };
  return { agent, url, call };
}

afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

const nvmeDisk = (n = 1, role: "boot" | "data" = "data") => ({
  transport: "nvme-tcp",
  target: { nqn: `nqn.2024-01.io.anvil:vol-${n}`, address: "10.9.0.1", port: 4420 },
  hostNqn: "nqn.2014-08.org.nvmexpress:uuid:dpu-1",
  role,
});

const rules = {
  ingress: [{ id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "10.0.0.0/24" }],
  egress: [{ id: "all", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
};
const nic = (mac = "02:00:00:00:00:01") => ({ mac, network: { type: "vlan", vlanId: 100 }, rules });

describe("auth and health", () => {
  let a: Started;
  beforeAll(async () => {
    a = await start();
  });

  it("serves liveness without a token and everything else only with the right one", async () => {
    expect((await a.call("GET", "/v1/health/live", undefined, null)).status).toBe(200);
    const missing = await a.call("GET", "/v1/health", undefined, null);
    expect(missing.status).toBe(401);
    expect(missing.json.error.code).toBe("unauthorized");
    expect(missing.res.headers.get("www-authenticate")).toContain("Bearer");
    expect((await a.call("GET", "/v1/health", undefined, "wrong-token-xxxx")).status).toBe(401);
    expect((await a.call("GET", "/v1/disks", undefined, "wrong-token-xxxx")).status).toBe(401);
    // Unknown paths do not reveal themselves to strangers.
    expect((await a.call("GET", "/v1/nope", undefined, null)).status).toBe(401);
    expect((await a.call("GET", "/v1/nope")).status).toBe(404);
  });

  it("reports health and inventory", async () => {
    const h = await a.call("GET", "/v1/health");
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({
      status: "ok",
      backend: "sim",
      agentVersion: expect.any(String),
      dpuOs: expect.any(String),
      uptimeSeconds: expect.any(Number),
    });
    const inv = await a.call("GET", "/v1/inventory");
    expect(inv.json.physicalFunctions).toEqual([
      { pf: 0, kind: "virtio-blk", maxVfs: 64, vfsInUse: 0 },
      { pf: 1, kind: "virtio-net", maxVfs: 64, vfsInUse: 0 },
    ]);
    expect(inv.json.functions).toEqual([]);
  });

  it("answers 405 with Allow, 400 for bad JSON or names, 413 for huge bodies", async () => {
    const m = await a.call("POST", "/v1/disks");
    expect(m.status).toBe(405);
    expect(m.res.headers.get("allow")).toBe("GET");
    const bad = await a.call("PUT", "/v1/disks/d1", "{nope");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("invalid_json");
    const empty = await a.call("PUT", "/v1/disks/d1", "");
    expect(empty.status).toBe(400);
    const name = await a.call("PUT", "/v1/disks/Bad_Name", nvmeDisk());
    expect(name.status).toBe(400);
    expect(name.json.error).toMatchObject({ code: "invalid_name", field: "name" });
    const huge = await a.call("PUT", "/v1/cidata/c1", { userData: `#cloud-config\n${"x".repeat(1_100_000)}`, metaData: { "instance-id": "i" } });
    expect(huge.status).toBe(413);
  });
});

describe("disks", () => {
  let a: Started;
  const changes: HostDevice[][] = [];
  beforeAll(async () => {
    a = await start({ token: TOKEN, backend: createSimBackend({ onHostDevicesChanged: (d) => changes.push(d) }) });
  });

  it("attaches an NVMe/TCP volume as a virtio-blk function, idempotently", async () => {
    const first = await a.call("PUT", "/v1/disks/boot", nvmeDisk(1, "boot"));
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ name: "boot", state: "attached", role: "boot", readOnly: false, function: { pf: 0, vf: 0, kind: "virtio-blk" } });
    const again = await a.call("PUT", "/v1/disks/boot", nvmeDisk(1, "boot"));
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    // Same meaning, defaults spelled out and keys reordered: still the same spec.
    const spelled = await a.call("PUT", "/v1/disks/boot", { readOnly: false, ...nvmeDisk(1, "boot") });
    expect(spelled.status).toBe(200);
    const different = await a.call("PUT", "/v1/disks/boot", { ...nvmeDisk(1, "boot"), readOnly: true });
    expect(different.status).toBe(409);
    expect(different.json.error.code).toBe("disk_exists");
    expect(changes.at(-1)).toEqual([
      { function: { pf: 0, vf: 0, kind: "virtio-blk" }, boundTo: { type: "disk", name: "boot" }, bootable: true, readOnly: false },
    ]);
  });

  it("attaches iSCSI, refuses a second boot disk and a target attached twice", async () => {
    const iscsi = await a.call("PUT", "/v1/disks/data1", {
      transport: "iscsi",
      target: { iqn: "iqn.2024-01.io.anvil:vol-9", address: "10.9.0.2" },
      initiatorIqn: "iqn.2024-01.io.anvil:dpu-1",
      role: "data",
      readOnly: true,
    });
    expect(iscsi.status).toBe(201);
    expect(iscsi.json).toMatchObject({ function: { pf: 0, vf: 1 }, target: { port: 3260, lun: 0 }, readOnly: true });
    const boot2 = await a.call("PUT", "/v1/disks/boot2", nvmeDisk(2, "boot"));
    expect(boot2.status).toBe(409);
    expect(boot2.json.error).toMatchObject({ code: "boot_disk_exists", field: "role" });
    const twice = await a.call("PUT", "/v1/disks/again", nvmeDisk(1, "data"));
    expect(twice.status).toBe(409);
    expect(twice.json.error.code).toBe("target_in_use");
    const list = await a.call("GET", "/v1/disks");
    expect(list.json.items.map((d: { name: string }) => d.name).sort()).toEqual(["boot", "data1"]);
    expect((await a.call("GET", "/v1/disks/data1")).json.name).toBe("data1");
    expect((await a.call("GET", "/v1/disks/zzz")).status).toBe(404);
  });

  it("validates the body and names the field", async () => {
    const badNqn = await a.call("PUT", "/v1/disks/x", { ...nvmeDisk(3), target: { nqn: "vol-3", address: "10.9.0.1" } });
    expect(badNqn.status).toBe(422);
    expect(badNqn.json.error.field).toBe("target.nqn");
    const badTransport = await a.call("PUT", "/v1/disks/x", { ...nvmeDisk(3), transport: "fc" });
    expect(badTransport.status).toBe(422);
    expect(badTransport.json.error.field).toBe("transport");
    const badPort = await a.call("PUT", "/v1/disks/x", { ...nvmeDisk(3), target: { nqn: "nqn.2024-01.io.anvil:v", address: "10.9.0.1", port: 70000 } });
    expect(badPort.json.error.field).toBe("target.port");
  });

  it("detaches, frees the function and reports a missing disk as 404", async () => {
    expect((await a.call("DELETE", "/v1/disks/data1")).status).toBe(204);
    expect((await a.call("DELETE", "/v1/disks/data1")).status).toBe(404);
    const next = await a.call("PUT", "/v1/disks/data2", nvmeDisk(5));
    expect(next.json.function).toEqual({ pf: 0, vf: 1, kind: "virtio-blk" });
    const inv = await a.call("GET", "/v1/inventory");
    expect(inv.json.functions).toEqual([
      { pf: 0, vf: 0, kind: "virtio-blk", boundTo: { type: "disk", name: "boot" }, bootable: true },
      { pf: 0, vf: 1, kind: "virtio-blk", boundTo: { type: "disk", name: "data2" }, bootable: false },
    ]);
  });

  it("serializes concurrent identical PUTs into one attach", async () => {
    const [x, y] = await Promise.all([a.call("PUT", "/v1/disks/par", nvmeDisk(7)), a.call("PUT", "/v1/disks/par", nvmeDisk(7))]);
    expect([x.status, y.status].sort()).toEqual([200, 201]);
    expect(x.json.function).toEqual(y.json.function);
  });
});

describe("cidata", () => {
  let a: Started;
  beforeAll(async () => {
    a = await start();
  });
  const spec = {
    userData: "#cloud-config\nhostname: web-1\n",
    metaData: { "instance-id": "i-123", "local-hostname": "web-1" },
    networkConfig: {
      version: 2,
      ethernets: {
        eth0: {
          match: { macaddress: "02:00:00:00:00:01" },
          "set-name": "eth0",
          addresses: ["10.0.0.5/24"],
          routes: [{ to: "default", via: "10.0.0.1" }],
          nameservers: { addresses: ["10.0.0.2"] },
        },
      },
    },
  };

  it("builds the seed image and presents it as a virtio-blk function", async () => {
    const r = await a.call("PUT", "/v1/cidata/seed", spec);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: "seed", state: "attached", function: { pf: 0, vf: 0 }, files: ["user-data", "meta-data", "network-config"] });
    expect((await a.call("PUT", "/v1/cidata/seed", spec)).status).toBe(200);
    // The wrapped form {network:{...}} means the same thing.
    expect((await a.call("PUT", "/v1/cidata/seed", { ...spec, networkConfig: { network: spec.networkConfig } })).status).toBe(200);
    expect((await a.call("PUT", "/v1/cidata/seed", { ...spec, userData: "#cloud-config\n" })).status).toBe(409);

    const img = await a.call("GET", "/v1/cidata/seed/image");
    expect(img.status).toBe(200);
    expect(img.res.headers.get("content-type")).toBe("application/x-iso9660-image");
    const bytes = Buffer.from(await img.res.arrayBuffer());
    expect(bytes.subarray(0x8001, 0x8006).toString("ascii")).toBe("CD001");
    expect(bytes.subarray(0x8028, 0x802e).toString("ascii")).toBe("cidata");
    expect(bytes.includes(Buffer.from("hostname: web-1"))).toBe(true);
    expect(bytes.includes(Buffer.from('instance-id: "i-123"'))).toBe(true);
    expect(bytes.includes(Buffer.from('gateway4: "10.0.0.1"'))).toBe(true);
    // Same resource, same bytes (dates come from the resource, not the clock).
    const again = Buffer.from(await (await a.call("GET", "/v1/cidata/seed/image")).res.arrayBuffer());
    expect(again.equals(bytes)).toBe(true);
  });

  it("refuses oversized user-data, unknown user-data formats and invalid network-config", async () => {
    const big = await a.call("PUT", "/v1/cidata/c2", { ...spec, userData: `#cloud-config\n#${"x".repeat(64 * 1024)}` });
    expect(big.status).toBe(422);
    expect(big.json.error).toMatchObject({ code: "user_data_too_large", field: "userData" });
    const fmt = await a.call("PUT", "/v1/cidata/c2", { ...spec, userData: "hostname: x" });
    expect(fmt.json.error.field).toBe("userData");
    const v1 = await a.call("PUT", "/v1/cidata/c2", { ...spec, networkConfig: { version: 1, config: [] } });
    expect(v1.status).toBe(422);
    expect(v1.json.error.field).toMatch(/^networkConfig/);
    const badAddr = await a.call("PUT", "/v1/cidata/c2", {
      ...spec,
      networkConfig: { version: 2, ethernets: { eth0: { addresses: ["10.0.0.5"] } } },
    });
    expect(badAddr.json.error.field).toBe("networkConfig.ethernets.eth0.addresses[0]");
    const noId = await a.call("PUT", "/v1/cidata/c2", { ...spec, metaData: {} });
    expect(noId.json.error.field).toBe("metaData.instance-id");
    const typo = await a.call("PUT", "/v1/cidata/c2", { ...spec, networkConfig: { version: 2, ethernets: { eth0: { adresses: [] } } } });
    expect(typo.status).toBe(422);
  });

  it("lists, gets and deletes", async () => {
    expect((await a.call("GET", "/v1/cidata")).json.items).toHaveLength(1);
    expect((await a.call("GET", "/v1/cidata/seed")).json.userDataBytes).toBe(spec.userData.length);
    expect((await a.call("DELETE", "/v1/cidata/seed")).status).toBe(204);
    expect((await a.call("GET", "/v1/cidata/seed/image")).status).toBe(404);
    expect((await a.call("DELETE", "/v1/cidata/seed")).status).toBe(404);
  });
});

describe("NICs and rules", () => {
  let a: Started;
  beforeAll(async () => {
    a = await start();
  });

  it("creates a virtio-net function, is idempotent, updates rules in place, refuses other changes", async () => {
    const r = await a.call("PUT", "/v1/nics/n1", nic());
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: "n1", mac: "02:00:00:00:00:01", mtu: 1500, function: { pf: 1, vf: 0, kind: "virtio-net" }, port: "pf1vf0" });
    const same = await a.call("PUT", "/v1/nics/n1", { ...nic(), mac: "02:00:00:00:00:01".toUpperCase() });
    expect(same.status).toBe(200);
    expect(same.json).toEqual(r.json);
    const newRules = { ingress: [], egress: [] };
    const upd = await a.call("PUT", "/v1/nics/n1", { ...nic(), rules: newRules });
    expect(upd.status).toBe(200);
    expect(upd.json.rules).toEqual(newRules);
    const moved = await a.call("PUT", "/v1/nics/n1", { ...nic(), network: { type: "vlan", vlanId: 101 } });
    expect(moved.status).toBe(409);
    expect(moved.json.error.code).toBe("nic_exists");
    const viaRules = await a.call("PUT", "/v1/nics/n1/rules", rules);
    expect(viaRules.status).toBe(200);
    expect(viaRules.json.rules.ingress[0].id).toBe("ssh");
    expect((await a.call("PUT", "/v1/nics/missing/rules", rules)).status).toBe(404);
    const dupMac = await a.call("PUT", "/v1/nics/n2", nic());
    expect(dupMac.status).toBe(409);
    expect(dupMac.json.error).toMatchObject({ code: "mac_in_use", field: "mac" });
    const vx = await a.call("PUT", "/v1/nics/n2", { ...nic("02:00:00:00:00:02"), network: { type: "vxlan", vni: 5000, remoteIps: ["192.0.2.10"] } });
    expect(vx.status).toBe(201);
    expect(vx.json.function.vf).toBe(1);
    expect((await a.call("GET", "/v1/nics")).json.items).toHaveLength(2);
  });

  it("replaces several NICs' rules in one request; a missing NIC or a failing data plane is that item's outcome only", async () => {
    const b = await start({ token: TOKEN, admin: true });
    await b.call("PUT", "/v1/nics/b1", nic("02:00:00:00:01:01"));
    await b.call("PUT", "/v1/nics/b2", nic("02:00:00:00:01:02"));
    const web = { ingress: [{ id: "web", ethertype: "ipv4", protocol: "tcp", portMin: 443, cidr: "0.0.0.0/0" }], egress: [] };
    const r = await b.call("PUT", "/v1/nic-rules", {
      items: [
        { name: "b1", rules: web },
        { name: "gone", rules: web },
        { name: "b2", rules },
      ],
    });
    expect(r.status).toBe(200);
    const b1 = (await b.call("GET", "/v1/nics/b1")).json;
    const b2 = (await b.call("GET", "/v1/nics/b2")).json;
    expect(b1.rules).toEqual(web);
    expect(r.json.items).toEqual([
      { name: "b1", rulesHash: b1.rulesHash },
      { name: "gone", status: 404, error: { code: "not_found", message: 'NIC "gone" does not exist' } },
      { name: "b2", rulesHash: b2.rulesHash },
    ]);
    // The hash is the one the single-NIC PUT reports for the same rules.
    expect((await b.call("PUT", "/v1/nics/b2/rules", rules)).json.rulesHash).toBe(b2.rulesHash);
    await b.call("PUT", "/admin/faults", { failNext: { updateNicRules: 1 } });
    const f = await b.call("PUT", "/v1/nic-rules", { items: [{ name: "b1", rules }] });
    expect(f.json.items).toEqual([{ name: "b1", status: 503, error: expect.objectContaining({ code: "injected_fault" }) }]);
    expect((await b.call("GET", "/v1/nics/b1")).json.rules).toEqual(web);
  });

  it("refuses a bad batch as a whole, naming the item, and changes nothing", async () => {
    const b = await start();
    await b.call("PUT", "/v1/nics/c1", nic("02:00:00:00:02:01"));
    const before = (await b.call("GET", "/v1/nics/c1")).json.rulesHash;
    const overlap = { ingress: [...rules.ingress, { id: "x", ethertype: "ipv4", protocol: "any", cidr: "10.0.0.0/8" }], egress: [] };
    const batch = (items: unknown) => b.call("PUT", "/v1/nic-rules", { items });
    const e1 = await batch([
      { name: "c1", rules: { ingress: [], egress: [] } },
      { name: "c1", rules },
    ]);
    expect(e1.status).toBe(422);
    expect(e1.json.error).toMatchObject({ code: "duplicate_name", field: "items[1].name" });
    const e2 = await batch([
      { name: "c1", rules: { ingress: [], egress: [] } },
      { name: "c2", rules: overlap },
    ]);
    expect(e2.status).toBe(422);
    expect(e2.json.error).toMatchObject({ code: "rule_overlap", field: "items[1].rules.ingress[1]" });
    expect((await batch([])).json.error.field).toBe("items");
    expect((await batch([{ name: "Bad Name", rules }])).json.error.field).toBe("items[0].name");
    expect((await b.call("GET", "/v1/nics/c1")).json.rulesHash).toBe(before);
  });

  const bad = async (body: unknown, path = "/v1/nics/bad") => {
    const r = await a.call("PUT", path, body);
    expect(r.status).toBe(422);
    return r.json.error as { code: string; message: string; field: string };
  };

  it("rejects bad MACs, VLANs and VNIs", async () => {
    expect((await bad({ ...nic("02:00:00:00:00"), rules })).field).toBe("mac");
    expect((await bad(nic("01:00:5e:00:00:01"))).message).toMatch(/unicast/);
    expect((await bad({ ...nic("02:00:00:00:00:09"), network: { type: "vlan", vlanId: 4095 } })).field).toBe("network.vlanId");
    expect((await bad({ ...nic("02:00:00:00:00:09"), network: { type: "vlan", vlanId: 0 } })).field).toBe("network.vlanId");
    expect((await bad({ ...nic("02:00:00:00:00:09"), network: { type: "vxlan", vni: 16777216 } })).field).toBe("network.vni");
    expect((await bad({ ...nic("02:00:00:00:00:09"), mtu: 20000 })).field).toBe("mtu");
  });

  it("rejects bad rules with a code, the field and the rule ids", async () => {
    const withIngress = (ingress: unknown[]) => ({ ...nic("02:00:00:00:00:09"), rules: { ingress, egress: [] } });
    const r1 = await bad(withIngress([{ id: "a", ethertype: "ipv4", protocol: "tcp", portMin: 100, portMax: 90, cidr: "10.0.0.0/8" }]));
    expect(r1).toMatchObject({ code: "rule_invalid_ports", field: "rules.ingress[0].portMax" });
    const r2 = await bad(withIngress([{ id: "a", ethertype: "ipv4", protocol: "icmp", portMin: 1, cidr: "10.0.0.0/8" }]));
    expect(r2).toMatchObject({ code: "rule_invalid_ports", field: "rules.ingress[0].portMin" });
    const r3 = await bad(withIngress([{ id: "a", ethertype: "ipv4", protocol: "any", portMin: 1, portMax: 2, cidr: "10.0.0.0/8" }]));
    expect(r3.code).toBe("rule_invalid_ports");
    const r4 = await bad(withIngress([{ id: "a", ethertype: "ipv4", protocol: "tcp", cidr: "10.0.0.300/8" }]));
    expect(r4).toMatchObject({ code: "rule_invalid_cidr", field: "rules.ingress[0].cidr" });
    const r5 = await bad(withIngress([{ id: "a", ethertype: "ipv6", protocol: "tcp", cidr: "10.0.0.0/8" }]));
    expect(r5.message).toMatch(/ipv4 range but ethertype is ipv6/);
    const r6 = await bad(withIngress([{ id: "a", ethertype: "ipv4", protocol: "tcp", cidr: "10.0.0.1/8" }]));
    expect(r6.message).toMatch(/use 10\.0\.0\.0\/8/);
    const r7 = await bad(
      withIngress([
        { id: "web", ethertype: "ipv4", protocol: "tcp", portMin: 80, portMax: 443, cidr: "0.0.0.0/0" },
        { id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "10.0.0.0/8" },
        { id: "alt", ethertype: "ipv4", protocol: "tcp", portMin: 440, portMax: 8080, cidr: "10.1.0.0/16" },
      ]),
    );
    expect(r7).toMatchObject({ code: "rule_overlap", field: "rules.ingress[2]" });
    expect(r7.message).toContain('"web"');
    expect(r7.message).toContain('"alt"');
    const r8 = await bad(
      withIngress([
        { id: "x", ethertype: "ipv4", protocol: "udp", portMin: 53, cidr: "10.0.0.0/8" },
        { id: "y", ethertype: "ipv4", protocol: "udp", portMin: 53, portMax: 53, cidr: "10.0.0.0/8" },
      ]),
    );
    expect(r8).toMatchObject({ code: "rule_duplicate", field: "rules.ingress[1]" });
    expect(r8.message).toMatch(/"x" and "y" are duplicates/);
    const r9 = await bad(
      withIngress([
        { id: "x", ethertype: "ipv4", protocol: "any", cidr: "10.0.0.0/8" },
        { id: "y", ethertype: "ipv4", protocol: "icmp", cidr: "10.2.3.0/24" },
      ]),
    );
    expect(r9.code).toBe("rule_overlap");
    const r10 = await bad(
      withIngress([
        { id: "x", ethertype: "ipv4", protocol: "tcp", cidr: "10.0.0.0/8" },
        { id: "x", ethertype: "ipv4", protocol: "udp", cidr: "10.0.0.0/8" },
      ]),
    );
    expect(r10).toMatchObject({ code: "rule_duplicate_id", field: "rules.ingress[1].id" });
    const r11 = await bad({ ingress: [{ id: "a", ethertype: "ipv4", protocol: "sctp", cidr: "10.0.0.0/8" }], egress: [] }, "/v1/nics/n1/rules");
    expect(r11.field).toBe("rules.ingress[0].protocol");
  });

  it("accepts rules that touch but do not overlap", async () => {
    const r = await a.call("PUT", "/v1/nics/n3", {
      ...nic("02:00:00:00:00:03"),
      rules: {
        ingress: [
          { id: "a", ethertype: "ipv4", protocol: "tcp", portMin: 1, portMax: 100, cidr: "10.0.0.0/8" },
          { id: "b", ethertype: "ipv4", protocol: "tcp", portMin: 101, portMax: 200, cidr: "10.0.0.0/8" },
          { id: "c", ethertype: "ipv4", protocol: "udp", portMin: 1, portMax: 100, cidr: "10.0.0.0/8" },
          { id: "d", ethertype: "ipv4", protocol: "tcp", portMin: 1, portMax: 100, cidr: "11.0.0.0/8" },
          { id: "e", ethertype: "ipv6", protocol: "any", cidr: "::/0" },
          { id: "f", ethertype: "ipv4", protocol: "icmp", cidr: "0.0.0.0/0" },
        ],
        egress: [],
      },
    });
    expect(r.status).toBe(201);
  });

  it("deletes and resets everything", async () => {
    expect((await a.call("DELETE", "/v1/nics/n2")).status).toBe(204);
    expect((await a.call("DELETE", "/v1/nics/n2")).status).toBe(404);
    await a.call("PUT", "/v1/disks/d", nvmeDisk(1));
    const reset = await a.call("POST", "/v1/reset");
    expect(reset.status).toBe(200);
    expect(reset.json.removed).toEqual({ disks: 1, cidata: 0, nics: 2 });
    const inv = await a.call("GET", "/v1/inventory");
    expect(inv.json.functions).toEqual([]);
    expect((await a.call("PUT", "/v1/nics/n1", nic())).json.function.vf).toBe(0);
  });
});

describe("overlay router", () => {
  let a: Started;
  beforeAll(async () => {
    a = await start();
  });
  const neighbors = [{ ip: "10.4.1.10", mac: "02:00:00:00:04:0a" }];
  const router = {
    mac: "02:A4:E1:00:13:88",
    subnets: [
      { cidr: "10.4.2.0/24", gateway: "10.4.2.1" },
      { cidr: "10.4.1.0/24", gateway: "10.4.1.1" },
    ],
  };

  it("stores the router normalized (lower-case MAC, subnets by network); a spec without one has no router", async () => {
    const r = await a.call("PUT", "/v1/overlay/vxlan/5000", { remoteIps: [], neighbors, router });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.router).toEqual({ mac: "02:a4:e1:00:13:88", subnets: [router.subnets[1], router.subnets[0]] });
    const same = await a.call("PUT", "/v1/overlay/vxlan/5000", { remoteIps: [], neighbors, router: { ...router, subnets: [...router.subnets].reverse() } });
    expect(same.status).toBe(200);
    expect(same.json.hash).toBe(r.json.hash);
    const plain = await a.call("PUT", "/v1/overlay/vxlan/5001", { remoteIps: [], neighbors });
    expect(plain.status).toBe(201);
    expect("router" in plain.json).toBe(false);
  });

  it("refuses bad router input with 422 naming the field, and keeps the stored overlay", async () => {
    const cases: [unknown, string, string][] = [
      [{ ...router, mac: "ff:ff:ff:ff:ff:ff" }, "invalid_request", "router.mac"],
      [{ ...router, mac: neighbors[0]!.mac }, "router_mac_in_use", "router.mac"],
      [{ ...router, subnets: [{ cidr: "10.4.1.0/24", gateway: "10.4.1.255" }] }, "gateway_outside_subnet", "router.subnets[0].gateway"],
      [{ ...router, subnets: [{ cidr: "10.4.1.0/24", gateway: "10.4.1.10" }] }, "gateway_in_use", "router.subnets[0].gateway"],
      [{ ...router, subnets: [...router.subnets, { cidr: "10.4.1.128/25", gateway: "10.4.1.129" }] }, "router_subnet_overlap", "router.subnets[2].cidr"],
      [{ ...router, subnets: [{ cidr: "10.4.1.0/31", gateway: "10.4.1.1" }] }, "invalid_request", "router.subnets[0].cidr"],
      [{ mac: router.mac }, "invalid_request", "router.subnets"],
    ];
    for (const [bad, code, field] of cases) {
      const r = await a.call("PUT", "/v1/overlay/vxlan/5000", { remoteIps: [], neighbors, router: bad });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error).toMatchObject({ code, field });
      expect(r.json.error.message.startsWith(`${field}: `)).toBe(true);
    }
    expect((await a.call("GET", "/v1/overlay/vxlan/5000")).json.router.subnets).toHaveLength(2);
  });

  const fixed = [...neighbors, { ip: "10.4.2.20", mac: "02:00:00:00:04:0b" }];
  const external = {
    vlanId: 300,
    mac: "02:A4:E1:00:EE:01",
    cidr: "203.0.113.0/24",
    gateway: "203.0.113.1",
    gatewayMac: "02:00:5e:00:ff:01",
    snatIp: "203.0.113.5",
    floatingIps: [
      { ip: "203.0.113.100", fixedIp: "10.4.2.20" },
      { ip: "203.0.113.20", fixedIp: "10.4.1.10" },
    ],
  };

  it("stores router.external normalized (lower-case MACs, floating IPs by address), so reordered lists hash equal", async () => {
    const r = await a.call("PUT", "/v1/overlay/vxlan/5002", { remoteIps: [], neighbors: fixed, router: { ...router, external } });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.router.external).toEqual({
      ...external,
      mac: "02:a4:e1:00:ee:01",
      floatingIps: [external.floatingIps[1], external.floatingIps[0]],
    });
    const same = await a.call("PUT", "/v1/overlay/vxlan/5002", {
      remoteIps: [],
      neighbors: [...fixed].reverse(),
      router: { ...router, external: { ...external, floatingIps: [...external.floatingIps].reverse() } },
    });
    expect(same.status).toBe(200);
    expect(same.json.hash).toBe(r.json.hash);
    // Optional parts: no VLAN (untagged), no SNAT address, no floating IPs.
    const { vlanId: _v, snatIp: _s, ...bare } = external;
    const minimal = await a.call("PUT", "/v1/overlay/vxlan/5003", {
      remoteIps: [],
      neighbors: fixed,
      router: { ...router, external: { ...bare, floatingIps: [] } },
    });
    expect(minimal.status, JSON.stringify(minimal.json)).toBe(201);
    expect(minimal.json.router.external).toEqual({ ...bare, mac: "02:a4:e1:00:ee:01", floatingIps: [] });
  });

  it("refuses bad router.external with 422 naming the field, and keeps the stored overlay", async () => {
    const ext = (e: Record<string, unknown>) => ({ ...router, external: { ...external, ...e } });
    const fip = (ip: string, fixedIp: string) => ({ ip, fixedIp });
    const f = "router.external";
    const cases: [unknown, string, string][] = [
      [ext({ cidr: "203.0.113.7/24" }), "invalid_request", `${f}.cidr`],
      [ext({ cidr: "203.0.113.0/31" }), "invalid_request", `${f}.cidr`],
      [ext({ gateway: "203.0.114.1" }), "address_outside_provider_network", `${f}.gateway`],
      [ext({ snatIp: "203.0.113.255" }), "address_outside_provider_network", `${f}.snatIp`],
      [ext({ snatIp: "203.0.113.1" }), "external_ip_in_use", `${f}.snatIp`],
      [ext({ floatingIps: [fip("198.51.100.1", "10.4.1.10")] }), "address_outside_provider_network", `${f}.floatingIps[0].ip`],
      [ext({ floatingIps: [fip("203.0.113.5", "10.4.1.10")] }), "external_ip_in_use", `${f}.floatingIps[0].ip`],
      [ext({ floatingIps: [fip("203.0.113.1", "10.4.1.10")] }), "external_ip_in_use", `${f}.floatingIps[0].ip`],
      [ext({ floatingIps: [fip("203.0.113.9", "10.4.1.10"), fip("203.0.113.9", "10.4.2.20")] }), "duplicate_floating_ip", `${f}.floatingIps[1].ip`],
      [ext({ floatingIps: [fip("203.0.113.9", "10.4.1.10"), fip("203.0.113.8", "10.4.1.10")] }), "duplicate_fixed_ip", `${f}.floatingIps[1].fixedIp`],
      [ext({ floatingIps: [fip("203.0.113.9", "10.4.1.11")] }), "fixed_ip_unknown", `${f}.floatingIps[0].fixedIp`],
      [ext({ cidr: "10.4.0.0/16", gateway: "10.4.0.1", snatIp: "10.4.0.5", floatingIps: [] }), "router_subnet_overlap", `${f}.cidr`],
      [ext({ mac: router.mac }), "router_mac_in_use", `${f}.mac`],
      [ext({ mac: fixed[1]!.mac }), "router_mac_in_use", `${f}.mac`],
      [ext({ vlanId: 0 }), "invalid_request", `${f}.vlanId`],
      [ext({ gatewayMac: "ff:ff:ff:ff:ff:ff" }), "invalid_request", `${f}.gatewayMac`],
      [ext({ floatingIps: undefined }), "invalid_request", `${f}.floatingIps`],
      [
        ext({ floatingIps: Array.from({ length: 4097 }, (_, i) => fip(`203.0.${113 + (i >> 8)}.${i & 255}`, "10.4.1.10")) }),
        "invalid_request",
        `${f}.floatingIps`,
      ],
    ];
    for (const [bad, code, field] of cases) {
      const r = await a.call("PUT", "/v1/overlay/vxlan/5002", { remoteIps: [], neighbors: fixed, router: bad });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error).toMatchObject({ code, field });
      expect(r.json.error.message.startsWith(`${field}: `)).toBe(true);
    }
    // A fixed address that is a neighbor outside every router subnet.
    const outside = await a.call("PUT", "/v1/overlay/vxlan/5002", {
      remoteIps: [],
      neighbors: [...fixed, { ip: "10.9.0.5", mac: "02:00:00:00:04:0c" }],
      router: ext({ floatingIps: [fip("203.0.113.9", "10.9.0.5")] }),
    });
    expect(outside.json.error).toMatchObject({ code: "fixed_ip_unknown", field: `${f}.floatingIps[0].fixedIp` });
    expect(outside.json.error.message).toMatch(/not inside any of the router's subnets/);
    expect((await a.call("GET", "/v1/overlay/vxlan/5002")).json.router.external.floatingIps).toHaveLength(2);
  });
});

describe("overlay IPv6 (dual-stack neighbors and router subnets)", () => {
  let a: Started;
  beforeAll(async () => {
    a = await start();
  });
  const neighbors = [
    { ip: "FD00:6:2::0020", mac: "02:00:00:00:06:02" },
    { ip: "10.6.1.10", mac: "02:00:00:00:06:01" },
    { ip: "fd00:6:1::10", mac: "02:00:00:00:06:03" },
    { ip: "10.6.1.9", mac: "02:00:00:00:06:04" },
    { ip: "fd00:6:1::9", mac: "02:00:00:00:06:05" },
  ];
  const router = {
    mac: "02:a4:e1:00:17:70",
    subnets: [
      { cidr: "fd00:6:2::/64", gateway: "FD00:6:2::1" },
      { cidr: "10.6.1.0/24", gateway: "10.6.1.1" },
      { cidr: "fd00:6:1::/64", gateway: "fd00:6:1::1" },
    ],
  };

  it("normalizes IPv4 entries first (in text order, as before), then IPv6 by value in compressed lower-case text", async () => {
    const r = await a.call("PUT", "/v1/overlay/vxlan/6000", { remoteIps: [], neighbors, router });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.neighbors.map((n: { ip: string }) => n.ip)).toEqual(["10.6.1.10", "10.6.1.9", "fd00:6:1::9", "fd00:6:1::10", "fd00:6:2::20"]);
    expect(r.json.router.subnets).toEqual([
      { cidr: "10.6.1.0/24", gateway: "10.6.1.1" },
      { cidr: "fd00:6:1::/64", gateway: "fd00:6:1::1" },
      { cidr: "fd00:6:2::/64", gateway: "fd00:6:2::1" },
    ]);
    // Another order and spelling of the same sets is the same spec.
    const same = await a.call("PUT", "/v1/overlay/vxlan/6000", {
      remoteIps: [],
      neighbors: [...neighbors].reverse().map((n) => ({ ...n, ip: n.ip.toLowerCase().replace("::0020", "::20") })),
      router: { ...router, subnets: [...router.subnets].reverse().map((s) => ({ cidr: s.cidr.replace("fd00:6:1::", "fd00:6:1:0::"), gateway: s.gateway })) },
    });
    expect(same.status).toBe(200);
    expect(same.json.hash).toBe(r.json.hash);
  });

  it("hashes an IPv4-only spec exactly as before IPv6 (text order of IPv4 addresses kept)", async () => {
    const r = await a.call("PUT", "/v1/overlay/vxlan/6001", {
      remoteIps: ["192.0.2.12", "192.0.2.11"],
      neighbors: [
        { ip: "10.9.1.9", mac: "02:00:00:00:09:09" },
        { ip: "10.9.1.10", mac: "02:00:00:00:09:0A" },
        { ip: "10.9.2.100", mac: "02:00:00:00:09:64" },
      ],
      router: {
        mac: "02:a4:e1:00:23:28",
        subnets: [
          { cidr: "10.9.2.0/24", gateway: "10.9.2.1" },
          { cidr: "10.9.1.0/24", gateway: "10.9.1.1" },
        ],
      },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    // Computed by the agent before IPv6 (commit bf6b8e5) from the same body.
    expect(r.json.hash).toBe("b97aa86bafd4b1276df887f5e859c68e17bd934a99b16dfa074a95c4b3ff10e0");
  });

  it("refuses every bad IPv6 neighbor or router subnet with 422 naming the field, and keeps the stored overlay", async () => {
    const sub = (cidr: string, gateway: string) => ({ router: { ...router, subnets: [{ cidr, gateway }] } });
    const cases: [Record<string, unknown>, string, string, RegExp][] = [
      [
        { neighbors: [{ ip: "fd00::1%eth0", mac: "02:00:00:00:06:09" }] },
        "invalid_request",
        "neighbors[0].ip",
        /must be an IPv4 address .* or an IPv6 address/,
      ],
      [{ neighbors: [{ ip: "[fd00::1]", mac: "02:00:00:00:06:09" }] }, "invalid_request", "neighbors[0].ip", /must be an IPv4 address/],
      ...(["::", "::1", "fe80::5", "ff02::1", "::ffff:10.6.1.10"].map((ip) => [
        { neighbors: [{ ip, mac: "02:00:00:00:06:09" }] },
        "invalid_request",
        "neighbors[0].ip",
        /must be a unicast IPv6 address/,
      ]) as [Record<string, unknown>, string, string, RegExp][]),
      [
        { neighbors: [...neighbors, { ip: "fd00:6:1:0:0:0:0:10", mac: "02:00:00:00:06:09" }] },
        "duplicate_neighbor",
        "neighbors[5].ip",
        /also at neighbors\[2\]/,
      ],
      [sub("fd00:6::/63", "fd00:6::1"), "invalid_request", "router.subnets[0].cidr", /must be an IPv6 network of \/64 to \/120/],
      [sub("fd00:6::/121", "fd00:6::1"), "invalid_request", "router.subnets[0].cidr", /must be an IPv6 network of \/64 to \/120/],
      [sub("fd00:6::1/64", "fd00:6::1"), "invalid_request", "router.subnets[0].cidr", /has host bits set; the network is fd00:6::\/64/],
      [sub("fe80::/64", "fe80::1"), "invalid_request", "router.subnets[0].cidr", /must be a unicast IPv6 network/],
      [sub("ff00::/64", "ff00::1"), "invalid_request", "router.subnets[0].cidr", /must be a unicast IPv6 network/],
      [sub("fd00:6:1::/64", "fd00:6:1::"), "gateway_outside_subnet", "router.subnets[0].gateway", /subnet-router anycast address/],
      [sub("fd00:6:1::/64", "fd00:6:9::1"), "gateway_outside_subnet", "router.subnets[0].gateway", /is not inside fd00:6:1::\/64/],
      [sub("fd00:6:1::/64", "10.6.1.1"), "gateway_outside_subnet", "router.subnets[0].gateway", /IPv4 address and fd00:6:1::\/64 an IPv6 network/],
      [sub("10.6.1.0/24", "fd00:6:1::1"), "gateway_outside_subnet", "router.subnets[0].gateway", /IPv6 address and 10\.6\.1\.0\/24 an IPv4 network/],
      [sub("fd00:6:1::/64", "fd00:6:1::zz"), "invalid_request", "router.subnets[0].gateway", /must be an IPv4 address .* or an IPv6 address/],
      [sub("fd00:6:1::/64", "FD00:6:1::10"), "gateway_in_use", "router.subnets[0].gateway", /neighbors\[2\]/],
      [
        { router: { ...router, subnets: [...router.subnets, { cidr: "fd00:6:1::80/121", gateway: "fd00:6:1::81" }] } },
        "invalid_request",
        "router.subnets[3].cidr",
        /\/64 to \/120/,
      ],
      [
        { router: { ...router, subnets: [...router.subnets, { cidr: "fd00:6:1::100/120", gateway: "fd00:6:1::101" }] } },
        "router_subnet_overlap",
        "router.subnets[3].cidr",
        /overlaps fd00:6:1::\/64/,
      ],
      [
        {
          router: {
            ...router,
            external: { mac: "02:a4:e1:00:ee:06", cidr: "2001:db8::/64", gateway: "2001:db8::1", gatewayMac: "02:00:5e:00:ff:06", floatingIps: [] },
          },
        },
        "invalid_request",
        "router.external.cidr",
        /must be an IPv4 network/,
      ],
    ];
    for (const [patch, code, field, message] of cases) {
      const r = await a.call("PUT", "/v1/overlay/vxlan/6000", { remoteIps: [], neighbors, router, ...patch });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error).toMatchObject({ code, field });
      expect(r.json.error.message.startsWith(`${field}: `), r.json.error.message).toBe(true);
      expect(r.json.error.message).toMatch(message);
    }
    expect((await a.call("GET", "/v1/overlay/vxlan/6000")).json.router.subnets).toHaveLength(3);
  });

  it("checks overlap per family: an IPv6 subnet with the same numbers as an IPv4 one is no overlap", async () => {
    // ::a06:100/120 is 10.6.1.0/24's 32-bit value in the low bits of an IPv6 address.
    const subnets = [
      { cidr: "10.6.1.0/24", gateway: "10.6.1.1" },
      { cidr: "::a06:100/120", gateway: "::a06:101" },
    ];
    const r = await a.call("PUT", "/v1/overlay/vxlan/6002", { remoteIps: [], neighbors: [], router: { mac: router.mac, subnets } });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.router.subnets).toEqual(subnets);
  });
});

describe("sim faults and latency", () => {
  it("hides /admin unless started with admin: true", async () => {
    const a = await start();
    expect((await a.call("GET", "/admin/faults")).status).toBe(404);
    expect((await a.call("PUT", "/admin/faults", { errorRate: 1 })).status).toBe(404);
  });

  it("injects failures per operation and recovers cleanly", async () => {
    const a = await start({ token: TOKEN, admin: true });
    expect((await a.call("PUT", "/admin/faults", { failNext: { attachDisk: 1 } }, null)).status).toBe(401);
    const set = await a.call("PUT", "/admin/faults", { failNext: { attachDisk: 1 }, failAlways: ["deleteNic"] });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ failNext: { attachDisk: 1 }, failAlways: ["deleteNic"], errorRate: 0, latency: "zero" });
    const fail = await a.call("PUT", "/v1/disks/d", nvmeDisk(1));
    expect(fail.status).toBe(503);
    expect(fail.json.error.code).toBe("injected_fault");
    expect((await a.call("GET", "/v1/disks")).json.items).toEqual([]);
    const okAfter = await a.call("PUT", "/v1/disks/d", nvmeDisk(1));
    expect(okAfter.status).toBe(201);
    expect(okAfter.json.function.vf).toBe(0);
    await a.call("PUT", "/v1/nics/n", nic());
    expect((await a.call("DELETE", "/v1/nics/n")).status).toBe(503);
    expect((await a.call("GET", "/v1/nics/n")).json.state).toBe("attached");
    await a.call("PUT", "/admin/faults", { errorRate: 1 });
    expect((await a.call("PUT", "/v1/cidata/c", { userData: "", metaData: { "instance-id": "x" } })).status).toBe(503);
    await a.call("PUT", "/admin/faults", {});
    expect((await a.call("DELETE", "/v1/nics/n")).status).toBe(204);
    const badFaults = await a.call("PUT", "/admin/faults", { errorRate: 2 });
    expect(badFaults.status).toBe(422);
    expect(badFaults.json.error.field).toBe("errorRate");
    expect((await a.call("PUT", "/admin/faults", { failAlways: ["format"] })).json.error.field).toBe("failAlways[0]");
  });

  it("shows a disk as attaching while the backend works", async () => {
    const a = await start({ token: TOKEN, backend: createSimBackend({ latency: { attachDisk: 300 } }) });
    const pending = a.call("PUT", "/v1/disks/slow", nvmeDisk(1));
    let seen: string | undefined;
    for (let i = 0; i < 50 && !seen; i++) {
      seen = (await a.call("GET", "/v1/disks")).json.items[0]?.state;
      if (!seen) await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen).toBe("attaching");
    expect((await pending).json.state).toBe("attached");
  });
});

describe("storage service connect", () => {
  let storage: Server;
  let storageUrl: string;
  const calls: { auth?: string; body: any }[] = [];
  beforeAll(async () => {
    // Fake storage service: only vol-1 is exported, and only to this DPU's host NQN / initiator IQN.
    storage = createServer((req, res) => {
      let text = "";
      req.on("data", (c) => {
        text += c;
      });
      req.on("end", () => {
        const body = JSON.parse(text);
        calls.push({ auth: req.headers.authorization, body });
        if (req.method !== "POST" || req.url !== "/v1/targets/connect") {
          res.writeHead(404).end();
          return;
        }
        const exported =
          (body.nqn === "nqn.2024-01.io.anvil:vol-1" && body.initiator === "nqn.2014-08.org.nvmexpress:uuid:dpu-1") || body.iqn === "iqn.2024-01.io.anvil:ok";
        if (exported) {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ connected: true }));
        } else {
          res
            .writeHead(403, { "content-type": "application/json" })
            .end(JSON.stringify({ error: { code: "not_exported", message: "target is not exported to this initiator" } }));
        }
      });
    });
    await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
    storageUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => storage.close(r));
  });

  it("connects exported targets and fails with the storage error otherwise", async () => {
    const a = await start({ token: TOKEN, backend: createSimBackend({ storageUrl, storageToken: "storage-secret" }) });
    expect((await a.call("PUT", "/v1/disks/ok", nvmeDisk(1))).status).toBe(201);
    expect(calls.at(-1)).toEqual({
      auth: "Bearer storage-secret",
      body: { nqn: "nqn.2024-01.io.anvil:vol-1", initiator: "nqn.2014-08.org.nvmexpress:uuid:dpu-1" },
    });
    const refused = await a.call("PUT", "/v1/disks/no", nvmeDisk(2));
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("not_exported");
    expect(refused.json.error.message).toContain("nqn.2024-01.io.anvil:vol-2");
    const iscsi = await a.call("PUT", "/v1/disks/i", {
      transport: "iscsi",
      target: { iqn: "iqn.2024-01.io.anvil:ok", address: "10.0.0.1" },
      initiatorIqn: "iqn.2024-01.io.anvil:dpu",
      role: "data",
    });
    expect(iscsi.status).toBe(201);
    expect(calls.at(-1)?.body).toEqual({ iqn: "iqn.2024-01.io.anvil:ok", initiator: "iqn.2024-01.io.anvil:dpu" });
  });

  it("reports an unreachable storage service as 502", async () => {
    const a = await start({ token: TOKEN, backend: createSimBackend({ storageUrl: "http://127.0.0.1:1", storageToken: "x" }) });
    const r = await a.call("PUT", "/v1/disks/ok", nvmeDisk(1));
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe("storage_unreachable");
  });
});
