// Security rules as the agent receives them: the exact shape Anvil's security-group compiler emits for one port.
// Semantics (stateful, like Neutron's OVS firewall): a new connection is allowed only when a listed rule of its
// direction matches; packets of established/related connections pass both ways; everything else is dropped.
// Remote security groups are already expanded into CIDRs by the compiler. Rules in one direction must not overlap:
// the compiler merges them, so an overlap means a compiler bug and is refused, naming both rule ids.
import ipaddr from "ipaddr.js";
import { z } from "zod";

export const MAX_RULES_PER_DIRECTION = 1024;

export const RuleSchema = z
  .object({
    /** Stable id from Anvil (security-group rule id, or rule id + expanded remote member); used in error messages. */
    id: z.string().min(1).max(128),
    ethertype: z.enum(["ipv4", "ipv6"]),
    protocol: z.enum(["tcp", "udp", "icmp", "any"]),
    /** Destination port range (tcp/udp only). portMin alone means one port; neither means all ports. */
    portMin: z.int().min(1).max(65535).optional(),
    portMax: z.int().min(1).max(65535).optional(),
    /** Remote address range: source for ingress, destination for egress. Host bits must be zero. */
    cidr: z.string().min(1).max(64),
  })
  .strict();

export type Rule = z.infer<typeof RuleSchema>;

type Direction = "ingress" | "egress";

interface ParsedRule {
  rule: Rule;
  index: number;
  network: ipaddr.IPv4 | ipaddr.IPv6;
  prefix: number;
  portMin: number;
  portMax: number;
}

/** Issue codes the agent turns into `error.code` (see errors.ts fromZodError). */
function issue(ctx: z.RefinementCtx, agentCode: string, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: "custom", message, path, params: { agentCode } });
}

function summarize(r: ParsedRule): string {
  const ports = r.rule.protocol === "tcp" || r.rule.protocol === "udp" ? ` ports ${r.portMin}-${r.portMax}` : "";
  return `${r.rule.ethertype} ${r.rule.protocol}${ports} ${r.rule.cidr}`;
}

/**
 * The CIDR parsed as the rule's ethertype says, else as whatever it is (the caller names the mismatch). ipaddr's own
 * parseCIDR tries IPv6 first and throws on every IPv4 CIDR, which made validating a DPU's thousand rules slow.
 */
function parseCidrAs(cidr: string, ethertype: Rule["ethertype"]): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  try {
    return ethertype === "ipv4" ? ipaddr.IPv4.parseCIDR(cidr) : ipaddr.IPv6.parseCIDR(cidr);
  } catch {
    return ipaddr.parseCIDR(cidr);
  }
}

