// The security-group rule compiler: turns the rules of a port's security groups into the DPU agent's RuleSet
// (agent/rules.ts). Remote groups are expanded into their member ports' addresses (/32, /128); then, per direction and
// ethertype, the allowed space (protocol × destination port × remote address) is rebuilt as NON-overlapping rules,
// because the agent refuses overlaps within a direction. Output order and ids are deterministic (derived from the
// content), so compiling the same groups twice gives byte-identical rule sets and an unchanged set is a no-op PUT.
//
// Merge method: addresses are sets of intervals. "any" protocol rules form one address set A. ICMP becomes its
// address union minus A. For TCP/UDP the port axis is cut at every rule's boundaries into elementary port intervals;
// each gets the union of addresses of the rules covering it (minus A); neighbouring port intervals with equal address
// sets are joined; each (port interval, address set) pair becomes one rule per CIDR of the set's minimal cover.
import { eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { errorBrand, hasBrand, setBrand } from "@/server/lib/brand";
import { ipAllocations, portSecurityGroups, ports, securityGroupRules } from "@/db/schema";
import { MAX_RULES_PER_DIRECTION, type Rule, type RuleSet, RuleSetSchema } from "@/agent/rules";
import {
  type Cidr,
  cidrInterval,
  cidrToString,
  type Family,
  type Interval,
  intervalToCidrs,
  mergeIntervals,
  parseAddress,
  parseCidr,
  subtractIntervals,
} from "@/domain/cidr";

export type Direction = "ingress" | "egress";
export type Ethertype = "ipv4" | "ipv6";
export type Protocol = "tcp" | "udp" | "icmp" | "any";

/** One security-group rule as stored (remote CIDR xor remote group). */
export interface SourceRule {
  id: string;
  direction: Direction;
  ethertype: Ethertype;
  protocol: Protocol;
  portMin: number | null;
  portMax: number | null;
  remoteCidr: string | null;
  remoteGroupId: string | null;
}

export interface CompileInput {
  /** Every rule of every group attached to the port. */
  rules: SourceRule[];
  /** Member addresses (host addresses, no prefix) of each group named as a remote group. */
  groupMembers: Record<string, string[]>;
}

export interface Compiled {
  ruleSet: RuleSet;
  /** For each output rule id, the source rule ids it came from (for "why is this open?" answers). */
  sources: Record<string, string[]>;
}

export class RuleCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuleCompileError";
    setBrand(this, RULE_COMPILE_ERROR);
  }
}

const RULE_COMPILE_ERROR = errorBrand("RuleCompileError");
/** Whether `e` is a RuleCompileError from any copy of this module (see server/lib/brand.ts). */
export function isRuleCompileError(e: unknown): e is RuleCompileError {
  return hasBrand(e, RULE_COMPILE_ERROR);
}

const famOf = (e: Ethertype): Family => (e === "ipv4" ? 4 : 6);

interface Expanded {
  ruleId: string;
  protocol: Protocol;
  portMin: number;
  portMax: number;
  interval: Interval;
}

/** A source rule's remote addresses, as intervals of the rule's family (remote groups expanded). */
function remoteIntervals(r: SourceRule, members: Record<string, string[]>): Interval[] {
  const fam = famOf(r.ethertype);
  if (r.remoteCidr !== null) {
    const p = parseCidr(r.remoteCidr);
    if (!p.ok) throw new RuleCompileError(`rule ${r.id}: ${p.reason}`);
    if (p.cidr.family !== fam) throw new RuleCompileError(`rule ${r.id}: ${r.remoteCidr} is not an ${r.ethertype} range`);
    return [cidrInterval(p.cidr)];
  }
  if (r.remoteGroupId !== null) {
    const out: Interval[] = [];
    for (const a of members[r.remoteGroupId] ?? []) {
      const p = parseAddress(a.replace(/\/\d+$/, ""));
      if (p && p.family === fam) out.push({ lo: p.value, hi: p.value });
    }
    return out;
  }
  throw new RuleCompileError(`rule ${r.id}: neither a remote CIDR nor a remote group`);
}

