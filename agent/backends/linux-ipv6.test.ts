// IPv6 on the DPU's pipeline (OverlaySpec neighbors and router subnets of IPv6) on the linux backend against a real
// userspace Open vSwitch, with real Linux IPv6 stacks as guests (test/ovs-lab.ts attachGuest: a network namespace per
// NIC, its eth0 cabled to the NIC's port) and a second DPU's switch cabled by a real underlay (cableUnderlay: VXLAN
// by OVS's userspace tunneling). Packet by packet (ofproto/trace, OpenFlow 1.3): a Neighbor Solicitation for a VPC
// address or an IPv6 gateway is answered on the DPU with a Neighbor Advertisement, never a DAD probe; IPv6 to the
// router MAC is routed (hop limit - 1, 1 dropped), to another DPU through the tunnel, and from the tunnel through the
// NIC's ingress rules. With the guests' own stacks: DAD passes, the DPU's NA is what the guest learns a neighbor from
// (the neighbor does not even hold the address yet), ping -6 works on one subnet, to the gateway, across two subnets
// through the router, link-local, and to guests on the other DPU (same subnet and routed), and an ingress rule set
// without an IPv6 ICMP rule drops it. Needs root (network namespaces). A missing tool fails the test with the package
// to install.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cableUnderlay, GUEST_TOOLS, type Guest, OVS_TOOLS, type OvsLab, requireTools, startOvsLab } from "../../test/ovs-lab";
import { overlayCookie } from "./ovs-flows";

