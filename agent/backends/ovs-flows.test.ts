// The overlay's flow text (routerFlows, natFlows, the ARP / NA responder and ndFlows), without OVS: which flows a spec
// compiles to, under the VNI's overlay cookie. agent/backends/linux-router.test.ts, linux-nat.test.ts and
// linux-ipv6.test.ts prove the same flows on a real switch.
import { describe, expect, it } from "vitest";
import { arpResponderFlows, natFlows, ndFlows, networkKey, overlayCookie, routerFlows, TABLE } from "./ovs-flows";

const VNI = 0x1388;
const R = "02:a4:e1:00:13:88";
const router = {
  mac: R,
  subnets: [
    { cidr: "10.5.1.0/24", gateway: "10.5.1.1" },
    { cidr: "10.5.2.0/25", gateway: "10.5.2.126" },
  ],
};
const neighbors = [
  { ip: "10.5.1.10", mac: "02:00:00:00:00:0a" },
  { ip: "10.5.2.20", mac: "02:00:00:00:00:0b" },
  { ip: "10.5.2.200", mac: "02:00:00:00:00:0c" }, // outside 10.5.2.0/25: not routed
];

describe("routerFlows", () => {
  const flows = routerFlows(VNI, router, neighbors);
  const key = networkKey({ type: "vxlan", vni: VNI });
  const head = `cookie=${overlayCookie(VNI)},table=${TABLE.forward}`;

  it("puts every flow under the VNI's overlay cookie in table 30, for the VNI's NICs only (reg7)", () => {
    expect(flows.length).toBeGreaterThan(0);
    for (const f of flows) {
      expect(f.startsWith(`${head},`)).toBe(true);
      expect(f).toContain(`,reg7=${key},`);
    }
  });

  it("answers ARP for each gateway with the router MAC, out of the asking port", () => {
    for (const gw of ["10.5.1.1", "10.5.2.126"])
      expect(flows).toContain(
        `${head},priority=110,reg7=${key},arp,arp_op=1,arp_tpa=${gw} actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:${R}->eth_src,` +
          `set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:${R}->arp_sha,set_field:${gw}->arp_spa,IN_PORT`,
      );
  });

  it("turns an echo request to a gateway into the reply, out of the asking port", () => {
    expect(flows).toContain(
      `${head},priority=110,reg7=${key},icmp,icmp_type=8,icmp_code=0,dl_dst=${R},nw_dst=10.5.1.1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],` +
        `set_field:${R}->eth_src,move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],set_field:10.5.1.1->ip_src,set_field:0->icmp_type,IN_PORT`,
    );
  });

  it("routes to each neighbor inside a subnet (router MAC as source, dec_ttl, table 30 again) and drops the rest", () => {
    const routes = flows.filter((f) => f.includes("dec_ttl"));
    expect(routes).toEqual([
      `${head},priority=105,reg7=${key},ip,dl_dst=${R},nw_dst=10.5.1.10 actions=set_field:${R}->eth_src,set_field:02:00:00:00:00:0a->eth_dst,dec_ttl,resubmit(,30)`,
      `${head},priority=105,reg7=${key},ip,dl_dst=${R},nw_dst=10.5.2.20 actions=set_field:${R}->eth_src,set_field:02:00:00:00:00:0b->eth_dst,dec_ttl,resubmit(,30)`,
    ]);
    expect(flows.at(-1)).toBe(`${head},priority=101,reg7=${key},dl_dst=${R} actions=drop`);
    expect(flows).toHaveLength(2 * 2 + 2 + 1);
  });

  it("takes a subnet's last address as inside it and the next one as outside", () => {
    const edge = routerFlows(VNI, { mac: R, subnets: [{ cidr: "10.5.1.0/24", gateway: "10.5.1.1" }] }, [{ ip: "10.5.1.255", mac: "02:00:00:00:00:0d" }]);
    expect(edge.filter((f) => f.includes("dec_ttl"))).toHaveLength(1);
    const outside = routerFlows(VNI, { mac: R, subnets: [{ cidr: "10.5.1.0/24", gateway: "10.5.1.1" }] }, [{ ip: "10.5.2.0", mac: "02:00:00:00:00:0d" }]);
    expect(outside.filter((f) => f.includes("dec_ttl"))).toHaveLength(0);
  });
});

describe("natFlows", () => {
  const E = "02:a4:e1:00:ee:01";
  const external = { mac: E, gatewayMac: "02:00:5e:00:ff:01", floatingIps: [{ ip: "203.0.113.10", fixedIp: "10.5.1.10" }] };
  const at = { uplinkOfport: 7, zone: 65535 };

  it("is empty without external, and every flow carries the VNI's overlay cookie", () => {
    expect(natFlows(VNI, router, neighbors, at)).toEqual([]);
    const flows = natFlows(VNI, { ...router, external: { ...external, snatIp: "203.0.113.5", vlanId: 300 } }, neighbors, at);
    expect(flows.length).toBeGreaterThan(0);
    for (const f of flows) expect(f.startsWith(`cookie=${overlayCookie(VNI)},`)).toBe(true);
  });

  it("untagged: matches vlan_tci 0 on the uplink and neither pops nor pushes a VLAN", () => {
    const flows = natFlows(VNI, { ...router, external }, neighbors, at).join("\n");
    expect(flows).toContain("in_port=7,vlan_tci=0x0000/0x1fff,arp,arp_op=1,arp_tpa=203.0.113.10");
    expect(flows).not.toMatch(/push_vlan|pop_vlan|dl_vlan/);
  });

  it("without snatIp: no SNAT flow, no ARP answer for it; only the floating IP's address goes out", () => {
    const flows = natFlows(VNI, { ...router, external }, neighbors, at);
    const out = flows.filter((f) => f.includes("output:7"));
    expect(out).toEqual([
      `cookie=${overlayCookie(VNI)},table=${TABLE.forward},priority=103,reg7=${networkKey({ type: "vxlan", vni: VNI })},ip,dl_src=02:00:00:00:00:0a,dl_dst=${R},nw_src=10.5.1.10 actions=ct(commit,zone=65535,nat(src=203.0.113.10)),set_field:${E}->eth_src,set_field:02:00:5e:00:ff:01->eth_dst,dec_ttl,output:7`,
    ]);
    expect(flows.filter((f) => f.includes("arp_tpa="))).toHaveLength(1);
  });

  it("routes replies only to neighbors inside a router subnet", () => {
    const route = natFlows(VNI, { ...router, external }, neighbors, at).filter((f) => f.includes(`table=${TABLE.providerRoute},priority=100`));
    expect(route.map((f) => /nw_dst=([\d.]+)/.exec(f)?.[1])).toEqual(["10.5.1.10", "10.5.2.20"]);
  });
});

