// The management-network policy: which addresses the BFF may contact on behalf of an operator — BMCs (Redfish, IPMI),
// DPU agents — or hand to a BMC to download from (firmware image URLs). Without it an operator-admin could make the
// server request any address, loopback and the cloud metadata service included, and read the error text back: a
// port scanner. The policy is checked on the address actually connected (a DNS lookup hook and an undici connector),
// so a name that resolves to an allowed address when checked and to a refused one when used (DNS rebinding) is still
// refused.
//
// Rules, from the environment (comma-separated CIDRs or single addresses), read at every check so tests and the dev
// lab can set them at run time:
//   ANVIL_MGMT_DENY   always refused, whatever else says;
//   ANVIL_MGMT_ALLOW  when set, the ONLY ranges allowed; an entry as specific as (or more than) a built-in refusal
//                     lifts it (127.0.0.0/8 allows loopback; 169.254.0.0/16 allows link-local but not the metadata
//                     address 169.254.169.254, which needs its own /32);
//   built in          refused unless lifted: 0.0.0.0/8, loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16,
//                     fe80::/10), the cloud metadata addresses (169.254.169.254, fd00:ec2::254), the unspecified ::.
// IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are judged as the IPv4 address they carry.
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, buildConnector } from "undici";
import { type Cidr, cidrContainsAddress, cidrToString, type Family, parseAddress, parseCidr } from "@/domain/cidr";

export const MGMT_DENIED = "ANVIL_MGMT_DENIED";

/** A refusal by the policy. `code` is checked (not instanceof) so a copy of this module bundled elsewhere agrees. */
export class MgmtNetworkError extends Error {
  readonly code = MGMT_DENIED;
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(message);
    this.name = "MgmtNetworkError";
  }
}

/** The policy refusal in `e` or its causes (undici and fetch wrap connector errors), else null. */
export function mgmtRefusalIn(e: unknown): MgmtNetworkError | null {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === "object"; i++) {
    if ((cur as { code?: unknown }).code === MGMT_DENIED) return cur as MgmtNetworkError;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

const BUILT_IN: [string, string][] = [
  ["0.0.0.0/8", "the 'this network' range (0.0.0.0/8)"],
  ["127.0.0.0/8", "loopback (127.0.0.0/8)"],
  ["169.254.0.0/16", "link-local (169.254.0.0/16)"],
  ["169.254.169.254/32", "the cloud metadata address"],
  ["::/128", "the unspecified address (::)"],
  ["::1/128", "loopback (::1)"],
  ["fe80::/10", "link-local (fe80::/10)"],
  ["fd00:ec2::254/128", "the cloud metadata address"],
];

interface Rule {
  cidr: Cidr;
  label: string;
}

export interface MgmtPolicy {
  /** null when ANVIL_MGMT_ALLOW is unset: anything not refused is allowed. */
  allow: Rule[] | null;
  deny: Rule[];
  builtIn: Rule[];
  /** One line for the start banner and for messages. */
  summary: string;
}

function parseList(name: string, raw: string | undefined): Rule[] | null {
  const t = raw?.trim();
  if (!t) return null;
  return t
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      const a = parseAddress(entry);
      const text = a ? `${entry}/${a.family === 4 ? 32 : 128}` : entry;
      const c = parseCidr(text);
      if (!c.ok) throw new Error(`${name}: ${c.reason}`);
      return { cidr: c.cidr, label: `${name} entry ${cidrToString(c.cidr)}` };
    });
}

const g = globalThis as unknown as { __anvilMgmtPolicy?: { key: string; policy: MgmtPolicy } };

/**
 * Identifies the policy in force. Connection pools are keyed by it: a pooled keep-alive connection was checked when it
 * was opened, so a changed policy (tests, the dev lab) must not reuse one opened under the old rules.
 */
export function mgmtPolicyKey(): string {
  return `${process.env.ANVIL_MGMT_ALLOW ?? ""}|${process.env.ANVIL_MGMT_DENY ?? ""}`;
}

