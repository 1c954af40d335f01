// The HTTP side of the Redfish driver: one RedfishTransport per BMC that owns authentication (a Redfish
// session, or HTTP Basic where the BMC offers no sessions), the time budget of a driver call, bounded
// retries with backoff, and the translation of every failure into a BmcError an operator can act on.
//
// Why undici's request() with shared Agents: 20,000 BMC endpoints per BFF replica must not mean 20,000
// connection pools of their own. Drivers share one Agent per TLS policy (verify on / off / custom CA); the
// Agent keeps a small pool per BMC origin (BMCs serve few concurrent clients) with keep-alive.
// Every connection goes through the management-network policy (server/lib/mgmt-network.ts): the Agents' connector
// checks the address actually connected, so a BMC address (or a link a BMC hands out) outside the policy is refused
// before a single byte is sent, whatever its name resolved to earlier.
import tls from "node:tls";
import { Agent, type Dispatcher, request } from "undici";
import { mgmtConnector, mgmtPolicyKey, mgmtRefusalIn } from "@/server/lib/mgmt-network";
import { BmcError, type BmcCredentials, type BmcErrorCode, isBmcError } from "./types";

export type Json = Record<string, unknown>;

export interface RedfishResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The parsed body when it was JSON; null for an empty body. */
  json: Json | null;
  /** Absolute URL that was requested. */
  url: string;
}

/** The budget of one driver call: every request (and retry) made for it shares the same end. */
export class Deadline {
  readonly at: number;
  constructor(readonly budgetMs: number) {
    this.at = Date.now() + budgetMs;
  }
  remaining(): number {
    return this.at - Date.now();
  }
}

export interface CallOptions {
  deadline: Deadline;
  /** What the request does, for messages: "read the power state", "ResetType 'ForceOff'". */
  what: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses returned to the caller instead of thrown (e.g. 412 for the ETag retry, 404 for optional links). */
  allow?: number[];
  /**
   * "all" (default for GET/PATCH/DELETE): retry network failures, 5xx and 429.
   * "unsent": only failures where the BMC cannot have acted — connection refused, 503 and 429 — because
   * retrying a POSTed action after an ambiguous 500 or a cut connection could run it twice.
   */
  retry?: "all" | "unsent" | "none";
  /** The request is an action (POST to an advertised target): 404/405/501 mean "unsupported". */
  action?: boolean;
  /** No credentials (the service root is unauthenticated). */
  noAuth?: boolean;
  /** Vetoes a retry of a transient HTTP failure (e.g. a 503 that says "session limit", which waiting won't fix). */
  retryIf?: (res: RedfishResponse) => boolean;
  /** Abort from outside (event streams). */
  signal?: AbortSignal;
}

export interface TransportOptions {
  credentials: BmcCredentials;
  verifyTls: boolean;
  /** PEM CA bundle to trust in addition to the system's (a BMC with a private CA). */
  ca?: string;
  retries: number;
  /** First backoff delay; doubles per retry, ±20% jitter. */
  backoffMs: number;
  /** Longest Retry-After the driver honours before giving up on the call (default 10 s). */
  maxRetryAfterMs?: number;
}

const agents = new Map<string, Agent>();

/** One shared Agent per TLS policy and management-network policy (see the file comment). */
function agentFor(verifyTls: boolean, ca: string | undefined): Agent {
  const key = `${verifyTls}|${ca ?? ""}|${mgmtPolicyKey()}`;
  let a = agents.get(key);
  if (!a) {
    a = new Agent({
      connect: mgmtConnector({ rejectUnauthorized: verifyTls, ...(ca ? { ca } : {}) }),
      connections: 4,
      // Short keep-alive: a BFF polling 20,000 BMCs must not hold 20,000 idle sockets (file descriptors) between
      // passes; within one call's burst of requests the connection is still reused.
      keepAliveTimeout: Number(process.env.ANVIL_BMC_KEEPALIVE_MS ?? 2_000),
      keepAliveMaxTimeout: 10_000,
    });
    agents.set(key, a);
  }
  return a;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** The innermost error code of an undici/Node network error (undici wraps some in `cause`). */
function errCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === "object"; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === "string" && c !== "UND_ERR_ABORTED") return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return (e as { code?: string } | null)?.code;
}

