// Rule compiler tables: packets → allow/deny over the compiled RuleSet (the agent's semantics), the output always
// passing the agent's own RuleSetSchema (no overlaps), deterministic ids/order, and agreement with the source rules
// on many generated packets.
import { describe, expect, it } from "vitest";
import { RuleSetSchema } from "@/agent/rules";
import {
  type CompileInput,
  compileRules,
  compileRuleSet,
  type Packet,
  RuleCompileError,
  ruleSetAllows,
  type SourceRule,
  sourceRulesAllow,
} from "./rule-compiler";
import { sourceRule } from "@/test/source-rules";

// Web group: SSH from the office, HTTP(S) from anywhere, all egress; app group members may reach 8080-8090 and
// ICMP; a DB group reaches 5432 on this port; an overlapping wide rule (tcp 1-1024 from 10/8) forces merging.
const input: CompileInput = {
  rules: [
    sourceRule({ direction: "ingress", protocol: "tcp", portMin: 22, portMax: 22, remoteCidr: "203.0.113.0/24" }),
    sourceRule({ direction: "ingress", protocol: "tcp", portMin: 80, portMax: 80, remoteCidr: "0.0.0.0/0" }),
    sourceRule({ direction: "ingress", protocol: "tcp", portMin: 443, portMax: 443, remoteCidr: "0.0.0.0/0" }),
    sourceRule({ direction: "ingress", protocol: "tcp", portMin: 8080, portMax: 8090, remoteGroupId: "app" }),
    sourceRule({ direction: "ingress", protocol: "icmp", remoteGroupId: "app" }),
    sourceRule({ direction: "ingress", protocol: "tcp", portMin: 1, portMax: 1024, remoteCidr: "10.0.0.0/8" }),
    sourceRule({ direction: "ingress", protocol: "tcp", portMin: 5432, portMax: 5432, remoteGroupId: "db" }),
    sourceRule({ direction: "ingress", protocol: "udp", portMin: 53, portMax: 53, remoteCidr: "10.0.0.0/8" }),
    sourceRule({ direction: "ingress", protocol: "any", remoteCidr: "10.0.9.0/24" }),
    sourceRule({ direction: "egress", protocol: "any", remoteCidr: "0.0.0.0/0" }),
    sourceRule({ direction: "egress", protocol: "tcp", portMin: 443, portMax: 443, remoteCidr: "0.0.0.0/0" }),
    sourceRule({ direction: "egress", ethertype: "ipv6", protocol: "any", remoteCidr: "::/0" }),
    sourceRule({ direction: "ingress", ethertype: "ipv6", protocol: "tcp", portMin: 22, remoteCidr: "fd00::/48" }),
    sourceRule({ direction: "ingress", ethertype: "ipv6", protocol: "tcp", portMin: 22, remoteGroupId: "app" }),
  ],
  groupMembers: { app: ["10.0.1.10", "10.0.1.11", "192.168.5.7", "fd00:1::5"], db: ["10.0.2.20/32", "172.16.0.9"] },
};

describe("compiled rule set: packet table", () => {
  const set = compileRuleSet(input);
  const table: [Packet, boolean][] = [
    [{ direction: "ingress", protocol: "tcp", port: 22, remote: "203.0.113.77" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 22, remote: "198.51.100.1" }, false],
    [{ direction: "ingress", protocol: "tcp", port: 23, remote: "203.0.113.77" }, false],
    [{ direction: "ingress", protocol: "tcp", port: 80, remote: "8.8.8.8" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 443, remote: "1.1.1.1" }, true],
    [{ direction: "ingress", protocol: "udp", port: 443, remote: "1.1.1.1" }, false],
    // remote group members, port range edges
    [{ direction: "ingress", protocol: "tcp", port: 8080, remote: "192.168.5.7" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 8090, remote: "10.0.1.11" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 8091, remote: "10.0.1.11" }, false],
    [{ direction: "ingress", protocol: "tcp", port: 8079, remote: "192.168.5.7" }, false],
    [{ direction: "ingress", protocol: "tcp", port: 8080, remote: "192.168.5.8" }, false],
    [{ direction: "ingress", protocol: "icmp", remote: "10.0.1.10" }, true],
    [{ direction: "ingress", protocol: "icmp", remote: "10.0.1.12" }, false],
    [{ direction: "ingress", protocol: "tcp", port: 5432, remote: "172.16.0.9" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 5432, remote: "172.16.0.10" }, false],
    // the wide rule and its merge with narrower ones
    [{ direction: "ingress", protocol: "tcp", port: 1024, remote: "10.200.0.1" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 1025, remote: "10.200.0.1" }, false],
    [{ direction: "ingress", protocol: "tcp", port: 8085, remote: "10.0.1.10" }, true],
    [{ direction: "ingress", protocol: "udp", port: 53, remote: "10.3.3.3" }, true],
    [{ direction: "ingress", protocol: "udp", port: 54, remote: "10.3.3.3" }, false],
    // "any" from 10.0.9.0/24 covers every protocol and port, including non-tcp/udp/icmp
    [{ direction: "ingress", protocol: "other", remote: "10.0.9.9" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 65535, remote: "10.0.9.9" }, true],
    [{ direction: "ingress", protocol: "other", remote: "10.0.8.9" }, false],
    [{ direction: "egress", protocol: "udp", port: 123, remote: "8.8.8.8" }, true],
    [{ direction: "egress", protocol: "tcp", port: 22, remote: "fd00:9::1" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 22, remote: "fd00:0:0:1::9" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 22, remote: "fd00:1::5" }, true],
    [{ direction: "ingress", protocol: "tcp", port: 22, remote: "fd01::1" }, false],
    [{ direction: "ingress", protocol: "tcp", port: 80, remote: "fd00::1" }, false],
  ];
  it.each(table)("%j → %s", (pkt, allowed) => {
    expect(ruleSetAllows(set, pkt)).toBe(allowed);
    expect(sourceRulesAllow(input, pkt)).toBe(allowed);
  });

  it("validates with the agent's schema: no overlaps, no duplicates", () => {
    expect(RuleSetSchema.safeParse(set).success).toBe(true);
  });

  it("merges: egress any 0.0.0.0/0 swallows the tcp 443 egress rule", () => {
    expect(set.egress.filter((r) => r.ethertype === "ipv4")).toEqual([{ id: "out:ipv4:any:0.0.0.0/0", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }]);
  });

  it("is deterministic: shuffled input, same output (ids and order)", () => {
    const shuffled: CompileInput = { ...input, rules: [...input.rules].reverse() };
    expect(JSON.stringify(compileRuleSet(shuffled))).toBe(JSON.stringify(set));
  });

  it("names the source rules of each output rule", () => {
    const { sources } = compileRules(input);
    const ssh = Object.entries(sources).find(([id]) => id === "in:ipv4:tcp:22-22:203.0.113.0/24");
    expect(ssh?.[1]).toEqual([input.rules[0]!.id]);
  });
});

