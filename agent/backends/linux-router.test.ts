// The VPC's distributed router (OverlaySpec.router) on the linux backend against a real userspace Open vSwitch: two
// NICs of one VNI on this DPU in two subnets and a neighbor on another DPU. Packet by packet (ofproto/trace, OpenFlow
// 1.3): ARP and ping for each gateway are answered on the DPU with the router MAC; a packet to the router MAC is
// routed to the destination NIC through that NIC's ingress rules (router MAC as source, TTL - 1), to a remote one
// through the tunnel; TTL 1 is not forwarded; bad router input is refused; DELETE removes every router flow.
// A missing tool fails the test with the package to install.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVS_TOOLS, type OvsLab, requireTools, startOvsLab } from "../../test/ovs-lab";
import { overlayCookie } from "./ovs-flows";

const TOKEN = "router-test-token";
const LOCAL_VTEP = "192.0.2.1";
const REMOTE_VTEP = "192.0.2.12";
const VNI = 5100;
const ROUTER = "02:a4:e1:00:13:ec";
const MAC = { a: "02:00:00:00:01:0a", b: "02:00:00:00:01:0b", remote: "02:00:00:00:01:2b" };
const IP = { a: "10.7.1.10", b: "10.7.2.20", remote: "10.7.2.30", gw1: "10.7.1.1", gw2: "10.7.2.1" };
const neighbors = [
  { ip: IP.a, mac: MAC.a },
  { ip: IP.b, mac: MAC.b },
  { ip: IP.remote, mac: MAC.remote },
];
const router = {
  mac: ROUTER,
  subnets: [
    { cidr: "10.7.2.0/24", gateway: IP.gw2 },
    { cidr: "10.7.1.0/24", gateway: IP.gw1 },
  ],
};
const egressAll = [{ id: "out", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }];
/** B lets in TCP 22 from subnet 1 only (and ICMP); port 80 is not allowed. */
const rulesB = {
  ingress: [
    { id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "10.7.1.0/24" },
    { id: "ping", ethertype: "ipv4", protocol: "icmp", cidr: "0.0.0.0/0" },
  ],
  egress: egressAll,
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

const ofport = async (port: string) => (await lab.must("ovs-vsctl", ["get", "Interface", port, "ofport"])).trim();
/** The flows the agent holds under the VNI's overlay cookie (ovs-ofctl dump-flows), one per line. */
const overlayFlows = async () =>
  (await lab.must("ovs-ofctl", ["-O", "OpenFlow13", "--no-stats", "dump-flows", "br-int", `cookie=${overlayCookie(VNI)}/-1`]))
    .split("\n")
    .filter((l) => l.includes("cookie="));

const arpRequest = (ofp: string, sha: string, spa: string, tpa: string) =>
  `in_port=${ofp},dl_src=${sha},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_sha=${sha},arp_spa=${spa},arp_tpa=${tpa},arp_tha=00:00:00:00:00:00`;
const tcpFromA = (ofp: string, dst: string, dport: number, ttl = 64) =>
  `in_port=${ofp},dl_src=${MAC.a},dl_dst=${ROUTER},tcp,nw_src=${IP.a},nw_dst=${dst},nw_ttl=${ttl},tp_src=40000,tp_dst=${dport}`;

beforeAll(async () => {
  requireTools(OVS_TOOLS);
  lab = await startOvsLab({ prefix: "anvil-agent-router-", token: TOKEN, vxlanLocalIp: LOCAL_VTEP });
}, 30_000);

afterAll(async () => {
  await lab?.close();
});

describe("the distributed router on Open vSwitch", () => {
  const port: Record<string, string> = {};
  const of: Record<string, string> = {};
  let dp: Record<string, number> = {};

  beforeAll(async () => {
    for (const [name, mac, rules] of [
      ["a", MAC.a, { ingress: [], egress: egressAll }],
      ["b", MAC.b, rulesB],
    ] as const) {
      const r = await call("PUT", `/v1/nics/${name}`, { mac, network: { type: "vxlan", vni: VNI }, rules });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      port[name] = r.json.port;
      of[name] = await ofport(r.json.port);
    }
    const r = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [REMOTE_VTEP], neighbors, router });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    // Normalized: subnets sorted by network.
    expect(r.json.router).toEqual({ mac: ROUTER, subnets: [...router.subnets].reverse() });
    dp = await lab.datapathPorts();
  });

  it("answers ARP for each gateway with the router MAC, back out of the asking port", async () => {
    for (const [from, sha, spa, gw] of [
      ["a", MAC.a, IP.a, IP.gw1],
      ["b", MAC.b, IP.b, IP.gw2],
      ["a", MAC.a, IP.a, IP.gw2],
    ] as const) {
      const t = await lab.trace(arpRequest(of[from]!, sha, spa, gw));
      expect(t.out, t.text).toEqual([dp[port[from]!]]);
      expect(t.text).toContain(`arp(sip=${gw},tip=${spa},op=2,sha=${ROUTER},tha=${sha})`);
    }
  });

  it("answers a ping to a gateway: the echo reply goes back out of the in_port with addresses swapped", async () => {
    const t = await lab.trace(`in_port=${of.a},dl_src=${MAC.a},dl_dst=${ROUTER},icmp,icmp_type=8,icmp_code=0,nw_src=${IP.a},nw_dst=${IP.gw1},nw_ttl=64`, [
      "trk,new",
    ]);
    expect(t.out, t.text).toEqual([dp[port.a]]);
    const last = t.text
      .split("\n")
      .filter((l) => l.startsWith("Datapath actions:"))
      .at(-1)!;
    expect(last).toContain(`eth(src=${ROUTER},dst=${MAC.a})`);
    expect(last).toMatch(new RegExp(`ipv4\\(src=${IP.gw1.replaceAll(".", "\\.")},dst=${IP.a.replaceAll(".", "\\.")}`));
    expect(last).toMatch(/icmp\(type=0/);
  });

  it("routes NIC A's packet for B's address to B's port through B's ingress rules (router MAC as source, TTL - 1)", async () => {
    const ok = await lab.trace(tcpFromA(of.a!, IP.b, 22), ["trk,new", "trk,new"]);
    expect(ok.out, ok.text).toEqual([dp[port.b]]);
    // First stage: A's egress conntrack commit, the rewrite and TTL - 1; last stage: B's ingress zone, then B's port.
    expect(ok.text).toContain(`set(eth(src=${ROUTER},dst=${MAC.b})),set(ipv4(ttl=63))`);
    expect(ok.text).toMatch(new RegExp(`Datapath actions: ct\\(commit,zone=\\d+\\),${dp[port.b]}$`, "m"));
    // Port 80 is not in B's ingress rules: dropped at B's ingress.
    const denied = await lab.trace(tcpFromA(of.a!, IP.b, 80), ["trk,new", "trk,new"]);
    expect(denied.out, denied.text).toEqual([]);
    expect(denied.text).toContain("dec_ttl");
    // Once B's rules allow it, it is delivered.
    const r = await call("PUT", "/v1/nics/b/rules", {
      ingress: [...rulesB.ingress, { id: "web", ethertype: "ipv4", protocol: "tcp", portMin: 80, cidr: "10.7.1.0/24" }],
      egress: egressAll,
    });
    expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
    const allowed = await lab.trace(tcpFromA(of.a!, IP.b, 80), ["trk,new", "trk,new"]);
    expect(allowed.out, allowed.text).toEqual([dp[port.b]]);
  });

  it("sends a packet for the remote neighbor out of the tunnel with tun_id = VNI", async () => {
    const t = await lab.trace(tcpFromA(of.a!, IP.remote, 22), ["trk,new"]);
    expect(t.text).toContain(`set_field:${MAC.remote}->eth_dst`);
    expect(t.text).toContain("dec_ttl");
    // NORMAL hands it to the VNI's VXLAN port. The lab's switch has no underlay address, so the trace stops before
    // the encapsulation; the port it hands to is the one tunnel on br-int: key = VNI, remote = the other DPU.
    expect(t.text).toContain("-> output to native tunnel");
    const tunnels = (await lab.must("ovs-vsctl", ["--format=csv", "--data=bare", "--no-headings", "--columns=options", "find", "Interface", "type=vxlan"]))
      .trim()
      .split("\n");
    expect(tunnels).toHaveLength(1);
    expect(tunnels[0]).toMatch(new RegExp(`key=${VNI}\\b`));
    expect(tunnels[0]).toMatch(new RegExp(`remote_ip="?${REMOTE_VTEP.replaceAll(".", "\\.")}"?$`));
    expect(t.out).not.toContain(dp[port.a]);
  });

  it("does not forward a packet whose TTL runs out, nor one for an address that is no neighbor", async () => {
    const expired = await lab.trace(tcpFromA(of.a!, IP.b, 22, 1), ["trk,new", "trk,new"]);
    expect(expired.out, expired.text).toEqual([]);
    const unknown = await lab.trace(tcpFromA(of.a!, "10.7.2.99", 22), ["trk,new"]);
    expect(unknown.out, unknown.text).toEqual([]);
    const outside = await lab.trace(tcpFromA(of.a!, "198.51.100.1", 22), ["trk,new"]);
    expect(outside.out, outside.text).toEqual([]);
  });

  it("refuses bad router input with the field named and changes nothing", async () => {
    const before = await overlayFlows();
    const cases: [unknown, string, RegExp][] = [
      [{ ...router, mac: "01:00:00:00:00:01" }, "invalid_request", /router\.mac: must be a unicast MAC/],
      [{ ...router, mac: MAC.b }, "router_mac_in_use", /router\.mac: .*neighbors\[1\]/],
      [
        { ...router, subnets: [{ cidr: "10.7.1.0/24", gateway: "10.7.9.1" }] },
        "gateway_outside_subnet",
        /router\.subnets\[0\]\.gateway: 10\.7\.9\.1 is not inside/,
      ],
      [{ ...router, subnets: [{ cidr: "10.7.1.5/24", gateway: "10.7.1.1" }] }, "invalid_request", /router\.subnets\[0\]\.cidr: has host bits set/],
      [
        { ...router, subnets: [{ cidr: "fd00::/64", gateway: "10.7.1.1" }] },
        "gateway_outside_subnet",
        /router\.subnets\[0\]\.gateway: 10\.7\.1\.1 is an IPv4 address and fd00::\/64 an IPv6 network/,
      ],
      [
        { ...router, subnets: [...router.subnets, { cidr: "10.7.0.0/16", gateway: "10.7.0.1" }] },
        "router_subnet_overlap",
        /router\.subnets\[2\]\.cidr: .*overlaps/,
      ],
      [{ ...router, subnets: [{ cidr: "10.7.1.0/24", gateway: IP.a }] }, "gateway_in_use", /router\.subnets\[0\]\.gateway: .*neighbor/],
      [{ ...router, subnets: [] }, "invalid_request", /router\.subnets: a router needs at least one subnet/],
      [{ ...router, extra: 1 }, "invalid_request", /router/],
    ];
    for (const [bad, code, message] of cases) {
      const r = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [REMOTE_VTEP], neighbors, router: bad });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
    expect(await overlayFlows()).toEqual(before);
    expect((await call("GET", `/v1/overlay/vxlan/${VNI}`)).json.router.mac).toBe(ROUTER);
  });

  it("removes the router flows when a spec comes without a router, and every flow on DELETE", async () => {
    const withRouter = await overlayFlows();
    expect(withRouter.filter((l) => l.includes(ROUTER)).length).toBeGreaterThan(0);
    const r = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [REMOTE_VTEP], neighbors });
    expect(r.status).toBe(200);
    expect(r.json.router).toBeUndefined();
    expect((await overlayFlows()).filter((l) => l.includes(ROUTER))).toEqual([]);
    const arp = await lab.trace(arpRequest(of.a!, MAC.a, IP.a, IP.gw1));
    expect(arp.text).not.toContain(`sha=${ROUTER}`);

    expect((await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [REMOTE_VTEP], neighbors, router })).status).toBe(200);
    expect((await call("DELETE", `/v1/overlay/vxlan/${VNI}`)).status).toBe(204);
    expect(await overlayFlows()).toEqual([]);
    const routed = await lab.trace(tcpFromA(of.a!, IP.b, 22), ["trk,new", "trk,new"]);
    // Nothing routes it any more: it reaches NORMAL as sent (the router MAC unknown there), with no rewrite or TTL - 1.
    expect(routed.text).not.toContain(`set_field:${MAC.b}->eth_dst`);
    expect(routed.text).not.toContain("dec_ttl");
    expect(routed.text).not.toContain(`eth(src=${ROUTER}`);
  });
});