function errText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur instanceof Error; i++) {
    // A wrapper often repeats its cause's words: keep each text once.
    const m = cur.message;
    if (m && !parts.some((p) => p.includes(m))) parts.push(m);
    cur = cur.cause;
  }
  return parts.join(": ") || String(e);
}

/** Redfish error body → the operator-readable part: ExtendedInfo messages, else error.message. */
export function redfishErrorText(json: Json | null): string | undefined {
  const err = json?.error as Json | undefined;
  if (!err || typeof err !== "object") return undefined;
  const info = err["@Message.ExtendedInfo"];
  const msgs: string[] = [];
  if (Array.isArray(info)) {
    for (const m of info) {
      if (m && typeof m === "object") {
        const text = (m as Json).Message;
        const resolution = (m as Json).Resolution;
        if (typeof text === "string" && text) {
          // A resolution says what to do; "None." and the generic "resubmit" advice add nothing.
          const useful = typeof resolution === "string" && resolution && !/^none\.?$/i.test(resolution) && !/resubmit the request/i.test(resolution);
          msgs.push(useful ? `${text} (${resolution.trim()})` : text);
        }
      }
    }
  }
  if (msgs.length) return msgs.join("; ");
  return typeof err.message === "string" && err.message ? err.message : typeof err.code === "string" ? err.code : undefined;
}

/** MessageIds of a Redfish error body ("Base.1.18.PreconditionFailed" → "PreconditionFailed"). */
export function redfishMessageIds(json: Json | null): string[] {
  const err = json?.error as Json | undefined;
  const ids: string[] = [];
  const info = err?.["@Message.ExtendedInfo"];
  if (Array.isArray(info))
    for (const m of info) if (m && typeof (m as Json).MessageId === "string") ids.push(((m as Json).MessageId as string).split(".").pop() ?? "");
  if (typeof err?.code === "string") ids.push(err.code.split(".").pop() ?? "");
  return ids;
}

/** HTTP status of a failed Redfish request → BmcError (see BmcErrorCode). */
export function httpError(
  address: string,
  res: Pick<RedfishResponse, "status" | "json"> & { text?: string },
  what: string,
  action: boolean,
  attempts = 1,
): BmcError {
  const detailText = redfishErrorText(res.json) ?? (res.text ? res.text.replace(/\s+/g, " ").trim().slice(0, 200) : undefined);
  const why = detailText ? `: ${detailText}` : "";
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  const s = res.status;
  const detail = res.json ? JSON.stringify(res.json).slice(0, 2000) : res.text?.slice(0, 2000);
  let code: BmcErrorCode;
  let message: string;
  let transient = false;
  if (s === 401 || s === 403) {
    code = "auth";
    message =
      s === 401
        ? `BMC ${address} refused the credentials to ${what} (HTTP 401${why})`
        : `BMC ${address} does not allow this user to ${what} (HTTP 403, needs a more privileged role${why})`;
  } else if (s === 405 || s === 501 || (s === 404 && action)) {
    code = "unsupported";
    message = `BMC ${address} does not support ${what} (HTTP ${s}${why})`;
  } else if (s === 400 || s === 413 || s === 415 || s === 422) {
    code = "invalid";
    message = `BMC ${address} refused ${what}${why || ` (HTTP ${s})`}`;
  } else if (s >= 500 || s === 429) {
    code = "bmc_error";
    transient = true;
    message = `BMC ${address} failed to ${what}: HTTP ${s}${why}${tries}`;
  } else {
    code = "bmc_error";
    message = `BMC ${address} refused ${what} (HTTP ${s}${why})`;
  }
  return new BmcError(code, address, message, { detail, transient });
}