function expand(rules: SourceRule[], members: Record<string, string[]>): Expanded[] {
  const out: Expanded[] = [];
  for (const r of rules) {
    const ranged = r.protocol === "tcp" || r.protocol === "udp";
    if (!ranged && (r.portMin !== null || r.portMax !== null)) throw new RuleCompileError(`rule ${r.id}: ports need tcp or udp`);
    const portMin = ranged ? (r.portMin ?? 1) : 0;
    const portMax = ranged ? (r.portMax ?? (r.portMin !== null ? r.portMin : 65535)) : 65535;
    if (ranged && (portMin < 1 || portMax > 65535 || portMin > portMax))
      throw new RuleCompileError(`rule ${r.id}: port range ${portMin}-${portMax} is out of order or out of 1-65535`);
    for (const interval of remoteIntervals(r, members)) out.push({ ruleId: r.id, protocol: r.protocol, portMin, portMax, interval });
  }
  return out;
}

const key = (list: Interval[]) => list.map((i) => `${i.lo}-${i.hi}`).join(",");

interface Piece {
  protocol: Protocol;
  portMin?: number;
  portMax?: number;
  intervals: Interval[];
  /** Expanded source items that contributed (narrowed to each output CIDR when naming sources). */
  from: Expanded[];
}

function compileFamily(items: Expanded[]): Piece[] {
  const pieces: Piece[] = [];
  const anyItems = items.filter((i) => i.protocol === "any");
  const anySet = mergeIntervals(anyItems.map((i) => i.interval));
  if (anySet.length) pieces.push({ protocol: "any", intervals: anySet, from: anyItems });

  const icmp = items.filter((i) => i.protocol === "icmp");
  const icmpSet = subtractIntervals(mergeIntervals(icmp.map((i) => i.interval)), anySet);
  if (icmpSet.length) pieces.push({ protocol: "icmp", intervals: icmpSet, from: icmp });

  for (const proto of ["tcp", "udp"] as const) {
    const list = items.filter((i) => i.protocol === proto);
    if (!list.length) continue;
    const cuts = new Set<number>();
    for (const i of list) {
      cuts.add(i.portMin);
      cuts.add(i.portMax + 1);
    }
    const bounds = [...cuts].sort((a, b) => a - b);
    let open: Piece | undefined;
    let openKey = "";
    for (let b = 0; b < bounds.length - 1; b++) {
      const lo = bounds[b]!;
      const hi = bounds[b + 1]! - 1;
      const covering = list.filter((i) => i.portMin <= lo && i.portMax >= hi);
      const set = subtractIntervals(mergeIntervals(covering.map((i) => i.interval)), anySet);
      const k = key(set);
      if (open && k === openKey && open.portMax === lo - 1) {
        open.portMax = hi;
        open.from.push(...covering);
        continue;
      }
      if (open) pieces.push(open);
      open = undefined;
      if (set.length) {
        open = { protocol: proto, portMin: lo, portMax: hi, intervals: set, from: [...covering] };
        openKey = k;
      }
    }
    if (open) pieces.push(open);
  }
  return pieces;
}

const PROTO_ORDER: Record<Protocol, number> = { any: 0, icmp: 1, tcp: 2, udp: 3 };

