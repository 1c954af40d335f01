// Security headers on every response (pages, API routes, the console page), set by server/front-door.ts before
// any handler runs. Next sends headers it is given beforehand unchanged, so these win over a handler's own.
//
// The CSP has no nonce: Next's inline RSC scripts and the theme script in app/layout.tsx need 'unsafe-inline'
// (a nonce would have to reach every inline script; see docs/security.md). What it does guarantee: no framing
// (frame-ancestors 'none', the console included), no plugins, no <base> or form posts elsewhere, and network
// access only to this origin — WebSockets (the serial console, Next's dev reload) to this host over ws/wss.

/** A Host header we are willing to echo into the CSP (host name or address, optional port). */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface SecurityHeaderOptions {
  /** Development server: Next's dev runtime needs eval. */
  dev: boolean;
  /** The page reached the browser over TLS (ANVIL_URL is https, or a trusted proxy said X-Forwarded-Proto https). */
  tls: boolean;
  /** The request's Host header (for the ws:/wss: sources of connect-src). */
  host?: string;
}

export function contentSecurityPolicy(o: SecurityHeaderOptions): string {
  const self = o.host && HOST.test(o.host) ? [`ws://${o.host}`, `wss://${o.host}`] : [];
  const directives: [string, ...string[]][] = [
    ["default-src", "'self'"],
    ["script-src", "'self'", "'unsafe-inline'", ...(o.dev ? ["'unsafe-eval'"] : [])],
    ["style-src", "'self'", "'unsafe-inline'"],
    ["img-src", "'self'", "data:", "blob:"],
    ["font-src", "'self'", "data:"],
    ["connect-src", "'self'", ...self],
    ["worker-src", "'self'", "blob:"],
    ["object-src", "'none'"],
    ["base-uri", "'self'"],
    ["form-action", "'self'"],
    ["frame-ancestors", "'none'"],
  ];
  return directives.map((d) => d.join(" ")).join("; ");
}

export function securityHeaders(o: SecurityHeaderOptions): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(o),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    ...(o.tls ? { "strict-transport-security": "max-age=31536000" } : {}),
  };
}
