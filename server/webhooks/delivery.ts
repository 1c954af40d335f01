// Webhook endpoints and deliveries: where Anvil may POST (public HTTPS only by default — a webhook must not make the
// BFF a proxy into its own networks), how a delivery is signed, and one attempt at sending it.
//
// Signature (Stripe-style, so receivers have libraries for it): header
//   Anvil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
// plus Anvil-Event (the type) and Anvil-Delivery (the delivery id, stable across retries: receivers dedupe on it).
// Policy: https:// only, and the host must resolve to public unicast addresses; ANVIL_WEBHOOK_ALLOW (CIDRs) admits
// more (e.g. an internal receiver, or 127.0.0.0/8 in the lab), ANVIL_WEBHOOK_ALLOW_HTTP=1 admits http://. The check
// runs when the webhook is saved and again on the very address each delivery connects to (no DNS rebinding).
import { createHmac } from "node:crypto";
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, buildConnector, request } from "undici";

export const WEBHOOK_EVENTS = ["instance.state_changed", "operation.succeeded", "operation.failed", "operation.cancelled", "node.fault"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** node.fault is about the fleet: operators' (platform) webhooks only. */
export const TENANT_EVENTS: readonly WebhookEvent[] = WEBHOOK_EVENTS.filter((e) => e !== "node.fault");

export function sign(secret: string, body: string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac("sha256", secret).update(`${at}.${body}`).digest("hex")}`;
}

/** For receivers (and tests): checks a signature header against the raw body, within a tolerance. */
export function verifySignature(secret: string, body: string, header: string, toleranceS = 300, now = Date.now() / 1000): boolean {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(now - t) > toleranceS || !parts.v1) return false;
  const want = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return want.length === parts.v1.length && timingSafe(want, parts.v1);
}

function timingSafe(a: string, b: string): boolean {
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

function allowedCidrs(): [ipaddr.IPv4 | ipaddr.IPv6, number][] {
  const raw = process.env.ANVIL_WEBHOOK_ALLOW?.trim();
  if (!raw) return [];
  return raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((c) => {
      try {
        return c.includes("/") ? ipaddr.parseCIDR(c) : ([ipaddr.parse(c), ipaddr.parse(c).kind() === "ipv4" ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
      } catch {
        throw new Error(`ANVIL_WEBHOOK_ALLOW: ${c} is not an address or CIDR`);
      }
    });
}

/** Null when Anvil may deliver to this address, else why not. */
export function webhookAddressRefusal(ip: string): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip.replace(/^\[|\]$/g, ""));
  } catch {
    return `${ip} is not an IP address`;
  }
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  for (const [net_, bits] of allowedCidrs()) if (net_.kind() === addr.kind() && addr.match(net_, bits)) return null;
  const range = addr.range();
  if (range !== "unicast") return `${addr.toString()} is a ${range} address; webhooks go to public addresses only (ANVIL_WEBHOOK_ALLOW admits others)`;
  return null;
}

/** Why this URL cannot be a webhook endpoint (scheme, address), or null. Resolves the host. */
export async function webhookUrlRefusal(raw: string): Promise<string | null> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "Not a URL";
  }
  if (u.username || u.password) return "Put no credentials in the URL; deliveries are signed with the webhook's secret";
  if (u.protocol !== "https:" && !(u.protocol === "http:" && process.env.ANVIL_WEBHOOK_ALLOW_HTTP === "1")) return "Webhook URLs must use https://";
  const host = u.hostname.replace(/^\[|\]$/g, "");
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
    const r = webhookAddressRefusal(a);
    if (r) return r;
  }
  return null;
}

/** Connects only to addresses the policy admits: IP literals checked before connecting, names on their answer. */
function connector(): buildConnector.connector {
  const lookup = (
    hostname: string,
    options: dns.LookupOptions,
    cb: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
  ) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addrs) => {
      if (err) return cb(err, []);
      for (const a of addrs) {
        const r = webhookAddressRefusal(a.address);
        if (r) return cb(Object.assign(new Error(r), { code: "EWEBHOOKREFUSED" }), []);
      }
      if (options.all) return cb(null, addrs);
      cb(null, addrs[0]!.address, addrs[0]!.family);
    });
  };
  const base = buildConnector({ lookup: lookup as never });
  return (o, cb) => {
    const host = o.hostname.replace(/^\[|\]$/g, "");
    const r = net.isIP(host) ? webhookAddressRefusal(host) : null;
    if (r) return cb(Object.assign(new Error(r), { code: "EWEBHOOKREFUSED" }), null);
    base(o, cb);
  };
}

const g = globalThis as unknown as { __anvilWebhookAgent?: { key: string; agent: Agent } };
function agent(): Agent {
  const key = `${process.env.ANVIL_WEBHOOK_ALLOW ?? ""}`;
  if (g.__anvilWebhookAgent?.key !== key) g.__anvilWebhookAgent = { key, agent: new Agent({ connect: connector(), keepAliveTimeout: 4000 }) };
  return g.__anvilWebhookAgent.agent;
}

export interface AttemptResult {
  ok: boolean;
  status: number | null;
  body: string;
  error: string | null;
}

/** One POST of a delivery: 2xx is delivered; anything else (or no answer within 10 s) is a failed attempt. */
export async function attemptDelivery(opts: {
  url: string;
  secret: string;
  deliveryId: string;
  type: string;
  body: string;
  timeoutMs?: number;
}): Promise<AttemptResult> {
  const refusal = opts.url.startsWith("http://") && process.env.ANVIL_WEBHOOK_ALLOW_HTTP !== "1" ? "Webhook URLs must use https://" : null;
  if (refusal) return { ok: false, status: null, body: "", error: refusal };
  try {
    const res = await request(opts.url, {
      method: "POST",
      dispatcher: agent(),
      headers: {
        "content-type": "application/json",
        "user-agent": "Anvil-Webhooks/1",
        "anvil-event": opts.type,
        "anvil-delivery": opts.deliveryId,
        "anvil-signature": sign(opts.secret, opts.body),
      },
      body: opts.body,
      headersTimeout: opts.timeoutMs ?? 10_000,
      bodyTimeout: opts.timeoutMs ?? 10_000,
      maxRedirections: 0,
    } as Parameters<typeof request>[1]);
    const text = (await res.body.text()).slice(0, 1024);
    return {
      ok: res.statusCode >= 200 && res.statusCode < 300,
      status: res.statusCode,
      body: text,
      error: res.statusCode >= 300 ? `The endpoint answered HTTP ${res.statusCode}` : null,
    };
  } catch (e) {
    const err = e as Error & { code?: string; cause?: { message?: string; code?: string } };
    const why = err.cause?.message ?? err.message;
    return { ok: false, status: null, body: "", error: `No answer: ${why}${err.code && !why.includes(err.code) ? ` (${err.code})` : ""}` };
  }
}