describe("IPv6: the NA responder, ndFlows, IPv6 routing and NAT's indifference", () => {
  const key = networkKey({ type: "vxlan", vni: VNI });
  const head = `cookie=${overlayCookie(VNI)},table=${TABLE.forward}`;
  const v6 = {
    mac: R,
    subnets: [...router.subnets, { cidr: "fd00:5:1::/64", gateway: "fd00:5:1::1" }],
  };
  const v6neighbors = [...neighbors, { ip: "fd00:5:1::10", mac: "02:00:00:00:00:1a" }, { ip: "fd00:5:9::10", mac: "02:00:00:00:00:1b" }];
  const na = (ip: string, mac: string, flags: string) =>
    `${head},priority=110,reg7=${key},icmp6,icmp_type=135,icmp_code=0,nd_target=${ip} actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],` +
    `set_field:${mac}->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:${ip}->ipv6_src,set_field:2->nd_options_type,` +
    `set_field:${flags}->nd_reserved,set_field:136->icmpv6_type,resubmit(,${TABLE.ndAdvert})`;

  it("answers an IPv6 neighbor with an NA (solicited, override) and an IPv4 one with ARP, as before", () => {
    const flows = arpResponderFlows(VNI, v6neighbors);
    expect(flows).toContain(na("fd00:5:1::10", "02:00:00:00:00:1a", "0x60000000"));
    expect(flows.filter((f) => f.includes("icmp6"))).toHaveLength(2);
    expect(flows.filter((f) => f.includes(",arp,"))).toHaveLength(2 * neighbors.length);
    // IPv4-only neighbors compile as they did.
    expect(arpResponderFlows(VNI, neighbors).some((f) => f.includes("icmp6"))).toBe(false);
  });

  it("ndFlows: DAD probes and NSs without a source link-layer option go to NORMAL above the responders; table 33 completes the NA", () => {
    expect(ndFlows(VNI)).toEqual([
      `${head},priority=120,reg7=${key},icmp6,icmp_type=135,ipv6_src=:: actions=NORMAL`,
      `${head},priority=120,reg7=${key},icmp6,icmp_type=135,nd_sll=00:00:00:00:00:00 actions=NORMAL`,
      `cookie=${overlayCookie(VNI)},table=${TABLE.ndAdvert},priority=100,reg7=${key},icmp6,icmp_type=136,icmp_code=0 actions=move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],IN_PORT`,
    ]);
  });

  it("answers NS and ping for an IPv6 gateway (router flag) and routes to IPv6 neighbors inside an IPv6 subnet only", () => {
    const flows = routerFlows(VNI, v6, v6neighbors);
    expect(flows).toContain(na("fd00:5:1::1", R, "0xe0000000"));
    expect(flows).toContain(
      `${head},priority=110,reg7=${key},icmp6,icmp_type=128,icmp_code=0,dl_dst=${R},ipv6_dst=fd00:5:1::1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],` +
        `set_field:${R}->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:fd00:5:1::1->ipv6_src,set_field:129->icmpv6_type,IN_PORT`,
    );
    expect(flows.filter((f) => f.includes("dec_ttl"))).toEqual([
      `${head},priority=105,reg7=${key},ip,dl_dst=${R},nw_dst=10.5.1.10 actions=set_field:${R}->eth_src,set_field:02:00:00:00:00:0a->eth_dst,dec_ttl,resubmit(,30)`,
      `${head},priority=105,reg7=${key},ip,dl_dst=${R},nw_dst=10.5.2.20 actions=set_field:${R}->eth_src,set_field:02:00:00:00:00:0b->eth_dst,dec_ttl,resubmit(,30)`,
      `${head},priority=105,reg7=${key},ipv6,dl_dst=${R},ipv6_dst=fd00:5:1::10 actions=set_field:${R}->eth_src,set_field:02:00:00:00:00:1a->eth_dst,dec_ttl,resubmit(,30)`,
    ]);
    // The IPv4 part is what it was without the IPv6 subnet and neighbors.
    const v4 = routerFlows(VNI, router, neighbors);
    expect(flows.filter((f) => !f.includes("icmp6") && !f.includes("ipv6"))).toEqual(v4);
  });

  it("natFlows never NATs IPv6: the IPv6 subnet and neighbors change none of its flows", () => {
    const external = {
      mac: "02:a4:e1:00:ee:01",
      gatewayMac: "02:00:5e:00:ff:01",
      snatIp: "203.0.113.5",
      floatingIps: [{ ip: "203.0.113.10", fixedIp: "10.5.1.10" }],
    };
    const at = { uplinkOfport: 7, zone: 65535 };
    expect(natFlows(VNI, { ...v6, external }, v6neighbors, at)).toEqual(natFlows(VNI, { ...router, external }, neighbors, at));
  });
});
