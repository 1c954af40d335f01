// The VPC router's provider side (OverlaySpec.router.external: SNAT and floating IPs, conntrack NAT in the VNI's
// zone) on the linux backend against a real userspace Open vSwitch: two NICs of one VNI in two subnets, the provider
// network on VLAN 300 of the uplink. Packet by packet with ofproto/trace (OpenFlow 1.3, --ct-next for each conntrack
// stage): outbound is committed with nat(src=snatIp) or nat(src=floating IP) and leaves by the uplink to the gateway
// (VLAN pushed, TTL - 1); a floating IP's inbound reaches its fixed address through the NIC's ingress rules; moving a
// floating IP moves the next connection, and the next packet of a live one (its conntrack bindings are flushed); the
// DPU answers provider ARP for its own addresses only; unsolicited inbound
// to snatIp is dropped. ofproto/trace cannot undo a NAT (it does not know the connection), so the return path is also
// proven with real packets (netdev-dummy/receive, the ports' tx_pcap files): a NIC's UDP out, its reply back in,
// un-NATed by conntrack to that NIC. Bad specs are refused with nothing changed (422; 409 on an agent without an
// uplink); DELETE removes every NAT flow.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVS_TOOLS, type OvsLab, requireTools, startOvsLab } from "../../test/ovs-lab";
import { OverlaySpecSchema } from "../schemas";
import { createLinuxBackend } from "./linux";
import { overlayCookie } from "./ovs-flows";

const TOKEN = "nat-test-token";
const VNI = 5200;
const ROUTER = "02:a4:e1:00:14:ec";
const EXT = "02:a4:e1:00:ee:01";
const GW_MAC = "02:00:5e:00:ff:01";
const VLAN = 300;
const MAC = { a: "02:00:00:00:02:0a", b: "02:00:00:00:02:0b" };
const IP = { a: "10.8.1.10", b: "10.8.2.20", snat: "203.0.113.5", fip: "203.0.113.10", gw: "203.0.113.1", far: "198.51.100.7" };
const neighbors = [
  { ip: IP.b, mac: MAC.b },
  { ip: IP.a, mac: MAC.a },
];
const external = {
  vlanId: VLAN,
  mac: EXT,
  cidr: "203.0.113.0/24",
  gateway: IP.gw,
  gatewayMac: GW_MAC,
  snatIp: IP.snat,
  floatingIps: [{ ip: IP.fip, fixedIp: IP.a }],
};
const router = {
  mac: ROUTER,
  subnets: [
    { cidr: "10.8.1.0/24", gateway: "10.8.1.1" },
    { cidr: "10.8.2.0/24", gateway: "10.8.2.1" },
  ],
  external,
};
const egressAll = [{ id: "out", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }];
/** Both NICs let in TCP 22 from anywhere; TCP 80 is not allowed. */
const sshOnly = { ingress: [{ id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "0.0.0.0/0" }], egress: egressAll };

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
const putOverlay = (r: unknown = router) => call("PUT", `/v1/overlay/vxlan/${VNI}`, { remoteIps: [], neighbors, router: r });

const ofport = async (port: string) => (await lab.must("ovs-vsctl", ["get", "Interface", port, "ofport"])).trim();
const overlayFlows = async () =>
  (await lab.must("ovs-ofctl", ["-O", "OpenFlow13", "--no-stats", "dump-flows", "br-int", `cookie=${overlayCookie(VNI)}/-1`]))
    .split("\n")
    .filter((l) => l.includes("cookie="));
/** The datapath actions of the trace's last stage. */
const lastActions = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("Datapath actions:"))
    .at(-1)!;
const esc = (s: string) => s.replaceAll(".", "\\.");

/** A packet from the provider gateway on the provider VLAN to the router's provider MAC. */
const fromProvider = (up: string, proto: string, dst: string, sport: number, dport: number) =>
  `in_port=${up},dl_vlan=${VLAN},dl_src=${GW_MAC},dl_dst=${EXT},${proto},nw_src=${IP.far},nw_dst=${dst},nw_ttl=64,tp_src=${sport},tp_dst=${dport}`;