/** Compiles with provenance. Throws RuleCompileError on a malformed source rule or a set larger than the agent takes. */
export function compileRules(input: CompileInput): Compiled {
  const ruleSet: RuleSet = { ingress: [], egress: [] };
  const sources: Record<string, string[]> = {};
  for (const direction of ["ingress", "egress"] as const) {
    const out: { rule: Rule; sort: [number, number, number, bigint] }[] = [];
    for (const ethertype of ["ipv4", "ipv6"] as const) {
      const fam = famOf(ethertype);
      const rules = input.rules.filter((r) => r.direction === direction && r.ethertype === ethertype);
      for (const p of compileFamily(expand(rules, input.groupMembers))) {
        for (const iv of p.intervals)
          for (const c of intervalToCidrs(iv, fam)) {
            const cidr = cidrToString(c);
            const ports = p.portMin !== undefined ? `:${p.portMin}-${p.portMax}` : "";
            const id = `${direction === "ingress" ? "in" : "out"}:${ethertype}:${p.protocol}${ports}:${cidr}`;
            const rule: Rule = { id, ethertype, protocol: p.protocol, cidr };
            if (p.portMin !== undefined) {
              rule.portMin = p.portMin;
              rule.portMax = p.portMax;
            }
            out.push({ rule, sort: [fam, PROTO_ORDER[p.protocol], p.portMin ?? 0, c.base] });
            const ci = cidrInterval(c);
            sources[id] = [...new Set(p.from.filter((f) => f.interval.lo <= ci.hi && f.interval.hi >= ci.lo).map((f) => f.ruleId))].sort();
          }
      }
    }
    out.sort((a, b) => {
      for (let i = 0; i < 4; i++) if (a.sort[i] !== b.sort[i]) return a.sort[i]! < b.sort[i]! ? -1 : 1;
      return 0;
    });
    if (out.length > MAX_RULES_PER_DIRECTION)
      throw new RuleCompileError(
        `The port's security groups compile to ${out.length} ${direction} rules; a DPU takes at most ${MAX_RULES_PER_DIRECTION}. Use wider CIDRs or fewer remote-group members.`,
      );
    ruleSet[direction] = out.map((o) => o.rule);
  }
  // The output is validated by the very schema the agent uses; a failure here is a compiler bug, not bad input.
  const check = RuleSetSchema.safeParse(ruleSet);
  if (!check.success) throw new Error(`rule compiler produced an invalid rule set: ${check.error.issues[0]?.message}`);
  return { ruleSet, sources };
}

/** Compiles a port's groups into the agent's RuleSet. */
export function compileRuleSet(input: CompileInput): RuleSet {
  return compileRules(input).ruleSet;
}

/** A packet that would open a new connection, seen from the port: `remote` is the source (ingress) or destination (egress). */
export interface Packet {
  direction: Direction;
  /** IP protocol; anything other than tcp/udp/icmp (e.g. "gre") only matches protocol "any". */
  protocol: "tcp" | "udp" | "icmp" | "other";
  /** Destination port (tcp/udp). */
  port?: number;
  remote: string;
}

function cidrHas(c: Cidr, fam: Family, v: bigint): boolean {
  const i = cidrInterval(c);
  return c.family === fam && v >= i.lo && v <= i.hi;
}

/** The agent's semantics over a compiled RuleSet: a new connection passes when some rule of its direction matches. */
export function ruleSetAllows(set: RuleSet, pkt: Packet): boolean {
  const a = parseAddress(pkt.remote);
  if (!a) throw new Error(`not an address: ${pkt.remote}`);
  return set[pkt.direction].some((r) => {
    if (r.ethertype !== (a.family === 4 ? "ipv4" : "ipv6")) return false;
    if (r.protocol !== "any" && r.protocol !== pkt.protocol) return false;
    if ((r.protocol === "tcp" || r.protocol === "udp") && r.portMin !== undefined) {
      const max = r.portMax ?? r.portMin;
      if (pkt.port === undefined || pkt.port < r.portMin || pkt.port > max) return false;
    }
    const p = parseCidr(r.cidr);
    return p.ok && cidrHas(p.cidr, a.family, a.value);
  });
}

