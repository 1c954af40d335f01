// Address math for networking (pure, no database): parsing and validating VPC/subnet CIDRs, gateways and reserved
// ranges with messages a person can act on, usable-address arithmetic for IPAM, and interval <-> CIDR conversion the
// security-rule compiler uses to merge overlapping ranges. Addresses are handled as bigint so IPv4 and IPv6 share code.
import ipaddr from "ipaddr.js";

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Network address as an integer (host bits zero). */
  base: bigint;
  prefix: number;
}

/** An inclusive range of addresses of one family. */
export interface Interval {
  lo: bigint;
  hi: bigint;
}

export const bitsOf = (f: Family) => (f === 4 ? 32 : 128);

export function ipToBigInt(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let n = 0n;
  for (const b of addr.toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

export function bigIntToIp(n: bigint, family: Family): string {
  const len = family === 4 ? 4 : 16;
  const bytes: number[] = new Array(len);
  let v = n;
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Parses one address (no prefix). Returns null when it is not an address. IPv4-mapped IPv6 stays IPv6. */
export function parseAddress(text: string): { family: Family; value: bigint } | null {
  const t = text.trim();
  // Only the dotted-quad form for IPv4: ipaddr.js also accepts "10" or "0x0a.1", which nobody means in a form.
  const a = ipaddr.IPv4.isValidFourPartDecimal(t) ? ipaddr.IPv4.parse(t) : t.includes(":") && ipaddr.IPv6.isValid(t) ? ipaddr.IPv6.parse(t) : null;
  if (!a) return null;
  return { family: a.kind() === "ipv4" ? 4 : 6, value: ipToBigInt(a) };
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; reason: string };

/** Strict CIDR parse: "a.b.c.d/n" with host bits zero (the message says which network was meant). */
export function parseCidr(text: string): CidrParse {
  const t = text.trim();
  const m = /^([^/]+)\/(\d{1,3})$/.exec(t);
  if (!m) return { ok: false, reason: `"${t}" is not a CIDR (expected e.g. 10.0.0.0/16)` };
  const addr = parseAddress(m[1]!);
  if (!addr) return { ok: false, reason: `"${m[1]}" is not an IP address` };
  const prefix = Number(m[2]);
  const bits = bitsOf(addr.family);
  if (prefix > bits) return { ok: false, reason: `/${prefix} is longer than an IPv${addr.family} address (${bits} bits)` };
  const base = addr.value & maskOf(addr.family, prefix);
  if (base !== addr.value) return { ok: false, reason: `${t} has host bits set; the network is ${bigIntToIp(base, addr.family)}/${prefix}` };
  return { ok: true, cidr: { family: addr.family, base, prefix } };
}

export function maskOf(family: Family, prefix: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all << (bits - BigInt(prefix))) & all;
}

export function cidrToString(c: Cidr): string {
  return `${bigIntToIp(c.base, c.family)}/${c.prefix}`;
}

export function cidrInterval(c: Cidr): Interval {
  const size = 1n << BigInt(bitsOf(c.family) - c.prefix);
  return { lo: c.base, hi: c.base + size - 1n };
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bitsOf(c.family) - c.prefix);
}

export function cidrContainsAddress(c: Cidr, family: Family, value: bigint): boolean {
  if (family !== c.family) return false;
  const i = cidrInterval(c);
  return value >= i.lo && value <= i.hi;
}

/** True when `inner` lies entirely inside `outer` (equal counts as inside). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  return (inner.base & maskOf(outer.family, outer.prefix)) === outer.base;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

const PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((s) => (parseCidr(s) as { cidr: Cidr }).cidr);
// Never usable for a VPC, even when public ranges are allowed: this-network, loopback, link-local, multicast, reserved.
const FORBIDDEN_V4: [string, string][] = [
  ["0.0.0.0/8", "the 'this network' range"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
];
const ULA = (parseCidr("fc00::/7") as { cidr: Cidr }).cidr;

export const VPC_PREFIX = { min: 16, max: 28 } as const;
export const VPC_V6_PREFIX = { min: 48, max: 64 } as const;
export const SUBNET_PREFIX = { min: 16, max: 29 } as const;

export type Check<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A VPC's IPv4 range: /16–/28, RFC 1918 unless the tenant's policy allows public ranges, never special-purpose. */
export function checkVpcCidr(text: string, opts: { allowPublic?: boolean } = {}): Check<Cidr> {
  const p = parseCidr(text);
  if (!p.ok) return p;
  const c = p.cidr;
  if (c.family !== 4) return { ok: false, reason: "The VPC range must be IPv4 (add an IPv6 range in its own field)" };
  if (c.prefix < VPC_PREFIX.min || c.prefix > VPC_PREFIX.max)
    return { ok: false, reason: `A VPC range must be between /${VPC_PREFIX.min} and /${VPC_PREFIX.max} (got /${c.prefix})` };
  for (const [s, label] of FORBIDDEN_V4) {
    const f = (parseCidr(s) as { cidr: Cidr }).cidr;
    if (cidrsOverlap(f, c)) return { ok: false, reason: `${cidrToString(c)} overlaps ${s} (${label}), which cannot be used` };
  }
  if (!opts.allowPublic && !PRIVATE_V4.some((pv) => cidrContains(pv, c)))
    return {
      ok: false,
      reason: `${cidrToString(c)} is not a private range; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (public ranges need an operator's permission)`,
    };
  return { ok: true, value: c };
}

/** A VPC's optional IPv6 range: a unique local address (fc00::/7) prefix between /48 and /64. */
export function checkVpcIpv6Cidr(text: string): Check<Cidr> {
  const p = parseCidr(text);
  if (!p.ok) return p;
  const c = p.cidr;
  if (c.family !== 6) return { ok: false, reason: "The IPv6 range must be an IPv6 CIDR (e.g. fd12:3456:789a::/48)" };
  if (c.prefix < VPC_V6_PREFIX.min || c.prefix > VPC_V6_PREFIX.max)
    return { ok: false, reason: `An IPv6 VPC range must be between /${VPC_V6_PREFIX.min} and /${VPC_V6_PREFIX.max} (got /${c.prefix})` };
  if (!cidrContains(ULA, c)) return { ok: false, reason: `${cidrToString(c)} is not a unique local range (fc00::/7, e.g. fd00::/48)` };
  return { ok: true, value: c };
}

/** A subnet's IPv4 range: inside its VPC, /16–/29. Overlap with siblings is the database's exclusion constraint. */
export function checkSubnetCidr(text: string, vpcCidr: string): Check<Cidr> {
  const p = parseCidr(text);
  if (!p.ok) return p;
  const c = p.cidr;
  const vpc = parseCidr(vpcCidr);
  if (!vpc.ok) return { ok: false, reason: `The VPC's range ${vpcCidr} is unreadable` };
  if (c.family !== 4) return { ok: false, reason: "Subnets are IPv4 (e.g. 10.0.1.0/24)" };
  if (c.prefix < SUBNET_PREFIX.min || c.prefix > SUBNET_PREFIX.max)
    return { ok: false, reason: `A subnet must be between /${SUBNET_PREFIX.min} and /${SUBNET_PREFIX.max} (got /${c.prefix})` };
  if (!cidrContains(vpc.cidr, c)) return { ok: false, reason: `${cidrToString(c)} is not inside the VPC's range ${cidrToString(vpc.cidr)}` };
  return { ok: true, value: c };
}

/** The prefix of a subnet's IPv6 range: a /64, the size every IPv6 host stack expects of a link. */
export const SUBNET_V6_PREFIX = 64;

/** A subnet's optional IPv6 range: a /64 inside its VPC's IPv6 range (a VPC without one has none to give). Overlap
 *  with siblings is the database's exclusion constraint (subnets_ipv6_no_overlap). */
export function checkSubnetIpv6Cidr(text: string, vpcIpv6Cidr: string | null): Check<Cidr> {
  if (!vpcIpv6Cidr) return { ok: false, reason: "This VPC has no IPv6 range; give the VPC one before adding IPv6 to its subnets" };
  const p = parseCidr(text);
  if (!p.ok) return p;
  const c = p.cidr;
  const vpc = parseCidr(vpcIpv6Cidr);
  if (!vpc.ok) return { ok: false, reason: `The VPC's IPv6 range ${vpcIpv6Cidr} is unreadable` };
  if (c.family !== 6) return { ok: false, reason: `The IPv6 range must be an IPv6 /64 (e.g. ${exampleV6Subnet(vpc.cidr)})` };
  if (c.prefix !== SUBNET_V6_PREFIX) return { ok: false, reason: `A subnet's IPv6 range must be a /64 (got /${c.prefix})` };
  if (!cidrContains(vpc.cidr, c)) return { ok: false, reason: `${cidrToString(c)} is not inside the VPC's IPv6 range ${cidrToString(vpc.cidr)}` };
  return { ok: true, value: c };
}

/** The first /64 of a VPC's IPv6 range, as an example (the subnet form's placeholder says the same). */
export function exampleV6Subnet(vpc: Cidr): string {
  return cidrToString({ ...vpc, prefix: SUBNET_V6_PREFIX });
}

/** First and last addresses IPAM may hand out: the network and broadcast addresses are excluded (IPv4). */
export function usableInterval(c: Cidr): Interval {
  const i = cidrInterval(c);
  if (c.family === 4 && c.prefix <= 30) return { lo: i.lo + 1n, hi: i.hi - 1n };
  if (c.family === 6) return { lo: i.lo + 1n, hi: i.hi };
  return i;
}

export function defaultGateway(c: Cidr): string {
  return bigIntToIp(usableInterval(c).lo, c.family);
}

/** The gateway must be a usable address of the subnet (not its network or broadcast address). */
export function checkGateway(text: string, subnet: Cidr): Check<bigint> {
  const a = parseAddress(text);
  if (!a) return { ok: false, reason: `"${text}" is not an IP address` };
  const u = usableInterval(subnet);
  if (a.family !== subnet.family || a.value < u.lo || a.value > u.hi) {
    const i = cidrInterval(subnet);
    if (a.family === 6 && subnet.family === 6 && a.value === i.lo)
      return { ok: false, reason: `${text} is the subnet-router anycast address of ${cidrToString(subnet)}; pick another (e.g. its ::1)` };
    if (a.family === subnet.family && (a.value === i.lo || a.value === i.hi))
      return { ok: false, reason: `${text} is the subnet's ${a.value === i.lo ? "network" : "broadcast"} address; pick a usable one` };
    return { ok: false, reason: `${text} is not inside the subnet ${cidrToString(subnet)}` };
  }
  return { ok: true, value: a.value };
}

export interface ReservedRangeText {
  start: string;
  end: string;
}

/**
 * Reserved ranges: each inside the subnet's usable addresses, start ≤ end. Returns the intervals (merged, sorted)
 * or the first problem with the index of the offending range so the form can point at it.
 */
export function checkReservedRanges(ranges: ReservedRangeText[], subnet: Cidr): Check<Interval[]> | { ok: false; reason: string; index: number } {
  const u = usableInterval(subnet);
  const out: Interval[] = [];
  for (const [index, r] of ranges.entries()) {
    const s = parseAddress(r.start);
    const e = parseAddress(r.end || r.start);
    if (!s) return { ok: false, index, reason: `"${r.start}" is not an IP address` };
    if (!e) return { ok: false, index, reason: `"${r.end}" is not an IP address` };
    for (const [label, a] of [
      [r.start, s],
      [r.end || r.start, e],
    ] as const)
      if (a.family !== subnet.family || a.value < u.lo || a.value > u.hi)
        return { ok: false, index, reason: `Reserved address ${label} is not a usable address of ${cidrToString(subnet)}` };
    if (e.value < s.value) return { ok: false, index, reason: `Reserved range ${r.start}–${r.end} ends before it starts` };
    out.push({ lo: s.value, hi: e.value });
  }
  return { ok: true, value: mergeIntervals(out) };
}

/** Sorts and merges overlapping or adjacent intervals. */
export function mergeIntervals(list: Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.lo <= last.hi + 1n) {
      if (i.hi > last.hi) last.hi = i.hi;
    } else out.push({ ...i });
  }
  return out;
}