const fromNic = (ofp: string, nic: "a" | "b", proto: string, dport: number) =>
  `in_port=${ofp},dl_src=${MAC[nic]},dl_dst=${ROUTER},${proto},nw_src=${IP[nic]},nw_dst=${IP.far},nw_ttl=64,tp_src=40000,tp_dst=${dport}`;
const providerArp = (up: string, tpa: string) =>
  `in_port=${up},dl_vlan=${VLAN},dl_src=${GW_MAC},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_sha=${GW_MAC},arp_spa=${IP.gw},arp_tpa=${tpa},arp_tha=00:00:00:00:00:00`;

/** A UDP packet (TTL 64) in the datapath flow form netdev-dummy/receive takes. */
const udpPacket = (p: { src: string; dst: string; vlan?: number; ipSrc: string; ipDst: string; sport: number; dport: number }) => {
  const l3 = `eth_type(0x0800),ipv4(src=${p.ipSrc},dst=${p.ipDst},proto=17,tos=0,ttl=64,frag=no),udp(src=${p.sport},dst=${p.dport})`;
  return `eth(src=${p.src},dst=${p.dst}),${p.vlan === undefined ? l3 : `eth_type(0x8100),vlan(vid=${p.vlan},pcp=0),encap(${l3})`}`;
};