/** A network-level failure (no HTTP answer) → BmcError. */
export function networkError(address: string, e: unknown, what: string, timedOut: boolean, budgetMs: number, verifyTls: boolean): BmcError {
  const refused = mgmtRefusalIn(e);
  if (refused) return new BmcError("forbidden", address, refused.message, { transient: false });
  const code = errCode(e);
  const text = errText(e);
  if (timedOut || (code && TIMEOUT_CODES.has(code))) {
    return new BmcError("timeout", address, `BMC ${address} did not answer "${what}" within ${budgetMs} ms`, { detail: text, cause: e });
  }
  if ((code && TLS_CODES.has(code)) || /certificate|self[- ]signed/i.test(text)) {
    const hint = verifyTls ? "trust the BMC's certificate (CA) or turn off certificate verification for this node" : "check the BMC's TLS settings";
    return new BmcError("tls", address, `BMC ${address} presented a TLS certificate Anvil does not trust (${text}); ${hint}`, {
      detail: text,
      transient: false,
      cause: e,
    });
  }
  if (code === "EPROTO" || (code?.startsWith("ERR_SSL") ?? false) || /wrong version number|ssl routines/i.test(text)) {
    return new BmcError("bad_response", address, `BMC ${address} did not speak TLS as expected (${text}); check http:// vs https:// in the address`, {
      detail: text,
      transient: false,
      cause: e,
    });
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    const how =
      code === "ECONNREFUSED"
        ? "refused the connection"
        : code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? "has a host name that does not resolve"
          : code === "EHOSTUNREACH" || code === "ENETUNREACH"
            ? "is not reachable (no route)"
            : "dropped the connection";
    return new BmcError("unreachable", address, `BMC ${address} ${how} (${code}) while trying to ${what}`, { detail: text, cause: e });
  }
  return new BmcError("unreachable", address, `BMC ${address} could not be reached to ${what}: ${text}`, { detail: text, cause: e });
}

/** Failures where the far end took the connection and then dropped it or answered with something not HTTP. */
const DROPPED_CODES = new Set(["ECONNRESET", "UND_ERR_SOCKET", "EPIPE", "HPE_INVALID_CONSTANT", "HPE_INVALID_VERSION", "HPE_CR_EXPECTED", "HPE_LF_EXPECTED"]);

/** Whether host:port of an http:// URL completes a TLS handshake (certificate not checked: this only asks "is it TLS?"). */
function speaksTls(httpUrl: string, timeoutMs: number): Promise<boolean> {
  if (timeoutMs < 50) return Promise.resolve(false);
  const u = new URL(httpUrl);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve) => {
    const s = tls.connect({ host, port: Number(u.port) || 80, rejectUnauthorized: false, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) });
    const done = (v: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once("secureConnect", () => done(true));
    s.once("error", () => done(false));
  });
}