describe("agreement with the source rules on generated packets", () => {
  // A tiny deterministic PRNG so a failure reproduces.
  let seed = 42;
  const rnd = (k: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const addr = () => `10.${rnd(3)}.${rnd(4)}.${rnd(8)}`;
  const cidrs = ["10.0.0.0/8", "10.1.0.0/16", "10.0.2.0/24", "10.0.2.4/30", "10.2.3.0/29", "0.0.0.0/0", "10.0.0.0/15"];
  const protos = ["tcp", "udp", "icmp", "any"] as const;

  it.each(Array.from({ length: 20 }, (_, i) => i))("random rule set #%i", () => {
    const rules: SourceRule[] = [];
    const count = 2 + rnd(10);
    for (let i = 0; i < count; i++) {
      const protocol = protos[rnd(4)]!;
      const ranged = protocol === "tcp" || protocol === "udp";
      const lo = 1 + rnd(40);
      rules.push(
        sourceRule({
          direction: rnd(2) ? "ingress" : "egress",
          protocol: rnd(5) === 0 ? "any" : protocol,
          portMin: ranged && rnd(4) ? lo : null,
          portMax: ranged && rnd(4) ? lo + rnd(20) : null,
          remoteCidr: rnd(3) ? cidrs[rnd(cidrs.length)]! : null,
          remoteGroupId: null,
        }),
      );
      const r = rules[rules.length - 1]!;
      if (r.protocol !== "tcp" && r.protocol !== "udp") Object.assign(r, { portMin: null, portMax: null });
      if (r.portMin === null) r.portMax = null;
      if (r.remoteCidr === null) r.remoteGroupId = "g";
    }
    const inp: CompileInput = { rules, groupMembers: { g: [addr(), addr(), addr()] } };
    const set = compileRuleSet(inp);
    expect(RuleSetSchema.safeParse(set).success).toBe(true);
    for (let k = 0; k < 300; k++) {
      const protocol = (["tcp", "udp", "icmp", "other"] as const)[rnd(4)]!;
      const pkt: Packet = {
        direction: rnd(2) ? "ingress" : "egress",
        protocol,
        port: protocol === "tcp" || protocol === "udp" ? 1 + rnd(70) : undefined,
        remote: rnd(10) ? addr() : `192.168.${rnd(2)}.1`,
      };
      expect(ruleSetAllows(set, pkt), JSON.stringify({ pkt, rules: inp.rules, set })).toBe(sourceRulesAllow(inp, pkt));
    }
  });
});

describe("edge cases", () => {
  it("no rules → deny everything", () => {
    expect(compileRuleSet({ rules: [], groupMembers: {} })).toEqual({ ingress: [], egress: [] });
  });
  it("a remote group with no members contributes nothing", () => {
    expect(compileRuleSet({ rules: [sourceRule({ direction: "ingress", remoteGroupId: "empty" })], groupMembers: {} }).ingress).toEqual([]);
  });
  it("refuses malformed source rules clearly", () => {
    expect(() =>
      compileRuleSet({ rules: [sourceRule({ direction: "ingress", protocol: "tcp", portMin: 30, portMax: 20, remoteCidr: "0.0.0.0/0" })], groupMembers: {} }),
    ).toThrow(RuleCompileError);
    expect(() => compileRuleSet({ rules: [sourceRule({ direction: "ingress", remoteCidr: "fd00::/8" })], groupMembers: {} })).toThrow(/not an ipv4 range/);
  });
  it("refuses a rule set larger than the agent accepts, with the count", () => {
    // 1100 members spread so they do not coalesce into a few CIDRs.
    const spread = Array.from({ length: 1100 }, (_, i) => `10.${i % 200}.${Math.floor(i / 200) * 2}.1`);
    expect(() => compileRuleSet({ rules: [sourceRule({ direction: "ingress", remoteGroupId: "big" })], groupMembers: { big: spread } })).toThrow(
      /compile to 1100 ingress rules/,
    );
  });
});