function checkDirection(rules: Rule[], direction: Direction, ctx: z.RefinementCtx): void {
  const parsed: ParsedRule[] = [];
  const ids = new Map<string, number>();
  rules.forEach((rule, index) => {
    const at = [direction, index];
    const seen = ids.get(rule.id);
    if (seen !== undefined) {
      issue(ctx, "rule_duplicate_id", [...at, "id"], `rule id "${rule.id}" is used twice (${direction}[${seen}] and ${direction}[${index}])`);
      return;
    }
    ids.set(rule.id, index);
    const hasPorts = rule.portMin !== undefined || rule.portMax !== undefined;
    if (hasPorts && (rule.protocol === "icmp" || rule.protocol === "any")) {
      issue(
        ctx,
        "rule_invalid_ports",
        [...at, rule.portMin !== undefined ? "portMin" : "portMax"],
        `rule "${rule.id}": ports are only allowed with protocol tcp or udp, not ${rule.protocol}`,
      );
      return;
    }
    if (rule.portMax !== undefined && rule.portMin === undefined) {
      issue(ctx, "rule_invalid_ports", [...at, "portMin"], `rule "${rule.id}": portMax needs portMin`);
      return;
    }
    if (rule.portMin !== undefined && rule.portMax !== undefined && rule.portMin > rule.portMax) {
      issue(ctx, "rule_invalid_ports", [...at, "portMax"], `rule "${rule.id}": portMin ${rule.portMin} is greater than portMax ${rule.portMax}`);
      return;
    }
    let network: ipaddr.IPv4 | ipaddr.IPv6;
    let prefix: number;
    try {
      [network, prefix] = parseCidrAs(rule.cidr, rule.ethertype);
    } catch {
      issue(ctx, "rule_invalid_cidr", [...at, "cidr"], `rule "${rule.id}": "${rule.cidr}" is not a CIDR (expected e.g. 10.0.0.0/24 or 2001:db8::/64)`);
      return;
    }
    if (network.kind() !== rule.ethertype) {
      issue(ctx, "rule_invalid_cidr", [...at, "cidr"], `rule "${rule.id}": ${rule.cidr} is an ${network.kind()} range but ethertype is ${rule.ethertype}`);
      return;
    }
    const base = network.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(rule.cidr) : ipaddr.IPv6.networkAddressFromCIDR(rule.cidr);
    if (base.toString() !== network.toString()) {
      issue(ctx, "rule_invalid_cidr", [...at, "cidr"], `rule "${rule.id}": ${rule.cidr} has host bits set; use ${base.toString()}/${prefix}`);
      return;
    }
    const ranged = rule.protocol === "tcp" || rule.protocol === "udp";
    const portMin = ranged ? (rule.portMin ?? 1) : 0;
    const portMax = ranged ? (rule.portMax ?? rule.portMin ?? 65535) : 65535;
    parsed.push({ rule, index, network, prefix, portMin, portMax });
  });

  // Pairwise overlap check; rule sets are small (capped), and naming both rules is worth the O(n²).
  for (let i = 0; i < parsed.length; i++) {
    const a = parsed[i];
    for (let j = i + 1; j < parsed.length; j++) {
      const b = parsed[j];
      if (a.rule.ethertype !== b.rule.ethertype) continue;
      if (a.rule.protocol !== b.rule.protocol && a.rule.protocol !== "any" && b.rule.protocol !== "any") continue;
      if (a.portMax < b.portMin || b.portMax < a.portMin) continue;
      const bits = Math.min(a.prefix, b.prefix);
      if (!a.network.match(b.network as never, bits)) continue;
      const same = a.rule.protocol === b.rule.protocol && a.portMin === b.portMin && a.portMax === b.portMax && a.prefix === b.prefix;
      if (same) {
        issue(ctx, "rule_duplicate", [direction, b.index], `${direction} rules "${a.rule.id}" and "${b.rule.id}" are duplicates (${summarize(a)})`);
      } else {
        issue(
          ctx,
          "rule_overlap",
          [direction, b.index],
          `${direction} rules "${a.rule.id}" (${summarize(a)}) and "${b.rule.id}" (${summarize(b)}) overlap; merge them into one`,
        );
      }
      return;
    }
  }
}

export const RuleSetSchema = z
  .object({
    ingress: z.array(RuleSchema).max(MAX_RULES_PER_DIRECTION),
    egress: z.array(RuleSchema).max(MAX_RULES_PER_DIRECTION),
  })
  .strict()
  .superRefine((set, ctx) => {
    checkDirection(set.ingress, "ingress", ctx);
    checkDirection(set.egress, "egress", ctx);
  });

export type RuleSet = z.infer<typeof RuleSetSchema>;

/** The empty rule set: nothing new allowed in or out (established traffic of nothing is nothing). */
export const DENY_ALL: RuleSet = { ingress: [], egress: [] };

/**
 * Splits an inclusive port range into value/mask pairs that OpenFlow can match (tp_dst=value/mask),
 * the same decomposition Neutron's OVS firewall uses. 1-65535 gives 16 masks, a single port gives one.
 */
export function portRangeToMasks(min: number, max: number): { value: number; mask: number }[] {
  const out: { value: number; mask: number }[] = [];
  let start = min;
  while (start <= max) {
    // Largest aligned block starting at `start` that does not pass `max`.
    let size = start === 0 ? 0x10000 : start & -start;
    while (start + size - 1 > max) size >>= 1;
    out.push({ value: start, mask: 0xffff & ~(size - 1) });
    start += size;
  }
  return out;
}
