// The distributed router's flow text (routerFlows, natFlows), without OVS: which flows a router spec compiles to,
// under the VNI's overlay cookie. agent/backends/linux-router.test.ts and linux-nat.test.ts prove the same flows on a
// real switch.
import { describe, expect, it } from "vitest";
import { natFlows, networkKey, overlayCookie, routerFlows, TABLE } from "./ovs-flows";

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