/** `a` minus `b` (both merged, sorted). */
export function subtractIntervals(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const i of a) {
    let lo = i.lo;
    for (const j of b) {
      if (j.hi < lo || j.lo > i.hi) continue;
      if (j.lo > lo) out.push({ lo, hi: j.lo - 1n });
      lo = j.hi + 1n;
      if (lo > i.hi) break;
    }
    if (lo <= i.hi) out.push({ lo, hi: i.hi });
  }
  return out;
}

/** The smallest list of CIDRs that covers exactly the interval (the classic range → prefix decomposition). */
export function intervalToCidrs(i: Interval, family: Family): Cidr[] {
  const bits = bitsOf(family);
  const out: Cidr[] = [];
  let lo = i.lo;
  while (lo <= i.hi) {
    // Largest aligned block starting at lo that does not pass hi.
    let size = lo === 0n ? 1n << BigInt(bits) : lo & -lo;
    while (lo + size - 1n > i.hi) size >>= 1n;
    let prefix = bits;
    for (let s = size; s > 1n; s >>= 1n) prefix--;
    out.push({ family, base: lo, prefix });
    lo += size;
  }
  return out;
}

/** Number of addresses in merged intervals. */
export function intervalsSize(list: Interval[]): bigint {
  return list.reduce((n, i) => n + (i.hi - i.lo + 1n), 0n);
}