function headerMap(h: Dispatcher.ResponseData["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
  return out;
}

/** Retry-After (seconds or HTTP date) in ms, or undefined. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

type AuthState = { kind: "none" } | { kind: "session"; token: string; location: string | null } | { kind: "basic"; reason: string } | { kind: "closed" };

export class RedfishTransport {
  /** The BMC's base URL as given (for messages): "https://10.0.0.5". */
  readonly address: string;
  readonly origin: string;
  /**
   * The path the Redfish service sits under on this origin ("" for a BMC's own service; a cascade's proxy path, e.g.
   * "/redfish/v1/Oem/Anvil/Cascade/<dpu>", for a DPU BMC reached through its host's BMC): every path is sent below it.
   */
  readonly base: string;
  private readonly opts: TransportOptions;
  private auth: AuthState = { kind: "none" };
  private login?: Promise<void>;
  private rootCache?: Json;
  /** Requests sent and retries made, for tests and metrics. */
  readonly stats = { requests: 0, retries: 0, logins: 0 };

  constructor(address: string, opts: TransportOptions) {
    let u: URL;
    try {
      u = new URL(address);
    } catch {
      throw new BmcError("invalid", address, `Redfish BMC address "${address}" is not a URL (expected e.g. https://10.0.0.5)`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new BmcError("invalid", address, `Redfish BMC address "${address}" must start with https:// or http://`);
    if (u.username || u.password) throw new BmcError("invalid", address, "Put the BMC credentials in the credentials fields, not in the URL");
    u.pathname = u.pathname.replace(/\/+$/, "").replace(/\/redfish\/v1$/, "");
    u.search = "";
    u.hash = "";
    this.origin = u.origin;
    this.address = `${u.origin}${u.pathname === "/" ? "" : u.pathname}`;
    // What names a system (…/redfish/v1/Systems/<id>) is not part of the service's base; any other path is.
    this.base = u.pathname.replace(/\/redfish\/v1\/Systems\/[^/]+$/, "").replace(/\/+$/, "");
    this.opts = opts;
  }

  /** The shared Agent, looked up per request: it follows a change of the management-network policy. */
  private get dispatcher(): Agent {
    return agentFor(this.opts.verifyTls, this.opts.ca);
  }

  /** "session" / "basic" once authenticated, "none" before the first authenticated request. */
  authMode(): "session" | "basic" | "none" | "closed" {
    return this.auth.kind;
  }

  /** Why the driver uses Basic auth (no session service, session refused...), when it does. */
  basicReason(): string | undefined {
    return this.auth.kind === "basic" ? this.auth.reason : undefined;
  }

  /**
   * An @odata.id / link → absolute URL on this BMC. Links to another host are refused: the driver sends
   * this BMC's credentials only to this BMC. Behind a base path (a cascade), a service's own paths ("/redfish/v1/…")
   * are sent below it, and an absolute URL outside it (the carrying host BMC's own resources) is refused the same way.
   */
  resolve(ref: string): string {
    const u = new URL(ref, `${this.origin}/`);
    if (u.origin !== this.origin) throw new BmcError("bad_response", this.address, `BMC ${this.address} linked to ${u.href}, which is on another host`);
    if (this.base && !u.pathname.startsWith(`${this.base}/`)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(ref))
        throw new BmcError("bad_response", this.address, `BMC ${this.address} linked to ${u.href}, which is outside its service at ${this.origin}${this.base}`);
      u.pathname = `${this.base}${u.pathname}`;
    }
    return u.href;
  }

  /** The unauthenticated service root (cached: it describes the service, not its state). */
  async root(deadline: Deadline): Promise<Json> {
    if (this.rootCache) return this.rootCache;
    const res = await this.call("GET", "/redfish/v1/", { deadline, what: "read the Redfish service root", noAuth: true, allow: [404, 405, 406] });
    if (res.status >= 400) {
      throw new BmcError("bad_response", this.address, `${this.address} has no Redfish service at /redfish/v1/ (HTTP ${res.status})`, { transient: false });
    }
    const j = res.json;
    if (!j || (typeof j.RedfishVersion !== "string" && typeof j["@odata.id"] !== "string" && !j.Systems)) {
      throw new BmcError("bad_response", this.address, `${this.address} answered /redfish/v1/ with JSON that is not a Redfish service root`, {
        detail: JSON.stringify(j).slice(0, 500),
        transient: false,
      });
    }
    this.rootCache = j;
    return j;
  }

  /** One Redfish request with authentication, the call's deadline and the retry policy. */
  async call(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, o: CallOptions): Promise<RedfishResponse> {
    if (this.auth.kind === "closed") throw new BmcError("invalid", this.address, "This BMC driver was closed");
    const url = this.resolve(path);
    const policy = o.retry ?? (method === "POST" ? "unsent" : "all");
    const maxAttempts = policy === "none" ? 1 : this.opts.retries + 1;
    let attempt = 0;
    let relogged = false;
    for (;;) {
      attempt++;
      if (!o.noAuth) await this.ensureAuth(o.deadline);
      const sentToken = this.auth.kind === "session" ? this.auth.token : undefined;
      let res: RedfishResponse & { text: string };
      try {
        res = await this.send(method, url, o, !o.noAuth);
      } catch (e) {
        if (isBmcError(e)) {
          const code = errCode(e.cause);
          const retryable = e.transient && e.code === "unreachable" && (policy === "all" || code === "ECONNREFUSED");
          if (retryable && attempt < maxAttempts && (await this.backoff(attempt, undefined, o.deadline))) continue;
          throw e;
        }
        throw e;
      }
      if (res.status === 401 && sentToken !== undefined && !relogged) {
        // The session expired or was deleted on the BMC: log in again, once, and repeat the request.
        // (A concurrent call may have logged in again already: then only repeat with its token.)
        relogged = true;
        if (this.auth.kind === "session" && this.auth.token === sentToken) this.auth = { kind: "none" };
        attempt--;
        continue;
      }
      if (res.status >= 400) {
        const transient = res.status >= 500 || res.status === 429;
        const retryable = transient && (policy === "all" || (policy === "unsent" && (res.status === 503 || res.status === 429))) && (o.retryIf?.(res) ?? true);
        if (retryable && attempt < maxAttempts && (await this.backoff(attempt, retryAfterMs(res.headers["retry-after"]), o.deadline))) continue;
        if (o.allow?.includes(res.status)) return res;
        throw httpError(this.address, res, o.what, o.action ?? false, attempt);
      }
      return res;
    }
  }

  /**
   * Waits before retry number `attempt`: Retry-After when the BMC sent one (capped), else exponential
   * backoff with jitter. false when the wait would not fit in the call's budget (give up now).
   */
  private async backoff(attempt: number, retryAfter: number | undefined, deadline: Deadline): Promise<boolean> {
    const cap = this.opts.maxRetryAfterMs ?? 10_000;
    const delay = retryAfter !== undefined ? Math.min(retryAfter, cap) : this.opts.backoffMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
    if (retryAfter !== undefined && retryAfter > cap) return false;
    // Leave room for the retried request itself (at least 100 ms).
    if (delay + 100 > deadline.remaining()) return false;
    this.stats.retries++;
    await sleep(delay);
    return true;
  }

  private authHeaders(): Record<string, string> {
    if (this.auth.kind === "session") return { "x-auth-token": this.auth.token };
    if (this.auth.kind === "basic") {
      const { username, password } = this.opts.credentials;
      return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` };
    }
    return {};
  }

  /** One HTTP exchange within the deadline. Network failures become BmcErrors; HTTP errors are returned. */
  private async send(method: string, url: string, o: CallOptions, withAuth: boolean): Promise<RedfishResponse & { text: string }> {
    const remaining = o.deadline.remaining();
    if (remaining <= 0) throw new BmcError("timeout", this.address, `BMC ${this.address} did not answer "${o.what}" within ${o.deadline.budgetMs} ms`);
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, remaining);
    const onOuterAbort = () => ac.abort();
    o.signal?.addEventListener("abort", onOuterAbort, { once: true });
    const headers: Record<string, string> = { accept: "application/json", "odata-version": "4.0", ...(withAuth ? this.authHeaders() : {}), ...o.headers };
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] = "application/json";
    }
    this.stats.requests++;
    try {
      const r = await request(url, { method: method as Dispatcher.HttpMethod, headers, body, dispatcher: this.dispatcher, signal: ac.signal });
      const text = await r.body.text();
      const h = headerMap(r.headers);
      let json: Json | null = null;
      if (text.trim() !== "") {
        try {
          const parsed: unknown = JSON.parse(text);
          json = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Json) : null;
          if (!json && r.statusCode < 300) throw new Error("not an object");
        } catch {
          if (r.statusCode < 300) {
            const type = h["content-type"] ?? "unknown content type";
            throw new BmcError(
              "bad_response",
              this.address,
              `${this.address} answered with ${type} instead of Redfish JSON when asked to ${o.what} ("${text.replace(/\s+/g, " ").trim().slice(0, 80)}")`,
              {
                detail: text.slice(0, 2000),
                transient: false,
              },
            );
          }
        }
      }
      return { status: r.statusCode, headers: h, json, url, text };
    } catch (e) {
      if (isBmcError(e)) throw e;
      if (o.signal?.aborted && !timedOut) throw new BmcError("invalid", this.address, `"${o.what}" was cancelled`, { cause: e, transient: false });
      const err = networkError(this.address, e, o.what, timedOut, o.deadline.budgetMs, this.opts.verifyTls);
      // http:// to a port that speaks only TLS: the BMC drops the plain request (or answers with a TLS alert).
      // Say what to change instead of "dropped the connection".
      if (
        err.code === "unreachable" &&
        url.startsWith("http:") &&
        DROPPED_CODES.has(errCode(e) ?? "") &&
        (await speaksTls(url, Math.min(2000, o.deadline.remaining())))
      ) {
        const https = this.address.replace(/^http:/, "https:");
        throw new BmcError(
          "invalid",
          this.address,
          `This BMC speaks HTTPS on that port; use ${https} (the address ${this.address} sends plain HTTP to a TLS-only port)`,
          {
            detail: err.detail,
            transient: false,
            cause: e,
          },
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onOuterAbort);
    }
  }

  /** Opens a long-lived GET (Server-Sent Events). The caller reads and destroys the body. */
  async openStream(path: string, deadline: Deadline, signal: AbortSignal, headers: Record<string, string>): Promise<Dispatcher.ResponseData> {
    const url = this.resolve(path);
    for (let relogged = false; ; relogged = true) {
      await this.ensureAuth(deadline);
      let timedOut = false;
      const ac = new AbortController();
      const timer = setTimeout(
        () => {
          timedOut = true;
          ac.abort();
        },
        Math.max(1, deadline.remaining()),
      );
      const onAbort = () => ac.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      let r: Dispatcher.ResponseData;
      try {
        this.stats.requests++;
        r = await request(url, {
          method: "GET",
          headers: { accept: "text/event-stream", ...this.authHeaders(), ...headers },
          dispatcher: this.dispatcher,
          signal: ac.signal,
          bodyTimeout: 0,
        });
      } catch (e) {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted && !timedOut) throw new BmcError("invalid", this.address, "event stream cancelled", { transient: false });
        throw networkError(this.address, e, "open the event stream", timedOut, deadline.budgetMs, this.opts.verifyTls);
      } finally {
        clearTimeout(timer);
      }
      // From here the stream lives until the caller's signal aborts or the BMC ends it.
      r.body.once("close", () => signal.removeEventListener("abort", onAbort));
      if (r.statusCode === 401 && this.auth.kind === "session" && !relogged) {
        r.body.destroy();
        this.auth = { kind: "none" };
        continue;
      }
      if (r.statusCode >= 400) {
        const text = await r.body.text().catch(() => "");
        let json: Json | null = null;
        try {
          json = JSON.parse(text) as Json;
        } catch {
          // not JSON: the text is the detail
        }
        // 404 too means "no stream here" (the caller falls back to polling), as for an action.
        throw httpError(this.address, { status: r.statusCode, json, text }, "open the event stream", true);
      }
      return r;
    }
  }

  private ensureAuth(deadline: Deadline): Promise<void> {
    if (this.auth.kind === "session" || this.auth.kind === "basic") return Promise.resolve();
    if (this.auth.kind === "closed") return Promise.reject(new BmcError("invalid", this.address, "This BMC driver was closed"));
    this.login ??= this.doLogin(deadline).finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  /**
   * POST SessionService/Sessions (found through the service root). Wrong credentials are an auth error
   * at once — trying Basic with the same password would only count towards the BMC's lockout. A BMC
   * without a session service, or one that refuses a session (limit reached, sessions disabled), is
   * spoken to with HTTP Basic instead.
   */
  private async doLogin(deadline: Deadline): Promise<void> {
    const root = await this.root(deadline);
    const links = root.Links as Json | undefined;
    const sessionsRef = (links?.Sessions as Json | undefined)?.["@odata.id"];
    if (typeof sessionsRef !== "string") {
      this.auth = { kind: "basic", reason: "the service root advertises no SessionService" };
      return;
    }
    const { username, password } = this.opts.credentials;
    this.stats.logins++;
    const res = await this.call("POST", sessionsRef, {
      deadline,
      what: `log in as ${username}`,
      body: { UserName: username, Password: password },
      noAuth: true,
      retry: "all",
      retryIf: (r) => !redfishMessageIds(r.json).includes("SessionLimitExceeded"),
      allow: [400, 401, 403, 404, 405, 409, 501, 503],
    });
    if (res.status === 401 || res.status === 403) {
      const why = redfishErrorText(res.json);
      throw new BmcError(
        "auth",
        this.address,
        `BMC ${this.address} refused the credentials for user "${username}" (HTTP ${res.status}${why ? `: ${why}` : ""})`,
        {
          transient: false,
          detail: JSON.stringify(res.json ?? null).slice(0, 2000),
        },
      );
    }
    const token = res.headers["x-auth-token"];
    if (res.status < 300 && token) {
      const loc = res.headers.location ?? (typeof res.json?.["@odata.id"] === "string" ? (res.json["@odata.id"] as string) : null);
      this.auth = { kind: "session", token, location: loc };
      return;
    }
    if (res.status === 503 && !redfishMessageIds(res.json).includes("SessionLimitExceeded")) {
      throw httpError(this.address, res, `log in as ${username}`, false, this.opts.retries + 1);
    }
    const why = res.status < 300 ? "no X-Auth-Token in the answer" : `HTTP ${res.status}${redfishErrorText(res.json) ? `: ${redfishErrorText(res.json)}` : ""}`;
    this.auth = { kind: "basic", reason: `the BMC refused a session (${why})` };
  }

  /** Logs out (DELETE the session) and refuses further calls. Best effort: a dead BMC must not block close. */
  async close(): Promise<void> {
    const a = this.auth;
    this.auth = { kind: "closed" };
    if (a.kind === "session" && a.location) {
      const d = new Deadline(3000);
      try {
        const url = this.resolve(a.location);
        await request(url, {
          method: "DELETE",
          headers: { "x-auth-token": a.token },
          dispatcher: this.dispatcher,
          signal: AbortSignal.timeout(Math.max(1, d.remaining())),
        }).then((r) => r.body.dump());
      } catch {
        // The session expires on the BMC by itself.
      }
    }
  }
}