/** The same question asked of the uncompiled source rules (the specification the compiled set must agree with). */
export function sourceRulesAllow(input: CompileInput, pkt: Packet): boolean {
  const a = parseAddress(pkt.remote);
  if (!a) throw new Error(`not an address: ${pkt.remote}`);
  return input.rules.some((r) => {
    if (r.direction !== pkt.direction || famOf(r.ethertype) !== a.family) return false;
    if (r.protocol !== "any" && r.protocol !== pkt.protocol) return false;
    if (r.protocol === "tcp" || r.protocol === "udp") {
      const lo = r.portMin ?? 1;
      const hi = r.portMax ?? r.portMin ?? 65535;
      if (pkt.port === undefined || pkt.port < lo || pkt.port > hi) return false;
    }
    if (r.remoteCidr !== null) {
      const p = parseCidr(r.remoteCidr);
      return p.ok && cidrHas(p.cidr, a.family, a.value);
    }
    return (input.groupMembers[r.remoteGroupId ?? ""] ?? []).some((m) => {
      const x = parseAddress(m.replace(/\/\d+$/, ""));
      return x !== null && x.family === a.family && x.value === a.value;
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Loading from the database: which ports a group change reaches, and a port's compile input.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Ports whose compiled rules depend on the group: ports it is attached to, and ports attached to any group whose
 * rules name it as a remote group (its membership is their address list).
 */
export async function portsAffectedByGroup(db: Db | Tx, groupId: string): Promise<string[]> {
  const rows = await db.execute<{ port_id: string }>(sql`${portsAffectedByGroupSql(groupId)} order by 1`);
  return rows.rows.map((r) => r.port_id);
}

/** The same ports as a subquery (one column, port_id), for a statement that works on them in the database: a group of
 *  a thousand ports then costs one statement instead of a thousand ids sent back and forth. */
export function portsAffectedByGroupSql(groupId: string): SQL {
  return sql`
    select psg.port_id from ${portSecurityGroups} psg where psg.group_id = ${groupId}
    union
    select psg.port_id from ${portSecurityGroups} psg
      join ${securityGroupRules} r on r.group_id = psg.group_id
     where r.remote_group_id = ${groupId}`;
}

/**
 * A port joins or leaves (with its address) every group it is in: the rules of other ports that name one of those
 * groups as a remote group change, so their desired version moves (the reconciler pushes them; `extra` ports too).
 * Call it in the transaction that creates the port with its groups and address, or before the one that deletes it.
 */
export async function bumpGroupPeers(db: Db | Tx, portIds: string[], extra: string[] = []): Promise<void> {
  const affected = new Set<string>(extra);
  if (portIds.length) {
    const groups = await db.selectDistinct({ g: portSecurityGroups.groupId }).from(portSecurityGroups).where(inArray(portSecurityGroups.portId, portIds));
    for (const { g } of groups) for (const p of await portsAffectedByGroup(db, g)) if (!portIds.includes(p)) affected.add(p);
  }
  await bumpRulesVersion(db, [...affected]);
}

/** Marks ports' rule sets as changed (provisioning pushes rules to the DPU agent when the version moved); the ports by
 *  id or as a subquery of port ids. Returns how many ports that was. */
export async function bumpRulesVersion(db: Db | Tx, portIds: string[] | SQL): Promise<number> {
  if (Array.isArray(portIds) && !portIds.length) return 0;
  const r = await db
    .update(ports)
    .set({ rulesVersion: sql`${ports.rulesVersion} + 1` })
    .where(Array.isArray(portIds) ? inArray(ports.id, portIds) : sql`${ports.id} in (${portIds})`);
  return r.rowCount ?? 0;
}

/** Everything the compiler needs for one port: its groups' rules and the addresses of every remote group named. */
export async function loadCompileInput(db: Db | Tx, portId: string): Promise<CompileInput> {
  const rules = await db
    .select({
      id: securityGroupRules.id,
      direction: securityGroupRules.direction,
      ethertype: securityGroupRules.ethertype,
      protocol: securityGroupRules.protocol,
      portMin: securityGroupRules.portMin,
      portMax: securityGroupRules.portMax,
      remoteCidr: securityGroupRules.remoteCidr,
      remoteGroupId: securityGroupRules.remoteGroupId,
    })
    .from(securityGroupRules)
    .innerJoin(portSecurityGroups, eq(portSecurityGroups.groupId, securityGroupRules.groupId))
    .where(eq(portSecurityGroups.portId, portId));
  const remoteIds = [...new Set(rules.map((r) => r.remoteGroupId).filter((g): g is string => g !== null))];
  const groupMembers: Record<string, string[]> = {};
  if (remoteIds.length) {
    const members = await db
      .select({ groupId: portSecurityGroups.groupId, address: sql<string>`host(${ipAllocations.address})` })
      .from(portSecurityGroups)
      .innerJoin(ipAllocations, eq(ipAllocations.portId, portSecurityGroups.portId))
      .where(inArray(portSecurityGroups.groupId, remoteIds));
    for (const m of members) {
      groupMembers[m.groupId] ??= [];
      groupMembers[m.groupId]!.push(m.address);
    }
  }
  return { rules, groupMembers };
}