/** The Ethernet frames in a pcap file (netdev-dummy's tx_pcap), decoded as far as the tests look. */
interface Frame {
  src: string;
  dst: string;
  vlan?: number;
  ipSrc?: string;
  ipDst?: string;
  ttl?: number;
  sport?: number;
  dport?: number;
}
async function framesIn(file: string): Promise<Frame[]> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return [];
  }
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const mac = (o: number) => [...buf.subarray(o, o + 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
  const ip = (o: number) => [...buf.subarray(o, o + 4)].join(".");
  const out: Frame[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const len = u32(o + 8);
    const p = o + 16;
    const f: Frame = { dst: mac(p), src: mac(p + 6) };
    let l3 = p + 12;
    if (buf.readUInt16BE(l3) === 0x8100) {
      f.vlan = buf.readUInt16BE(l3 + 2) & 0xfff;
      l3 += 4;
    }
    if (buf.readUInt16BE(l3) === 0x0800) {
      const h = l3 + 2;
      f.ttl = buf[h + 8];
      f.ipSrc = ip(h + 12);
      f.ipDst = ip(h + 16);
      const l4 = h + (buf[h]! & 15) * 4;
      f.sport = buf.readUInt16BE(l4);
      f.dport = buf.readUInt16BE(l4 + 2);
    }
    out.push(f);
    o = p + len;
  }
  return out;
}
/** Waits (briefly) until the port's pcap holds `n` frames. */
async function waitFrames(file: string, n: number): Promise<Frame[]> {
  for (let i = 0; i < 50; i++) {
    const f = await framesIn(file);
    if (f.length >= n) return f;
    await new Promise((r) => setTimeout(r, 20));
  }
  return framesIn(file);
}

beforeAll(async () => {
  requireTools(OVS_TOOLS);
  lab = await startOvsLab({ prefix: "anvil-agent-nat-", token: TOKEN });
}, 30_000);

afterAll(async () => {
  await lab?.close();
});

describe("SNAT and floating IPs on Open vSwitch", () => {
  const port: Record<string, string> = {};
  const of: Record<string, string> = {};
  let up = "";
  let dp: Record<string, number> = {};
  let zone = 0;

  beforeAll(async () => {
    for (const nic of ["a", "b"] as const) {
      const r = await call("PUT", `/v1/nics/${nic}`, { mac: MAC[nic], network: { type: "vxlan", vni: VNI }, rules: sshOnly });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      port[nic] = r.json.port;
      of[nic] = await ofport(r.json.port);
    }
    up = await ofport("uplink");
    const r = await putOverlay();
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.router.external).toEqual(external);
    dp = await lab.datapathPorts();
    // The VNI's NAT zone: from the top of the 16-bit range, apart from the NICs' zones (1, 2).
    zone = Number(/zone=(\d+),nat/.exec((await overlayFlows()).join("\n"))?.[1]);
    expect(zone).toBe(65535);
  });

  it("SNATs a VPC address without a floating IP to snatIp and sends it to the provider gateway on the VLAN (TTL - 1)", async () => {
    const t = await lab.trace(fromNic(of.b!, "b", "tcp", 443), ["trk,new"]);
    expect(t.out, t.text).toEqual([dp.uplink]);
    // B's egress commit in its own zone, then the commit with SNAT in the VNI's zone, the provider L2 header, TTL - 1.
    expect(lastActions(t.text)).toBe(
      `Datapath actions: ct(commit,zone=2),ct(commit,zone=${zone},nat(src=${IP.snat})),set(eth(src=${EXT},dst=${GW_MAC})),set(ipv4(ttl=63)),push_vlan(vid=${VLAN},pcp=0),${dp.uplink}`,
    );
  });

  it("sends a floating-IP address's outbound with the floating IP as its source", async () => {
    const t = await lab.trace(fromNic(of.a!, "a", "tcp", 443), ["trk,new"]);
    expect(t.out, t.text).toEqual([dp.uplink]);
    expect(lastActions(t.text)).toContain(`ct(commit,zone=${zone},nat(src=${IP.fip})),set(eth(src=${EXT},dst=${GW_MAC}))`);
    // B using A's address is not A: it is SNATed, not given A's floating IP.
    const spoof = await lab.trace(fromNic(of.b!, "b", "tcp", 443).replace(`nw_src=${IP.b}`, `nw_src=${IP.a}`), ["trk,new"]);
    expect(lastActions(spoof.text)).toContain(`nat(src=${IP.snat})`);
    // Inside the VPC nothing is NATed: an address of a router subnet that is no neighbor is dropped, not sent out.
    const inside = await lab.trace(fromNic(of.a!, "a", "tcp", 443).replace(`nw_dst=${IP.far}`, "nw_dst=10.8.2.99"), ["trk,new"]);
    expect(inside.out, inside.text).toEqual([]);
    expect(inside.text).not.toContain("nat(src=");
  });

  it("delivers a floating IP's inbound to its fixed address through the NIC's ingress rules", async () => {
    const ok = await lab.trace(fromProvider(up, "tcp", IP.fip, 50000, 22), ["trk,new", "trk,new"]);
    expect(ok.out, ok.text).toEqual([dp[port.a!]]);
    // ct(nat) in the VNI's zone; new, so committed with nat(dst=fixed), routed (router MAC, TTL - 1); A's zone commits.
    expect(ok.text).toContain(`Datapath actions: pop_vlan,ct(zone=${zone},nat),recirc(`);
    expect(ok.text).toContain(`ct(commit,zone=${zone},nat(dst=${IP.a})),set(eth(src=${ROUTER},dst=${MAC.a})),set(ipv4(ttl=63)),ct(zone=1),recirc(`);
    expect(lastActions(ok.text)).toBe(`Datapath actions: ct(commit,zone=1),${dp[port.a!]}`);
    // TCP 80 is not in A's ingress rules: dropped at A's ingress.
    const denied = await lab.trace(fromProvider(up, "tcp", IP.fip, 50000, 80), ["trk,new", "trk,new"]);
    expect(denied.out, denied.text).toEqual([]);
    expect(denied.text).toContain(`nat(dst=${IP.a})`);
  });

  it("drops unsolicited inbound to snatIp and to an address the router does not own", async () => {
    const snat = await lab.trace(fromProvider(up, "tcp", IP.snat, 50000, 22), ["trk,new"]);
    expect(snat.out, snat.text).toEqual([]);
    expect(snat.text).toContain(`ct(zone=${zone},nat)`);
    const other = await lab.trace(fromProvider(up, "tcp", "203.0.113.77", 50000, 22));
    expect(other.out, other.text).toEqual([]);
    expect(other.text).not.toContain("ct(");
  });

  it("routes return traffic (+est after ct(nat) in the VNI's zone) by its VPC address", async () => {
    const t = await lab.trace(fromProvider(up, "tcp", IP.snat, 443, 40000), ["trk,est"]);
    // ofproto/trace cannot undo the NAT (the destination stays snatIp in the trace), so the table-41 route by the
    // un-NATed address is shown with real packets below; here: the reply is un-NATed and handed to table 41.
    expect(t.text).toContain(`Datapath actions: pop_vlan,ct(zone=${zone},nat),recirc(`);
    expect(t.text).toMatch(/40\. ct_state=\+est-inv\+trk,ip,reg7=0x1001450, priority 90[^\n]*\n\s+resubmit\(,41\)/);
  });

  it("NATs real packets: B's UDP out as snatIp and its reply back to B, A's out as the floating IP, a SYN in to A and A's answer out", async () => {
    const pcap = (p: string) => join(lab.dir, `${p}.pcap`);
    for (const p of ["uplink", port.a!, port.b!]) await lab.must("ovs-vsctl", ["set", "Interface", p, `options:tx_pcap=${pcap(p)}`]);
    // B (no floating IP) sends UDP to a far address: it leaves by the uplink SNATed to snatIp, VLAN 300, TTL - 1.
    await lab.appctl("netdev-dummy/receive", port.b!, udpPacket({ src: MAC.b, dst: ROUTER, ipSrc: IP.b, ipDst: IP.far, sport: 40001, dport: 53 }));
    const [out] = await waitFrames(pcap("uplink"), 1);
    expect(out).toMatchObject({ src: EXT, dst: GW_MAC, vlan: VLAN, ipSrc: IP.snat, ipDst: IP.far, ttl: 63, dport: 53 });
    const conntrack = await lab.appctl("dpctl/dump-conntrack", `zone=${zone}`);
    expect(conntrack).toMatch(
      new RegExp(`udp,orig=\\(src=${esc(IP.b)},dst=${esc(IP.far)},sport=40001,dport=53\\),reply=\\(src=${esc(IP.far)},dst=${esc(IP.snat)}`),
    );
    // The reply from the provider, to snatIp and the port conntrack chose: un-NATed and delivered to B, not A.
    await lab.appctl(
      "netdev-dummy/receive",
      "uplink",
      udpPacket({ src: GW_MAC, dst: EXT, vlan: VLAN, ipSrc: IP.far, ipDst: IP.snat, sport: 53, dport: out!.sport! }),
    );
    const [back] = await waitFrames(pcap(port.b!), 1);
    expect(back).toMatchObject({ src: ROUTER, dst: MAC.b, ipSrc: IP.far, ipDst: IP.b, ttl: 63, sport: 53, dport: 40001 });
    expect(back!.vlan).toBeUndefined();
    expect(await framesIn(pcap(port.a!))).toEqual([]);
    // A's outbound leaves with the floating IP as source.
    await lab.appctl("netdev-dummy/receive", port.a!, udpPacket({ src: MAC.a, dst: ROUTER, ipSrc: IP.a, ipDst: IP.far, sport: 40002, dport: 53 }));
    const frames = await waitFrames(pcap("uplink"), 2);
    expect(frames[1]).toMatchObject({ src: EXT, dst: GW_MAC, vlan: VLAN, ipSrc: IP.fip, ipDst: IP.far, sport: 40002 });
    // A new TCP connection to the floating IP's port 22 (allowed by A's rules) reaches A, DNATed to its address.
    await lab.appctl(
      "netdev-dummy/receive",
      "uplink",
      `eth(src=${GW_MAC},dst=${EXT}),eth_type(0x8100),vlan(vid=${VLAN},pcp=0),encap(eth_type(0x0800),ipv4(src=${IP.far},dst=${IP.fip},proto=6,tos=0,ttl=64,frag=no),tcp(src=50010,dst=22),tcp_flags(syn))`,
    );
    const [syn] = await waitFrames(pcap(port.a!), 1);
    expect(syn).toMatchObject({ src: ROUTER, dst: MAC.a, ipSrc: IP.far, ipDst: IP.a, ttl: 63, sport: 50010, dport: 22 });
    // A's answer leaves as the floating IP (the connection's binding), from port 22 to the caller's port.
    await lab.appctl(
      "netdev-dummy/receive",
      port.a!,
      `eth(src=${MAC.a},dst=${ROUTER}),eth_type(0x0800),ipv4(src=${IP.a},dst=${IP.far},proto=6,tos=0,ttl=64,frag=no),tcp(src=22,dst=50010),tcp_flags(syn|ack)`,
    );
    const all = await waitFrames(pcap("uplink"), 3);
    expect(all[2]).toMatchObject({ src: EXT, dst: GW_MAC, vlan: VLAN, ipSrc: IP.fip, ipDst: IP.far, sport: 22, dport: 50010 });
  });

  it("answers provider ARP for snatIp and the floating IPs with the provider MAC, and for nothing else", async () => {
    for (const ip of [IP.snat, IP.fip]) {
      const t = await lab.trace(providerArp(up, ip));
      expect(t.out, t.text).toEqual([dp.uplink]);
      expect(t.text).toContain(`arp(sip=${ip},tip=${IP.gw},op=2,sha=${EXT},tha=${GW_MAC})`);
    }
    for (const ip of ["203.0.113.77", IP.gw, IP.a]) {
      const t = await lab.trace(providerArp(up, ip));
      expect(t.text, ip).not.toContain(`sha=${EXT}`);
    }
    // Not on another VLAN either.
    const t = await lab.trace(providerArp(up, IP.snat).replace(`dl_vlan=${VLAN}`, "dl_vlan=301"));
    expect(t.text).not.toContain(`sha=${EXT}`);
  });

  it("moves a floating IP to another address with one PUT: the next connection reaches the new one", async () => {
    const moved = { ...router, external: { ...external, floatingIps: [{ ip: IP.fip, fixedIp: IP.b }] } };
    const r = await putOverlay(moved);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const t = await lab.trace(fromProvider(up, "tcp", IP.fip, 50001, 22), ["trk,new", "trk,new"]);
    expect(t.out, t.text).toEqual([dp[port.b!]]);
    expect(t.text).toContain(`nat(dst=${IP.b})`);
    expect(t.text).not.toContain(`nat(dst=${IP.a})`);
    // A is back to SNAT, B now leaves as the floating IP.
    expect(lastActions((await lab.trace(fromNic(of.a!, "a", "tcp", 443), ["trk,new"])).text)).toContain(`nat(src=${IP.snat})`);
    expect(lastActions((await lab.trace(fromNic(of.b!, "b", "tcp", 443), ["trk,new"])).text)).toContain(`nat(src=${IP.fip})`);
    expect((await putOverlay()).status).toBe(200);
    expect((await lab.trace(fromProvider(up, "tcp", IP.fip, 50002, 22), ["trk,new", "trk,new"])).out).toEqual([dp[port.a!]]);
  });

  it("announces a provider address it takes over with one gratuitous ARP on the provider VLAN, and none it already held", async () => {
    const file = join(lab.dir, "garp.pcap");
    await lab.must("ovs-vsctl", ["set", "Interface", "uplink", `options:tx_pcap=${file}`]);
    const arps = async () => {
      const buf = await readFile(file).catch(() => Buffer.alloc(0));
      const out: { dst: string; src: string; vlan: number; op: number; sha: string; spa: string; tpa: string }[] = [];
      const mac = (o: number) => [...buf.subarray(o, o + 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
      const ip = (o: number) => [...buf.subarray(o, o + 4)].join(".");
      for (let o = 24; o + 16 <= buf.length; ) {
        const len = buf.readUInt32LE(o + 8);
        const p = o + 16;
        if (buf.readUInt16BE(p + 12) === 0x8100 && buf.readUInt16BE(p + 16) === 0x0806) {
          const a = p + 18;
          out.push({
            dst: mac(p),
            src: mac(p + 6),
            vlan: buf.readUInt16BE(p + 14) & 0xfff,
            op: buf.readUInt16BE(a + 6),
            sha: mac(a + 8),
            spa: ip(a + 14),
            tpa: ip(a + 24),
          });
        }
        o = p + len;
      }
      return out;
    };
    const taken = "203.0.113.11";
    const more = { ...router, external: { ...external, floatingIps: [...external.floatingIps, { ip: taken, fixedIp: IP.b }] } };
    expect((await putOverlay(more)).status).toBe(200);
    await expect.poll(arps).toEqual([{ dst: "ff:ff:ff:ff:ff:ff", src: EXT, vlan: VLAN, op: 1, sha: EXT, spa: taken, tpa: taken }]);
    // Back to the floating IP and SNAT address it held all along: nothing more to announce.
    expect((await putOverlay()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await arps()).toHaveLength(1);
  });

  it("moves a live connection with its floating IP: its bindings are flushed, so its next packet reaches the new address", async () => {
    const pcap = (p: string) => join(lab.dir, `move-${p}.pcap`);
    for (const p of [port.a!, port.b!]) await lab.must("ovs-vsctl", ["set", "Interface", p, `options:tx_pcap=${pcap(p)}`]);
    const inbound = (flags: string) =>
      `eth(src=${GW_MAC},dst=${EXT}),eth_type(0x8100),vlan(vid=${VLAN},pcp=0),encap(eth_type(0x0800),ipv4(src=${IP.far},dst=${IP.fip},proto=6,tos=0,ttl=64,frag=no),tcp(src=50020,dst=22),tcp_flags(${flags}))`;
    await lab.appctl("netdev-dummy/receive", "uplink", inbound("syn"));
    expect(await waitFrames(pcap(port.a!), 1)).toMatchObject([{ ipDst: IP.a, sport: 50020 }]);
    expect(await lab.appctl("dpctl/dump-conntrack", `zone=${zone}`)).toContain(`dst=${IP.fip},sport=50020`);

    const moved = { ...router, external: { ...external, floatingIps: [{ ip: IP.fip, fixedIp: IP.b }] } };
    expect((await putOverlay(moved)).status).toBe(200);
    const left = await lab.appctl("dpctl/dump-conntrack", `zone=${zone}`);
    expect(left).not.toContain(IP.fip);
    expect(left).toContain(`sport=40001`); // B's SNATed UDP (not the floating IP's) stays
    // The same connection's next packet: a new binding in the zone, to B, through B's ingress rules (port 22).
    await lab.appctl("netdev-dummy/receive", "uplink", inbound("ack"));
    expect(await waitFrames(pcap(port.b!), 1)).toMatchObject([{ src: ROUTER, dst: MAC.b, ipSrc: IP.far, ipDst: IP.b, sport: 50020, dport: 22 }]);
    expect(await framesIn(pcap(port.a!))).toHaveLength(1);
    expect((await putOverlay()).status).toBe(200);
  });

  it("keeps the VNI's NAT zone across an agent restart (journal)", async () => {
    await lab.restartAgent();
    expect((await call("GET", `/v1/overlay/vxlan/${VNI}`)).json.router.external).toEqual(external);
    const moved = { ...router, external: { ...external, floatingIps: [{ ip: IP.fip, fixedIp: IP.b }] } };
    expect((await putOverlay(moved)).status).toBe(200);
    const zones = new Set([...(await overlayFlows()).join("\n").matchAll(/zone=(\d+)/g)].map((m) => Number(m[1])));
    expect([...zones]).toEqual([zone]);
    expect((await lab.trace(fromProvider(up, "tcp", IP.fip, 50030, 22), ["trk,new", "trk,new"])).out).toEqual([dp[port.b!]]);
    expect((await putOverlay()).status).toBe(200);
  });

  it("refuses bad provider specs with 422 naming the field, and changes nothing", async () => {
    const before = await overlayFlows();
    const ext = (e: Record<string, unknown>) => ({ ...router, external: { ...external, ...e } });
    const cases: [unknown, string, RegExp][] = [
      [ext({ snatIp: "198.51.100.5" }), "address_outside_provider_network", /router\.external\.snatIp: 198\.51\.100\.5 is not inside 203\.0\.113\.0\/24/],
      [ext({ gateway: "203.0.113.255" }), "address_outside_provider_network", /router\.external\.gateway: .*broadcast/],
      [ext({ floatingIps: [{ ip: "203.0.113.0", fixedIp: IP.a }] }), "address_outside_provider_network", /floatingIps\[0\]\.ip: .*network or broadcast/],
      [ext({ floatingIps: [{ ip: IP.snat, fixedIp: IP.a }] }), "external_ip_in_use", /floatingIps\[0\]\.ip: .*snatIp/],
      [ext({ floatingIps: [{ ip: IP.gw, fixedIp: IP.a }] }), "external_ip_in_use", /floatingIps\[0\]\.ip: .*gateway/],
      [
        ext({
          floatingIps: [
            { ip: IP.fip, fixedIp: IP.a },
            { ip: IP.fip, fixedIp: IP.b },
          ],
        }),
        "duplicate_floating_ip",
        /floatingIps\[1\]\.ip: .*listed twice/,
      ],
      [
        ext({
          floatingIps: [
            { ip: IP.fip, fixedIp: IP.a },
            { ip: "203.0.113.11", fixedIp: IP.a },
          ],
        }),
        "duplicate_fixed_ip",
        /floatingIps\[1\]\.fixedIp: .*already has a floating IP/,
      ],
      [ext({ floatingIps: [{ ip: IP.fip, fixedIp: "10.8.1.99" }] }), "fixed_ip_unknown", /floatingIps\[0\]\.fixedIp: 10\.8\.1\.99 is not a neighbor/],
      [ext({ cidr: "10.8.0.0/16", gateway: "10.8.0.1", snatIp: "10.8.0.5", floatingIps: [] }), "router_subnet_overlap", /router\.external\.cidr: .*overlaps/],
      [ext({ mac: ROUTER }), "router_mac_in_use", /router\.external\.mac/],
      [ext({ vlanId: 4095 }), "invalid_request", /router\.external\.vlanId/],
      [ext({ gatewayMac: "01:00:5e:00:00:01" }), "invalid_request", /router\.external\.gatewayMac: must be a unicast MAC/],
      [ext({ extra: 1 }), "invalid_request", /router\.external/],
    ];
    for (const [bad, code, message] of cases) {
      const r = await putOverlay(bad);
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
    expect(await overlayFlows()).toEqual(before);
    expect((await call("GET", `/v1/overlay/vxlan/${VNI}`)).json.router.external).toEqual(external);
  });

  it("refuses a provider network (409 no_uplink) on an agent without an uplink port, installing nothing", async () => {
    const backend = await createLinuxBackend({ stateDir: join(lab.dir, "agent-no-uplink"), ovsRunDir: lab.dir, nicPortType: "dummy" });
    const spec = OverlaySpecSchema.parse({ remoteIps: [], neighbors, router });
    await expect(backend.putOverlay(VNI + 1, spec)).rejects.toMatchObject({ status: 409, code: "no_uplink", field: "router.external" });
    const flows = await lab.must("ovs-ofctl", ["-O", "OpenFlow13", "--no-stats", "dump-flows", "br-int", `cookie=${overlayCookie(VNI + 1)}/-1`]);
    expect(flows).not.toContain("cookie=");
    await backend.close?.();
  });

  it("removes the NAT flows and the zone's connections when the router comes without external, and on DELETE", async () => {
    const nat = (lines: string[]) => lines.filter((l) => l.includes(EXT) || l.includes("nat") || /table=4[01]/.test(l));
    expect(nat(await overlayFlows()).length).toBeGreaterThan(0);
    const { external: _gone, ...plain } = router;
    // The earlier tests left connections in the VNI's zone (B's SNATed UDP among them); dropping external flushes it.
    expect(await lab.appctl("dpctl/dump-conntrack", `zone=${zone}`)).toContain(IP.snat);
    expect((await putOverlay(plain)).status).toBe(200);
    expect(nat(await overlayFlows())).toEqual([]);
    expect((await lab.appctl("dpctl/dump-conntrack", `zone=${zone}`)).trim()).toBe("");
    expect((await lab.trace(providerArp(up, IP.fip))).text).not.toContain(`sha=${EXT}`);

    expect((await putOverlay()).status).toBe(200);
    // A connection in the VNI's zone again (B's UDP, SNATed); DELETE flushes the zone.
    await lab.appctl("netdev-dummy/receive", port.b!, udpPacket({ src: MAC.b, dst: ROUTER, ipSrc: IP.b, ipDst: IP.far, sport: 40009, dport: 53 }));
    expect(await lab.appctl("dpctl/dump-conntrack", `zone=${zone}`)).toContain(`sport=40009`);
    expect((await call("DELETE", `/v1/overlay/vxlan/${VNI}`)).status).toBe(204);
    expect(await overlayFlows()).toEqual([]);
    expect((await lab.appctl("dpctl/dump-conntrack", `zone=${zone}`)).trim()).toBe("");
    const all = await lab.must("ovs-ofctl", ["-O", "OpenFlow13", "--no-stats", "dump-flows", "br-int"]);
    expect(all).not.toContain(EXT);
    expect(all).not.toContain("nat(");
    const inbound = await lab.trace(fromProvider(up, "tcp", IP.fip, 50003, 22));
    expect(inbound.text).not.toContain("ct(");
    expect(inbound.out).not.toContain(dp[port.a!]);
  });
});