/** The policy from the environment (cached per value). Throws with the variable's name on a malformed entry. */
export function mgmtPolicy(): MgmtPolicy {
  const key = mgmtPolicyKey();
  if (g.__anvilMgmtPolicy?.key === key) return g.__anvilMgmtPolicy.policy;
  const allow = parseList("ANVIL_MGMT_ALLOW", process.env.ANVIL_MGMT_ALLOW);
  const deny = parseList("ANVIL_MGMT_DENY", process.env.ANVIL_MGMT_DENY) ?? [];
  const builtIn = BUILT_IN.map(([c, label]) => ({ cidr: (parseCidr(c) as { cidr: Cidr }).cidr, label }));
  const summary = `ANVIL_MGMT_ALLOW=${allow ? allow.map((r) => cidrToString(r.cidr)).join(",") : "(not set: any address not refused)"}${
    deny.length ? `; ANVIL_MGMT_DENY=${deny.map((r) => cidrToString(r.cidr)).join(",")}` : ""
  }; loopback, link-local and cloud metadata addresses are refused unless allowed`;
  const policy = { allow, deny, builtIn, summary };
  g.__anvilMgmtPolicy = { key, policy };
  return policy;
}

/** An address as (family, value), IPv4-mapped IPv6 unwrapped; null when `ip` is not an IP address. */
function normalise(ip: string): { family: Family; value: bigint; text: string } | null {
  const bare = ip.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!net.isIP(bare)) return null;
  let addr = ipaddr.parse(bare);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  const p = parseAddress(addr.toString());
  return p ? { ...p, text: addr.toString() } : null;
}

export type MgmtVerdict = { ok: true } | { ok: false; reason: string };

/** Whether the BFF may contact this IP address on the management network, with the reason when not. */
export function checkMgmtIp(ip: string): MgmtVerdict {
  const a = normalise(ip);
  if (!a) return { ok: false, reason: `${ip} is not an IP address` };
  const p = mgmtPolicy();
  const hit = (rules: Rule[]) => rules.filter((r) => cidrContainsAddress(r.cidr, a.family, a.value));
  const denied = hit(p.deny)[0];
  if (denied) return { ok: false, reason: `${denied.label} refuses it` };
  const allowed = p.allow ? hit(p.allow) : [];
  // A built-in refusal stands unless an allow entry at least as specific covers the address (said first: it is the
  // more telling reason).
  const best = Math.max(-1, ...allowed.map((r) => r.cidr.prefix));
  const builtIn = hit(p.builtIn)
    .filter((r) => r.cidr.prefix > best)
    .sort((x, y) => y.cidr.prefix - x.cidr.prefix)[0];
  if (builtIn) return { ok: false, reason: `${builtIn.label} is refused unless ANVIL_MGMT_ALLOW lists it` };
  if (p.allow && allowed.length === 0) return { ok: false, reason: "it is outside every allowed range" };
  return { ok: true };
}

function refusal(target: string, ip: string, reason: string): MgmtNetworkError {
  const what = normalise(target)?.text === normalise(ip)?.text ? ip : `${target} (${ip})`;
  const p = mgmtPolicy();
  const allowed = p.allow ? p.allow.map((r) => cidrToString(r.cidr)).join(",") : "not set";
  return new MgmtNetworkError(target, `${what} is not on the management network allowed by ANVIL_MGMT_ALLOW (${allowed}): ${reason}.`);
}

/** Throws MgmtNetworkError unless the BFF may contact `ip`; `target` is what the operator gave (a name or the IP). */
export function assertMgmtIp(target: string, ip: string): void {
  const v = checkMgmtIp(ip);
  if (!v.ok) throw refusal(target, ip, v.reason);
}

/**
 * Resolves a host name (an IP literal is taken as is) and checks EVERY address it resolves to. Returns the addresses,
 * first one to use first. Throws MgmtNetworkError when any is refused; DNS failures are thrown as they come (ENOTFOUND).
 */
