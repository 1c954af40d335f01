// Unit tests of the rule set schema and of the OpenFlow compiler's port-range decomposition and flow text.
import { describe, expect, it } from "vitest";
import { nicFlows } from "./backends/ovs-flows";
import { portRangeToMasks, RuleSetSchema } from "./rules";

describe("portRangeToMasks", () => {
  const covers = (min: number, max: number) => {
    const masks = portRangeToMasks(min, max);
    const hit = (p: number) => masks.filter((m) => (p & m.mask) === m.value).length;
    // Every port inside is matched exactly once, every port outside never.
    for (let p = Math.max(0, min - 40); p <= Math.min(65535, max + 40); p++) expect(hit(p), `port ${p}`).toBe(p >= min && p <= max ? 1 : 0);
    return masks;
  };
  it("decomposes ranges exactly", () => {
    expect(covers(22, 22)).toEqual([{ value: 22, mask: 0xffff }]);
    expect(covers(1, 65535)).toHaveLength(16);
    covers(1000, 1999);
    covers(8080, 8090);
    covers(65000, 65535);
    expect(covers(1024, 2047)).toEqual([{ value: 1024, mask: 0xfc00 }]);
  });
});

describe("RuleSetSchema", () => {
  it("accepts a typical set and rejects IPv6 overlap", () => {
    expect(
      RuleSetSchema.safeParse({ ingress: [{ id: "a", ethertype: "ipv6", protocol: "tcp", portMin: 443, cidr: "2001:db8::/32" }], egress: [] }).success,
    ).toBe(true);
    const r = RuleSetSchema.safeParse({
      ingress: [],
      egress: [
        { id: "a", ethertype: "ipv6", protocol: "any", cidr: "2001:db8::/32" },
        { id: "b", ethertype: "ipv6", protocol: "udp", portMin: 53, cidr: "2001:db8:1::/48" },
      ],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["egress", 1], params: { agentCode: "rule_overlap" } });
  });
});

describe("nicFlows", () => {
  it("compiles rules into conntrack flows on the NIC's zone and port", () => {
    const flows = nicFlows({
      id: 7,
      ofport: 1003,
      mac: "02:00:00:00:00:0a",
      netKey: 100,
      network: { type: "vlan", vlanId: 100, uplinkOfport: 1 },
      rules: {
        ingress: [{ id: "web", ethertype: "ipv4", protocol: "tcp", portMin: 80, portMax: 81, cidr: "10.0.0.0/8" }],
        egress: [{ id: "dns", ethertype: "ipv6", protocol: "udp", portMin: 53, cidr: "::/0" }],
      },
    });
    const text = flows.join("\n");
    expect(text).toContain("table=0,priority=100,in_port=1003,dl_src=02:00:00:00:00:0a actions=set_field:1003->reg5,set_field:100->reg7,resubmit(,10)");
    expect(text).toContain("table=0,priority=100,in_port=1,dl_vlan=100,dl_dst=02:00:00:00:00:0a actions=pop_vlan,set_field:1003->reg5,resubmit(,31)");
    expect(text).toContain(
      "table=32,priority=50,reg5=1003,ct_state=+trk+new-est-rel-inv,tcp,nw_src=10.0.0.0/8,tp_dst=0x50/0xfffe actions=ct(commit,zone=7),output:1003",
    );
    expect(text).toContain("table=11,priority=50,reg5=1003,ct_state=+trk+new-est-rel-inv,udp6,tp_dst=53 actions=ct(commit,zone=7),resubmit(,30)");
    expect(flows.every((f) => f.startsWith("cookie=0xa4e1000000000007,"))).toBe(true);
  });
});
