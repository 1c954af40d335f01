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
import { request } from "undici";
import { outboundPolicy } from "@/server/lib/outbound-policy";

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

const policy = outboundPolicy({ allowEnv: "ANVIL_WEBHOOK_ALLOW", purpose: "webhooks go to", code: "EWEBHOOKREFUSED" });
/** Null when Anvil may deliver to this address, else why not. */
export const webhookAddressRefusal = policy.refusal;

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
  return policy.hostRefusal(u.hostname);
}

const agent = () => policy.agent();

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