export async function resolveMgmtHost(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, "");
  if (net.isIP(bare)) {
    assertMgmtIp(host, bare);
    return [bare];
  }
  const addrs = await dns.promises.lookup(bare, { all: true });
  for (const a of addrs) assertMgmtIp(host, a.address);
  return addrs.map((a) => a.address);
}

/** The host part of "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
function hostOf(hostPort: string): string {
  const t = hostPort.trim();
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(t);
  if (v6) return v6[1]!;
  if (t.split(":").length > 2) return t;
  return t.replace(/:\d+$/, "");
}

export type MgmtTargetCheck = { ok: true } | { ok: false; unresolved: boolean; message: string };

/**
 * Checks a URL's or a bare host's address before anything is stored or started: refused by the policy, or a name that
 * does not resolve (`unresolved`, which a caller that connects itself may leave to the connection to report).
 */
export async function checkMgmtTarget(urlOrHost: string): Promise<MgmtTargetCheck> {
  let host = urlOrHost;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrHost)) {
    try {
      host = new URL(urlOrHost).hostname;
    } catch {
      return { ok: false, unresolved: false, message: `${urlOrHost} is not a URL` };
    }
  } else host = hostOf(urlOrHost);
  try {
    await resolveMgmtHost(host);
    return { ok: true };
  } catch (e) {
    const r = mgmtRefusalIn(e);
    if (r) return { ok: false, unresolved: false, message: r.message };
    return {
      ok: false,
      unresolved: true,
      message: `${host} does not resolve from Anvil (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}), so Anvil cannot check it is on the management network; use an address or a name Anvil resolves.`,
    };
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A net/tls `lookup` that resolves like dns.lookup and refuses the connection when any address is outside the
 * policy — the check happens on the very answer the socket then connects to.
 */
export function mgmtLookup(hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback): void {
  const cb = (typeof options === "function" ? options : callback) as LookupCallback;
  const opts: dns.LookupOptions = typeof options === "object" && options ? options : typeof options === "number" ? { family: options } : {};
  dns.lookup(hostname, { ...opts, all: true }, (err, addrs) => {
    if (err) return cb(err, []);
    for (const a of addrs) {
      const v = checkMgmtIp(a.address);
      if (!v.ok) return cb(refusal(hostname, a.address, v.reason) as unknown as NodeJS.ErrnoException, []);
    }
    if (opts.all) return cb(null, addrs);
    const first = addrs[0];
    if (!first) return cb(Object.assign(new Error(`${hostname} resolved to no address`), { code: "ENOTFOUND" }), []);
    cb(null, first.address, first.family);
  });
}

/** An undici connector that enforces the policy: IP literals before connecting, names through mgmtLookup. */
export function mgmtConnector(tls: { rejectUnauthorized?: boolean; ca?: string } = {}): buildConnector.connector {
  const base = buildConnector({ ...tls, lookup: mgmtLookup as never });
  return (o, cb) => {
    const host = o.hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(host)) {
      const v = checkMgmtIp(host);
      if (!v.ok) {
        cb(refusal(host, host, v.reason), null);
        return;
      }
    }
    base(o, cb);
  };
}

const shared = globalThis as unknown as { __anvilMgmtAgent?: { key: string; agent: Agent } };

/** The shared dispatcher for plain HTTP(S) to management-network services (DPU agents): policy-checked connects. */
export function mgmtDispatcher(): Agent {
  const key = mgmtPolicyKey();
  if (shared.__anvilMgmtAgent?.key !== key) {
    // The old pool's idle connections close on their keep-alive timeout; in-flight requests finish.
    shared.__anvilMgmtAgent = { key, agent: new Agent({ connect: mgmtConnector(), keepAliveTimeout: 4_000 }) };
  }
  return shared.__anvilMgmtAgent.agent;
}
