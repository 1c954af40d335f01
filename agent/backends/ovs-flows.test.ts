// The distributed router's flow text (routerFlows), without OVS: which flows a router spec compiles to, under the
// VNI's overlay cookie in table 30. agent/backends/linux-router.test.ts proves the same flows on a real switch.
import { describe, expect, it } from "vitest";
import { networkKey, overlayCookie, routerFlows, TABLE } from "./ovs-flows";

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
