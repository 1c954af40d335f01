// Where the server may connect on a user's behalf (webhook deliveries, image imports from a URL): public unicast
// addresses only, so Anvil cannot be turned into a proxy into its own networks, plus the CIDRs an environment
// variable admits (an internal mirror, or 127.0.0.0/8 in the lab). The check is made on the very address each
// connection uses — IP literals before connecting, names on their DNS answer inside the connector — so a name that
// resolves differently the second time (DNS rebinding) gains nothing.
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, buildConnector } from "undici";

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface OutboundPolicy {
  /** Null when the server may connect to this address, else why not. */
  refusal(ip: string): string | null;
  /** Why the host (a name or literal) may not be reached, resolving names; null when it may. */
  hostRefusal(host: string): Promise<string | null>;
  /** An undici dispatcher that connects only to admitted addresses (a refused one fails with `code`). */
  agent(): Agent;
}

export interface OutboundPolicyOptions {
  /** the environment variable of admitted CIDRs (comma/space separated), e.g. ANVIL_WEBHOOK_ALLOW */
  allowEnv: string;
  /** ends the refusal: "webhooks go to" / "images are imported from" */
  purpose: string;
  /** error code of a refused connection */
  code: string;
  /** connect timeout of the agent */
  connectTimeoutMs?: number;
}

function parseCidrs(env: string): Cidr[] {
  const raw = process.env[env]?.trim();
  if (!raw) return [];
  return raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((c) => {
      try {
        return c.includes("/") ? ipaddr.parseCIDR(c) : ([ipaddr.parse(c), ipaddr.parse(c).kind() === "ipv4" ? 32 : 128] as Cidr);
      } catch {
        throw new Error(`${env}: ${c} is not an address or CIDR`);
      }
    });
}

const agents = globalThis as unknown as { __anvilOutboundAgents?: Map<string, { key: string; agent: Agent }> };

export function outboundPolicy(opts: OutboundPolicyOptions): OutboundPolicy {
  const refusal = (ip: string): string | null => {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.parse(ip.replace(/^\[|\]$/g, ""));
    } catch {
      return `${ip} is not an IP address`;
    }
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
    for (const [cidr, bits] of parseCidrs(opts.allowEnv)) if (cidr.kind() === addr.kind() && addr.match(cidr, bits)) return null;
    const range = addr.range();
    if (range !== "unicast") return `${addr.toString()} is a ${range} address; ${opts.purpose} public addresses only (${opts.allowEnv} admits others)`;
    return null;
  };

  const connector = (): buildConnector.connector => {
    const refused = (m: string) => Object.assign(new Error(m), { code: opts.code });
    const lookup = (
      hostname: string,
      options: dns.LookupOptions,
      cb: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
    ) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addrs) => {
        if (err) return cb(err, []);
        for (const a of addrs) {
          const r = refusal(a.address);
          if (r) return cb(refused(r), []);
        }
        if (options.all) return cb(null, addrs);
        cb(null, addrs[0]!.address, addrs[0]!.family);
      });
    };
    const base = buildConnector({ lookup: lookup as never, ...(opts.connectTimeoutMs ? { timeout: opts.connectTimeoutMs } : {}) });
    return (o, cb) => {
      const host = o.hostname.replace(/^\[|\]$/g, "");
      const r = net.isIP(host) ? refusal(host) : null;
      if (r) return cb(refused(r), null);
      base(o, cb);
    };
  };

  return {
    refusal,
    async hostRefusal(hostname) {
      const host = hostname.replace(/^\[|\]$/g, "");
      let addrs: string[];
      if (net.isIP(host)) addrs = [host];
      else {
        try {
          addrs = (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
        } catch (e) {
          return `${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
        }
      }
      for (const a of addrs) {
        const r = refusal(a);
        if (r) return r;
      }
      return null;
    },
    agent() {
      agents.__anvilOutboundAgents ??= new Map();
      const key = process.env[opts.allowEnv] ?? "";
      const have = agents.__anvilOutboundAgents.get(opts.code);
      if (have?.key === key) return have.agent;
      const agent = new Agent({ connect: connector(), keepAliveTimeout: 4000 });
      agents.__anvilOutboundAgents.set(opts.code, { key, agent });
      if (have) void have.agent.close().catch(() => {});
      return agent;
    },
  };
}
