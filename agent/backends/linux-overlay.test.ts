// The overlay endpoint (PUT /v1/overlay/vxlan/{vni}) on the linux backend against a real userspace Open vSwitch
// (own rundir, --enable-dummy, netdev datapath): tunnel ports follow the remote VTEP set, the ARP responder answers a
// request for a VPC address packet by packet (ofproto/trace) and leaves unknown addresses alone, and the overlay
// outlives an agent restart. A missing tool fails the test with the package to install.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVS_TOOLS, type OvsLab, requireTools, startOvsLab } from "../../test/ovs-lab";

const TOKEN = "overlay-test-token";
const LOCAL_VTEP = "192.0.2.1";
const VNI = 5000;
const MAC = { a: "02:00:00:00:00:0a", b: "02:00:00:00:00:0b", remote: "02:00:00:00:00:2b" };
const open = {
  ingress: [{ id: "any", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
  egress: [{ id: "out", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
};

let lab: OvsLab;
const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(lab.url + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = res.headers.get("content-type") ?? "";
  return { status: res.status, json: type.includes("json") ? await res.json() : undefined };
};

/** Tunnel ports on br-int as "key/remote_ip", sorted. */
async function tunnels(): Promise<string[]> {
  const rows = (await lab.must("ovs-vsctl", ["--format=csv", "--data=bare", "--no-headings", "--columns=options", "find", "Interface", "type=vxlan"]))
    .trim()
    .split("\n")
    .filter(Boolean);
  return rows.map((r) => `${/key=(\d+)/.exec(r)?.[1]}/${/remote_ip="?([0-9.]+)/.exec(r)?.[1]}`).sort();
}

const arpRequest = (ofport: string, sha: string, spa: string, tpa: string) =>
  `in_port=${ofport},dl_src=${sha},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_sha=${sha},arp_spa=${spa},arp_tpa=${tpa},arp_tha=00:00:00:00:00:00`;

beforeAll(async () => {
  requireTools(OVS_TOOLS);
  lab = await startOvsLab({ prefix: "anvil-agent-overlay-", token: TOKEN, vxlanLocalIp: LOCAL_VTEP });
}, 30_000);

afterAll(async () => {
  await lab?.close();
});

describe("PUT /v1/overlay/vxlan/{vni} on Open vSwitch", () => {
  let portA = "";
  let ofportA = "";
  const neighbors = [
    { ip: "10.1.0.10", mac: MAC.a },
    { ip: "10.1.0.20", mac: MAC.remote },
  ];

  beforeAll(async () => {
    const r = await call("PUT", "/v1/nics/a", { mac: MAC.a, network: { type: "vxlan", vni: VNI }, rules: open });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    portA = r.json.port;
    ofportA = (await lab.must("ovs-vsctl", ["get", "Interface", portA, "ofport"])).trim();
  });

  it("reports the VTEP in health", async () => {
    const h = await call("GET", "/v1/health");
    expect(h.json).toMatchObject({ underlayIp: LOCAL_VTEP, backend: "linux" });
  });

  it("creates a tunnel port per remote VTEP and replaces the set without touching the NIC", async () => {
    expect(await tunnels()).toEqual([]);
    const first = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: ["192.0.2.12", "192.0.2.11"], neighbors });
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    expect(first.json).toMatchObject({ vni: VNI, remoteIps: ["192.0.2.11", "192.0.2.12"] });
    expect(await tunnels()).toEqual([`${VNI}/192.0.2.11`, `${VNI}/192.0.2.12`]);
    const tag = (await lab.must("ovs-vsctl", ["get", "Port", portA, "tag"])).trim();
    const nicUuid = (await lab.must("ovs-vsctl", ["get", "Interface", portA, "_uuid"])).trim();

    const second = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: ["192.0.2.13", "192.0.2.12"], neighbors });
    expect(second.status).toBe(200);
    expect(await tunnels()).toEqual([`${VNI}/192.0.2.12`, `${VNI}/192.0.2.13`]);
    // Every tunnel carries the VNI's local VLAN; the NIC port is the same row as before.
    for (const name of (await lab.must("ovs-vsctl", ["--format=csv", "--data=bare", "--no-headings", "--columns=name", "find", "Interface", "type=vxlan"]))
      .trim()
      .split("\n"))
      expect((await lab.must("ovs-vsctl", ["get", "Port", name, "tag"])).trim()).toBe(tag);
    expect((await lab.must("ovs-vsctl", ["get", "Interface", portA, "_uuid"])).trim()).toBe(nicUuid);

    // The same sets in another order: same hash, nothing changes.
    const again = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: ["192.0.2.12", "192.0.2.13"], neighbors: [...neighbors].reverse() });
    expect(again.status).toBe(200);
    expect(again.json.hash).toBe(second.json.hash);
  });

  it("unions the remote VTEPs a NIC was created with (the per-NIC form)", async () => {
    const r = await call("PUT", "/v1/nics/b", { mac: MAC.b, network: { type: "vxlan", vni: VNI, remoteIps: ["192.0.2.99"] }, rules: open });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(await tunnels()).toEqual([`${VNI}/192.0.2.12`, `${VNI}/192.0.2.13`, `${VNI}/192.0.2.99`]);
    expect((await call("DELETE", "/v1/nics/b")).status).toBe(204);
    expect(await tunnels()).toEqual([`${VNI}/192.0.2.12`, `${VNI}/192.0.2.13`]);
  });

  it("answers an ARP request for a VPC address on the DPU, back out of the asking port", async () => {
    const dp = await lab.datapathPorts();
    const t = await lab.trace(arpRequest(ofportA, MAC.a, "10.1.0.10", "10.1.0.20"));
    expect(t.text).toMatch(/set_field:2->arp_op/);
    expect(t.text).toContain(`set_field:${MAC.remote}->eth_src`);
    expect(t.text).toContain("IN_PORT");
    // One output: the asking NIC; nothing over the tunnels or the uplink.
    expect(t.out, t.text).toEqual([dp[portA]]);
    expect(t.text).toMatch(/Datapath actions:.*arp\(sip=10\.1\.0\.20,tip=10\.1\.0\.10,op=2,sha=02:00:00:00:00:2b,tha=02:00:00:00:00:0a\)/);
  });

  it("does not answer an unknown address, nor the owner's own duplicate-address probe", async () => {
    const dp = await lab.datapathPorts();
    const unknown = await lab.trace(arpRequest(ofportA, MAC.a, "10.1.0.10", "10.1.0.99"));
    expect(unknown.text).not.toMatch(/set_field:2->arp_op/);
    expect(unknown.out).not.toContain(dp[portA]);
    const probe = await lab.trace(arpRequest(ofportA, MAC.a, "0.0.0.0", "10.1.0.10"));
    expect(probe.text).not.toMatch(/set_field:2->arp_op/);
    expect(probe.out).not.toContain(dp[portA]);
  });

  it("refuses bad input with a specific error and changes nothing", async () => {
    const before = await tunnels();
    const cases: [string, unknown, number, string, RegExp][] = [
      [`${VNI}`, { remoteIps: [LOCAL_VTEP], neighbors: [] }, 422, "remote_ip_is_local", /own VTEP/],
      [`${VNI}`, { remoteIps: ["192.0.2.5", "192.0.2.5"], neighbors: [] }, 422, "duplicate_remote_ip", /listed twice/],
      [`${VNI}`, { remoteIps: [], neighbors: [neighbors[0], { ip: "10.1.0.10", mac: MAC.b }] }, 422, "duplicate_neighbor", /one address has one MAC/],
      [`${VNI}`, { remoteIps: ["not-an-ip"], neighbors: [] }, 422, "invalid_request", /remoteIps\[0\]/],
      [
        `${VNI}`,
        { remoteIps: [], neighbors: [{ ip: "10.1.0.5", mac: "01:00:00:00:00:01" }] },
        422,
        "invalid_request",
        /neighbors\[0\]\.mac: must be a unicast MAC/,
      ],
      ["abc", { remoteIps: [], neighbors: [] }, 400, "invalid_vni", /must be an integer 1-16777215/],
      ["16777216", { remoteIps: [], neighbors: [] }, 400, "invalid_vni", /16777215/],
    ];
    for (const [vni, body, status, code, message] of cases) {
      const r = await call("PUT", `/v1/overlay/vxlan/${vni}`, body);
      expect(r.status, JSON.stringify(r.json)).toBe(status);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
    expect(await tunnels()).toEqual(before);
    expect((await call("GET", `/v1/overlay/vxlan/${VNI}`)).json.remoteIps).toEqual(["192.0.2.12", "192.0.2.13"]);
  });

  it("keeps the overlay across an agent restart (journal), then removes it on DELETE", async () => {
    await lab.restartAgent();
    const got = await call("GET", `/v1/overlay/vxlan/${VNI}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ remoteIps: ["192.0.2.12", "192.0.2.13"], neighbors });
    expect(await tunnels()).toEqual([`${VNI}/192.0.2.12`, `${VNI}/192.0.2.13`]);
    const dp = await lab.datapathPorts();
    expect((await lab.trace(arpRequest(ofportA, MAC.a, "10.1.0.10", "10.1.0.20"))).out).toEqual([dp[portA]]);

    expect((await call("DELETE", `/v1/overlay/vxlan/${VNI}`)).status).toBe(204);
    expect(await tunnels()).toEqual([]);
    const after = await lab.trace(arpRequest(ofportA, MAC.a, "10.1.0.10", "10.1.0.20"));
    expect(after.text).not.toMatch(/set_field:2->arp_op/);
    expect((await call("GET", `/v1/overlay/vxlan/${VNI}`)).status).toBe(404);
    expect((await call("DELETE", `/v1/overlay/vxlan/${VNI}`)).status).toBe(404);
  });
});
