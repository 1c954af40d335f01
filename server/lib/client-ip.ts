// The client's address, as rate limiting and audit see it. server/front-door.ts sets CLIENT_IP_HEADER on every
// request (any client-sent value is overwritten) from the socket's peer — or, when that peer is one of the
// configured trusted proxies (ANVIL_TRUSTED_PROXIES, CIDR list), from X-Forwarded-For read right to left,
// skipping trusted hops. Without a list, X-Forwarded-For is ignored: anyone could write it.
import ipaddr from "ipaddr.js";

export const CLIENT_IP_HEADER = "x-anvil-client-ip";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface TrustedProxies {
  ranges: Range[];
}

/** Parses "10.0.0.0/8, 192.168.1.5 ::1" (commas or spaces; a bare address is a /32 or /128). Throws on junk. */
export function parseTrustedProxies(spec: string): TrustedProxies {
  const ranges: Range[] = [];
  for (const item of spec.split(/[\s,]+/).filter(Boolean)) {
    try {
      if (item.includes("/")) {
        const [addr, bits] = ipaddr.parseCIDR(item);
        ranges.push([addr, bits]);
        // An IPv4 range also covers the IPv4-mapped IPv6 form a dual-stack socket reports.
        if (addr.kind() === "ipv4") ranges.push([(addr as ipaddr.IPv4).toIPv4MappedAddress(), bits + 96]);
      } else {
        const addr = ipaddr.process(item);
        ranges.push([addr, addr.kind() === "ipv4" ? 32 : 128]);
      }
    } catch {
      throw new Error(`ANVIL_TRUSTED_PROXIES: "${item}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.168.1.5, fd00::/8)`);
    }
  }
  return { ranges };
}

const cache = new Map<string, TrustedProxies>();

/** The trusted proxies from ANVIL_TRUSTED_PROXIES (empty when unset). */
export function trustedProxiesFromEnv(): TrustedProxies {
  const spec = process.env.ANVIL_TRUSTED_PROXIES ?? "";
  let t = cache.get(spec);
  if (!t) {
    t = parseTrustedProxies(spec);
    cache.set(spec, t);
  }
  return t;
}

/** A normalized address ("::ffff:10.0.0.1" → "10.0.0.1"), or null when the text is not one. */
export function normalizeIp(text: string): string | null {
  let t = text.trim();
  // "[2001:db8::1]:443" and "203.0.113.7:51234" (some proxies include the port).
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(t);
  if (bracketed) t = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(t)) t = t.slice(0, t.lastIndexOf(":"));
  if (!ipaddr.isValid(t)) return null;
  try {
    return ipaddr.process(t).toString();
  } catch {
    return null;
  }
}

export function isTrusted(ip: string, trusted: TrustedProxies): boolean {
  if (trusted.ranges.length === 0) return false;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip);
  } catch {
    return false;
  }
  return trusted.ranges.some(([range, bits]) => range.kind() === addr.kind() && addr.match(range, bits));
}

/**
 * The client's address for a request that arrived from `peer` (the socket's remote address) carrying these
 * X-Forwarded-For values. Read right to left: each hop a trusted proxy appended is skipped; the first address
 * not in the list is the client. Entries left of it were written by the client and are never believed.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: TrustedProxies): string {
  let current = normalizeIp(peer ?? "") ?? "unknown";
  if (!isTrusted(current, trusted) || !forwardedFor) return current;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i]!);
    // A hop a trusted proxy passed on that is not an address: stop at the last one we could vouch for.
    if (!hop) return current;
    current = hop;
    if (!isTrusted(hop, trusted)) return hop;
  }
  return current;
}

/** Whether the request reached the client over TLS: our own socket, or X-Forwarded-Proto from a trusted proxy. */
export function forwardedTls(peer: string | undefined, forwardedProto: string | string[] | undefined, trusted: TrustedProxies): boolean {
  const ip = normalizeIp(peer ?? "");
  if (!ip || !isTrusted(ip, trusted) || !forwardedProto) return false;
  const first = (Array.isArray(forwardedProto) ? forwardedProto[0] : forwardedProto)?.split(",")[0]?.trim().toLowerCase();
  return first === "https";
}