const TOKEN = "ipv6-test-token";
const LOCAL_VTEP = "192.0.2.1";
const REMOTE_VTEP = "192.0.2.13";
const VNI = 5200;
const ROUTER = "02:a4:e1:00:14:50";
const MAC = { a: "02:00:00:00:52:0a", b: "02:00:00:00:52:0b", c: "02:00:00:00:52:0c", remote: "02:00:00:00:52:2d", e: "02:00:00:00:52:2e" };
const IP = {
  a: "fd00:52:1::10",
  b: "fd00:52:1::20",
  c: "fd00:52:2::30",
  remote: "fd00:52:2::40",
  e: "fd00:52:1::50",
  gw1: "fd00:52:1::1",
  gw2: "fd00:52:2::1",
  a4: "10.52.1.10",
  gw4: "10.52.1.1",
};
const neighbors = [
  { ip: IP.a, mac: MAC.a },
  { ip: IP.b, mac: MAC.b },
  { ip: IP.c, mac: MAC.c },
  { ip: IP.remote, mac: MAC.remote },
  { ip: IP.a4, mac: MAC.a },
  { ip: IP.e, mac: MAC.e },
];
/** Dual-stack subnet 1 (listed once per family) and IPv6-only subnet 2. */
const router = {
  mac: ROUTER,
  subnets: [
    { cidr: "fd00:52:2::/64", gateway: IP.gw2 },
    { cidr: "fd00:52:1::/64", gateway: IP.gw1 },
    { cidr: "10.52.1.0/24", gateway: IP.gw4 },
  ],
};
const egressAll = [
  { id: "out6", ethertype: "ipv6", protocol: "any", cidr: "::/0" },
  { id: "out4", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" },
];
const ping6 = { id: "ping6", ethertype: "ipv6", protocol: "icmp", cidr: "::/0" };
const ping4 = { id: "ping4", ethertype: "ipv4", protocol: "icmp", cidr: "0.0.0.0/0" };

let lab: OvsLab;
/** The other DPU (REMOTE_VTEP): its own switch and agent, its underlay cabled to this one's. */
let remoteLab: OvsLab;
const call = async (method: string, path: string, body?: unknown, on: () => OvsLab = () => lab) => {
  const res = await fetch(on().url + path, {
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

/** The solicited-node multicast group of an address (ff02::1:ffXX:XXXX) and its Ethernet address (33:33:ff:XX:XX:XX). */
function solicitedNode(ip: string): { ip: string; mac: string } {
  const groups = ip.split("::")[1]!.padStart(4, "0");
  const low = groups.split(":").at(-1)!.padStart(4, "0");
  return { ip: `ff02::1:ff00:${low}`, mac: `33:33:ff:00:${low.slice(0, 2)}:${low.slice(2)}` };
}
/** A Neighbor Solicitation in ofproto/trace's flow syntax; `src` :: makes it a DAD probe (no source link-layer option). */
const ns = (ofp: string, mac: string, src: string, target: string) => {
  const g = solicitedNode(target);
  const sll = src === "::" ? "00:00:00:00:00:00" : mac;
  return `in_port=${ofp},dl_src=${mac},dl_dst=${g.mac},icmp6,ipv6_src=${src},ipv6_dst=${g.ip},nw_ttl=255,icmpv6_type=135,icmpv6_code=0,nd_target=${target},nd_sll=${sll}`;
};
const echoFromA = (ofp: string, dst: string, hlim = 64) =>
  `in_port=${ofp},dl_src=${MAC.a},dl_dst=${ROUTER},icmp6,ipv6_src=${IP.a},ipv6_dst=${dst},nw_ttl=${hlim},icmpv6_type=128,icmpv6_code=0`;
const lastActions = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("Datapath actions:"))
    .at(-1)!;

beforeAll(async () => {
  requireTools([...OVS_TOOLS, ...GUEST_TOOLS]);
  lab = await startOvsLab({ prefix: "anvil-agent-ipv6-", token: TOKEN, vxlanLocalIp: LOCAL_VTEP, guests: true, underlay: true });
  remoteLab = await startOvsLab({ prefix: "anvil-agent-ipv6-remote-", token: TOKEN, vxlanLocalIp: REMOTE_VTEP, guests: true, underlay: true });
  await cableUnderlay(lab, remoteLab);
}, 60_000);

afterAll(async () => {
  await lab?.close();
  await remoteLab?.close();
});

describe("IPv6 on the DPU's Open vSwitch pipeline", () => {
  const port: Record<string, string> = {};
  const of: Record<string, string> = {};
  const guest: Record<string, Guest> = {};
  let dp: Record<string, number> = {};

  beforeAll(async () => {
    for (const [name, vf, mac] of [
      ["a", 0, MAC.a],
      ["b", 1, MAC.b],
      ["c", 2, MAC.c],
    ] as const) {
      // The NIC's port is pf1vf<vf> (virtio-net functions, lowest free VF first): cabled before the PUT.
      guest[name] = await lab.attachGuest(`pf1vf${vf}`, mac);
      const r = await call("PUT", `/v1/nics/${name}`, { mac, network: { type: "vxlan", vni: VNI }, rules: { ingress: [ping6, ping4], egress: egressAll } });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      expect(r.json.port).toBe(`pf1vf${vf}`);
      port[name] = r.json.port;
      of[name] = await ofport(r.json.port);
    }
    const r = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [REMOTE_VTEP], neighbors, router });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    dp = await lab.datapathPorts();
    // The other DPU: D (subnet 2, the spec's "remote" neighbor) and E (subnet 1), the same spec from its side.
    for (const [name, vf, mac] of [
      ["d", 0, MAC.remote],
      ["e", 1, MAC.e],
    ] as const) {
      guest[name] = await remoteLab.attachGuest(`pf1vf${vf}`, mac);
      const nic = { mac, network: { type: "vxlan", vni: VNI }, rules: { ingress: [ping6, ping4], egress: egressAll } };
      const n = await call("PUT", `/v1/nics/${name}`, nic, () => remoteLab);
      expect(n.status, JSON.stringify(n.json)).toBe(201);
    }
    const o = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [LOCAL_VTEP], neighbors, router }, () => remoteLab);
    expect(o.status, JSON.stringify(o.json)).toBe(201);
  }, 60_000);

  /** A guest's eth0 IPv6 addresses as `ip -6 addr` prints them (one line each). */
  const addrs = async (g: Guest) => (await g.run("ip", ["-6", "-o", "addr", "show", "dev", "eth0"])).stdout;
  /** Adds an address (and a default route through `gw`) and waits for Duplicate Address Detection to end. */
  async function configure(g: Guest, cidr: string, gw: string): Promise<string> {
    for (const args of [
      ["-6", "addr", "add", cidr, "dev", "eth0"],
      ["-6", "route", "add", "default", "via", gw, "dev", "eth0"],
    ]) {
      const r = await g.run("ip", args);
      expect(r.code, r.stderr).toBe(0);
    }
    for (let i = 0; i < 100 && (await addrs(g)).includes("tentative"); i++) await new Promise((r) => setTimeout(r, 100));
    return addrs(g);
  }
  const ping = (g: Guest, dst: string) => g.run("ping", ["-6", "-n", "-c", "3", "-i", "0.2", "-W", "2", dst]);

  it("answers a Neighbor Solicitation for a VPC address with the NA of its MAC (solicited, override), back out of the asking port", async () => {
    for (const [target, mac] of [
      [IP.b, MAC.b],
      [IP.c, MAC.c],
      [IP.remote, MAC.remote],
    ] as const) {
      const t = await lab.trace(ns(of.a!, MAC.a, IP.a, target));
      expect(t.out, t.text).toEqual([dp[port.a]]);
      expect(lastActions(t.text)).toBe(
        `Datapath actions: set(eth(src=${mac},dst=${MAC.a})),set(ipv6(src=${target},dst=${IP.a})),` +
          `set(nd_ext(nd_reserved=0x60000000,nd_options_type=2)),set(nd(tll=${mac})),set(icmpv6(type=136,code=0)),${dp[port.a]}`,
      );
    }
  });

  it("answers a Neighbor Solicitation for an IPv6 gateway with the router MAC (router flag set), and ARP for the IPv4 one", async () => {
    for (const gw of [IP.gw1, IP.gw2]) {
      const t = await lab.trace(ns(of.b!, MAC.b, IP.b, gw));
      expect(t.out, t.text).toEqual([dp[port.b]]);
      expect(t.text).toContain(`set(nd_ext(nd_reserved=0xe0000000,nd_options_type=2)),set(nd(tll=${ROUTER})),set(icmpv6(type=136,code=0))`);
    }
    const arp = await lab.trace(
      `in_port=${of.a},dl_src=${MAC.a},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_sha=${MAC.a},arp_spa=${IP.a4},arp_tpa=${IP.gw4},arp_tha=00:00:00:00:00:00`,
    );
    expect(arp.out, arp.text).toEqual([dp[port.a]]);
    expect(arp.text).toContain(`arp(sip=${IP.gw4},tip=${IP.a4},op=2,sha=${ROUTER},tha=${MAC.a})`);
  });

  it("never answers a DAD probe (source ::) nor a solicitation without a source link-layer option: NORMAL floods them", async () => {
    const dad = await lab.trace(ns(of.b!, MAC.b, "::", IP.b));
    expect(dad.out, dad.text).toEqual(expect.arrayContaining([dp[port.a], dp[port.c]]));
    expect(dad.out).not.toContain(dp[port.b]);
    expect(dad.text).not.toContain("type=136");
    // Source :: alone is enough (a probe with a source link-layer option, which RFC 4861 forbids, is still one).
    const dadWithOption = await lab.trace(ns(of.b!, MAC.b, "::", IP.b).replace("nd_sll=00:00:00:00:00:00", `nd_sll=${MAC.b}`));
    expect(dadWithOption.text).toContain(`nd_sll=${MAC.b}`);
    expect(dadWithOption.text).not.toContain("type=136");
    const bare = await lab.trace(ns(of.a!, MAC.a, IP.a, IP.b).replace(`nd_sll=${MAC.a}`, "nd_sll=00:00:00:00:00:00"));
    expect(bare.text).not.toContain("type=136");
    expect(bare.out, bare.text).toEqual(expect.arrayContaining([dp[port.b]]));
  });

  it("routes IPv6 to the router MAC: hop limit - 1 through the receiver's ingress, to another DPU by the tunnel, hop limit 1 dropped", async () => {
    const routed = await lab.trace(echoFromA(of.a!, IP.c), ["trk,new", "trk,new"]);
    expect(routed.out, routed.text).toEqual([dp[port.c]]);
    expect(routed.text).toContain(`set(eth(src=${ROUTER},dst=${MAC.c}))`);
    expect(routed.text).toMatch(/set\(ipv6\([^)]*hlimit=63/);
    expect(routed.text).toMatch(new RegExp(`Datapath actions: ct\\(commit,zone=\\d+\\),${dp[port.c]}$`, "m"));
    const remote = await lab.trace(echoFromA(of.a!, IP.remote), ["trk,new"]);
    expect(remote.text).toContain(`set_field:${MAC.remote}->eth_dst`);
    expect(remote.text).toContain("-> output to native tunnel");
    expect((await lab.trace(echoFromA(of.a!, IP.c, 1), ["trk,new", "trk,new"])).out).toEqual([]);
    // An address no neighbor holds, inside a router subnet or outside every one: nobody's.
    for (const dst of ["fd00:52:2::99", "2001:db8::1"]) expect((await lab.trace(echoFromA(of.a!, dst), ["trk,new"])).out).toEqual([]);
  });

  it("answers a ping to an IPv6 gateway with the echo reply, out of the asking port", async () => {
    const t = await lab.trace(echoFromA(of.a!, IP.gw1), ["trk,new"]);
    expect(t.out, t.text).toEqual([dp[port.a]]);
    const last = lastActions(t.text);
    expect(last).toContain(`set(eth(src=${ROUTER},dst=${MAC.a}))`);
    expect(last).toContain(`set(ipv6(src=${IP.gw1},dst=${IP.a}))`);
    expect(last).toContain("set(icmpv6(type=129,code=0))");
  });

  it("delivers IPv6 from the tunnel (tun_id = VNI) to the NIC through its ingress rules", async () => {
    const vx = (await lab.must("ovs-vsctl", ["--data=bare", "--no-headings", "--columns=ofport", "find", "Interface", "type=vxlan"])).trim();
    const fromTunnel = (l4: string) =>
      `in_port=${vx},tun_id=${VNI},tun_src=${REMOTE_VTEP},tun_dst=${LOCAL_VTEP},dl_src=${MAC.remote},dl_dst=${MAC.a},` +
      l4.replace(",", `,ipv6_src=${IP.remote},ipv6_dst=${IP.a},nw_ttl=63,`);
    const echo = await lab.trace(fromTunnel("icmp6,icmpv6_type=128,icmpv6_code=0"), ["trk,new"]);
    expect(echo.out, echo.text).toEqual([dp[port.a]]);
    expect(echo.text).toMatch(new RegExp(`Datapath actions: ct\\(commit,zone=\\d+\\),${dp[port.a]}$`, "m"));
    // A's ingress rules allow ICMP, not UDP: dropped after A's ingress conntrack.
    const udp = await lab.trace(fromTunnel("udp6,udp_src=5000,udp_dst=53"), ["trk,new"]);
    expect(udp.out, udp.text).toEqual([]);
    expect(udp.text).toContain(`reg5=0x${Number(of.a).toString(16)}`);
    expect(udp.text).toContain("ct(table=32,zone=");
  });

  it("real IPv6 stacks: DAD passes, the DPU's NA teaches the neighbor, ping -6 works on a subnet, to the gateway, routed and link-local", async () => {
    const a = guest.a!;
    const b = guest.b!;
    const c = guest.c!;
    expect(await configure(a, `${IP.a}/64`, IP.gw1)).not.toMatch(/dadfailed|tentative/);
    expect(await configure(c, `${IP.c}/64`, IP.gw2)).not.toMatch(/dadfailed|tentative/);
    // B does not hold its address yet: A still learns B's MAC for it, so the NA came from the DPU, not from B.
    expect((await ping(a, IP.b)).code).not.toBe(0);
    const learnt = (await a.run("ip", ["-6", "neigh", "show", IP.b, "dev", "eth0"])).stdout;
    expect(learnt).toContain(`lladdr ${MAC.b}`);
    expect(learnt).not.toMatch(/FAILED|INCOMPLETE/);
    // B's own DAD probe for the address the DPU answers for is left alone: the address becomes B's.
    const bAddrs = await configure(b, `${IP.b}/64`, IP.gw1);
    expect(bAddrs).toContain(`inet6 ${IP.b}/64`);
    expect(bAddrs).not.toMatch(/dadfailed|tentative/);

    const same = await ping(a, IP.b);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toMatch(/ttl=64/);
    const gw = await ping(a, IP.gw1);
    expect(gw.code, gw.stdout + gw.stderr).toBe(0);
    expect((await a.run("ip", ["-6", "neigh", "show", IP.gw1, "dev", "eth0"])).stdout).toMatch(new RegExp(`lladdr ${ROUTER} router`));
    const routed = await ping(a, IP.c);
    expect(routed.code, routed.stdout + routed.stderr).toBe(0);
    expect(routed.stdout).toMatch(/ttl=63/);
    const back = await ping(c, IP.a);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    const linkLocal = /inet6 (fe80::[0-9a-f:]+)\/64/.exec(await addrs(b))?.[1];
    expect(linkLocal).toBeDefined();
    const ll = await ping(a, `${linkLocal}%eth0`);
    expect(ll.code, ll.stdout + ll.stderr).toBe(0);
  }, 60_000);

  it("real IPv6 stacks: an ingress rule set without an IPv6 ICMP rule drops the ping; put back, it passes again", async () => {
    const r = await call("PUT", "/v1/nics/c/rules", { ingress: [ping4], egress: egressAll });
    expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
    expect((await ping(guest.a!, IP.c)).code).not.toBe(0);
    // Neighbor Discovery and the gateway are not the rules' business: C still reaches its gateway.
    expect((await ping(guest.c!, IP.gw2)).code).toBe(0);
    expect((await call("PUT", "/v1/nics/c/rules", { ingress: [ping6, ping4], egress: egressAll })).status).toBeLessThan(300);
    const ok = await ping(guest.a!, IP.c);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
  }, 30_000);

  it("real IPv6 stacks across the VXLAN overlay (two switches, a real underlay): same subnet and routed, both ways", async () => {
    const d = guest.d!;
    const e = guest.e!;
    expect(await configure(d, `${IP.remote}/64`, IP.gw2)).not.toMatch(/dadfailed|tentative/);
    expect(await configure(e, `${IP.e}/64`, IP.gw1)).not.toMatch(/dadfailed|tentative/);
    // The first packet to a new VTEP may go while the switch resolves the VTEP's MAC: ping sends 3, one reply passes.
    const same = await ping(guest.a!, IP.e);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toMatch(/ttl=64/);
    const routed = await ping(guest.a!, IP.remote);
    expect(routed.code, routed.stdout + routed.stderr).toBe(0);
    expect(routed.stdout).toMatch(/ttl=63/);
    const back = await ping(e, IP.c);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toMatch(/ttl=63/);
    // Each side learnt the other DPU's guest from its own DPU: E's MAC for A, the router's for D's gateway.
    expect((await guest.a!.run("ip", ["-6", "neigh", "show", IP.e, "dev", "eth0"])).stdout).toContain(`lladdr ${MAC.e}`);
    expect((await d.run("ip", ["-6", "neigh", "show", IP.gw2, "dev", "eth0"])).stdout).toContain(`lladdr ${ROUTER} router`);
  }, 60_000);

  it("refuses bad IPv6 input with the field named and changes nothing", async () => {
    const before = await overlayFlows();
    const cases: [unknown, string, RegExp][] = [
      [
        { neighbors: [...neighbors, { ip: "FD00:52:1:0::20", mac: "02:00:00:00:52:99" }] },
        "duplicate_neighbor",
        new RegExp(`neighbors\\[${neighbors.length}\\]\\.ip: FD00:52:1:0::20 is listed twice \\(also at neighbors\\[1\\]\\)`),
      ],
      [{ neighbors: [{ ip: "fe80::1", mac: MAC.a }] }, "invalid_request", /neighbors\[0\]\.ip: must be a unicast IPv6 address/],
      [{ router: { ...router, subnets: [{ cidr: "fd00:52:1::/64", gateway: IP.a }] } }, "gateway_in_use", /router\.subnets\[0\]\.gateway: .*neighbors\[0\]/],
      [{ router: { ...router, subnets: [{ cidr: "fd00:52:1::/64", gateway: "fd00:52:1::" }] } }, "gateway_outside_subnet", /subnet-router anycast/],
      [
        { router: { ...router, subnets: [{ cidr: "fd00:52:1::/64", gateway: IP.gw4 }] } },
        "gateway_outside_subnet",
        /IPv4 address and fd00:52:1::\/64 an IPv6 network/,
      ],
      [
        { router: { ...router, subnets: [{ cidr: "fd00:52::/48", gateway: "fd00:52::1" }] } },
        "invalid_request",
        /router\.subnets\[0\]\.cidr: must be an IPv6 network of \/64 to \/120/,
      ],
      [
        { router: { ...router, subnets: [...router.subnets, { cidr: "fd00:52:1::100/120", gateway: "fd00:52:1::101" }] } },
        "router_subnet_overlap",
        /router\.subnets\[3\]\.cidr: .*overlaps fd00:52:1::\/64/,
      ],
    ];
    for (const [patch, code, message] of cases) {
      const r = await call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [REMOTE_VTEP], neighbors, router, ...(patch as object) });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
    expect(await overlayFlows()).toEqual(before);
  });

  it("removes the ND flows with the last IPv6 entry, and every flow on DELETE", async () => {
    const v4 = neighbors.filter((n) => !n.ip.includes(":"));
    const r = await call("PUT", `/v1/overlay/vxlan/${VNI}`, {
      remoteIps: [REMOTE_VTEP],
      neighbors: v4,
      router: { ...router, subnets: router.subnets.filter((s) => !s.cidr.includes(":")) },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const flows = await overlayFlows();
    expect(flows.length).toBeGreaterThan(0);
    expect(flows.filter((l) => l.includes("icmp6") || l.includes("ipv6") || l.includes("table=33"))).toEqual([]);
    expect((await lab.trace(ns(of.a!, MAC.a, IP.a, IP.b))).text).not.toContain("type=136");
    expect((await call("DELETE", `/v1/overlay/vxlan/${VNI}`)).status).toBe(204);
    expect(await overlayFlows()).toEqual([]);
  });
});
