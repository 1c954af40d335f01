// The HTTP front door every request passes before Next (server.ts) — and, in tests, before the real route
// handlers (test/http-app.ts). It
//   - sets the client address header from the socket, or through trusted proxies (server/lib/client-ip.ts);
//   - sets the security headers (server/lib/security-headers.ts);
//   - enforces the body limit of the route (server/lib/body-limit.ts) on the bytes actually received, chunked
//     bodies included: a body over the limit is answered 413 with a JSON message and never reaches a handler,
//     and nothing past the limit is kept in memory. Ordinary routes get their whole body before the handler runs;
//     streamed routes (the image upload) read it as it comes and see an aborted body if it goes over;
//   - answers a handler's crash with a 500, logging the stack; a client that went away is not an error.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { bodyLimitFor } from "./lib/body-limit";
import { isClientGone } from "./lib/client-gone";
import { CLIENT_IP_HEADER, clientAddress, forwardedTls, parseTrustedProxies, type TrustedProxies, trustedProxiesFromEnv } from "./lib/client-ip";
import { logger } from "./lib/log";
import { securityHeaders } from "./lib/security-headers";

type BodyOutcome = "complete" | "over" | "aborted";

/** The request class of the front door's server: counts body bytes as the HTTP parser hands them over. */
class GuardedRequest extends http.IncomingMessage {
  received = 0;
  limit = Number.POSITIVE_INFINITY;
  /** Keep reading (and buffering, up to `limit`) although nobody consumes the body yet. */
  buffering = false;
  refused = false;
  bodyComplete = false;
  private onOutcome: ((o: BodyOutcome) => void) | null = null;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) {
      // A refused body never ends normally (a streaming reader must not take what it got for the whole body);
      // its end is where the connection closes, gracefully, the 413 being out (see tooLarge).
      if (this.refused) {
        this.socket?.end();
        return false;
      }
      this.bodyComplete = true;
      const r = super.push(null);
      this.settle("complete");
      return r;
    }
    // Past the limit the rest is discarded until the connection closes (right after the 413 is sent).
    if (this.refused) return true;
    this.received += (chunk as Buffer).length;
    if (this.received > this.limit) {
      this.refused = true;
      this.settle("over");
      return true;
    }
    const r = super.push(chunk, encoding);
    return this.buffering ? true : r;
  }

  /** Resolves once the body is complete, over `limit`, or the client gave up. */
  outcome(): Promise<BodyOutcome> {
    if (this.refused) return Promise.resolve("over");
    if (this.bodyComplete) return Promise.resolve("complete");
    return new Promise((resolve) => {
      const socket = this.socket;
      const gone = () => this.settle("aborted");
      this.onOutcome = (o) => {
        this.off("aborted", gone);
        socket?.off("close", gone);
        resolve(o);
      };
      this.once("aborted", gone);
      socket?.once("close", gone);
    });
  }

  /** Called with the outcome when the limit is passed while a streamed handler reads the body. */
  onOver: (() => void) | null = null;

  private settle(o: BodyOutcome) {
    const cb = this.onOutcome;
    this.onOutcome = null;
    cb?.(o);
    if (o === "over") this.onOver?.();
  }
}

export interface FrontDoorOptions {
  /** The application: Next's request handler in server.ts. */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown> | unknown;
  /** WebSocket upgrades (the serial console; Next's dev reload). Without one, upgrades are refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  dev?: boolean;
  /** Public URL (default: ANVIL_URL, read per request); https means every response is over TLS. */
  publicUrl?: string;
  /** CIDR list of proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (default: ANVIL_TRUSTED_PROXIES). */
  trustedProxies?: string;
}

/** Makes later writes by a handler no-ops, once the front door has answered for it (a 413 mid-stream). */
function seal(res: ServerResponse) {
  const r = res as unknown as Record<string, unknown>;
  const self = () => res;
  for (const m of ["writeHead", "setHeader", "appendHeader", "removeHeader", "flushHeaders", "setHeaders"]) r[m] = self;
  r.write = (...args: unknown[]) => {
    const cb = args.find((a) => typeof a === "function") as (() => void) | undefined;
    if (cb) process.nextTick(cb);
    return true;
  };
  r.end = (...args: unknown[]) => {
    const cb = args.find((a) => typeof a === "function") as (() => void) | undefined;
    if (cb) process.nextTick(cb);
    return res;
  };
}

function tooLarge(req: GuardedRequest, res: ServerResponse, limit: number, declared?: number) {
  req.refused = true;
  const socket = req.socket;
  // A handler still streaming the body (the upload) learns it was cut off once the connection is gone.
  const abortReader = () => {
    if (!req.destroyed) req.destroy(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
  };
  if (res.headersSent || res.writableEnded) {
    // The handler already answered: all that is left is to stop receiving.
    seal(res);
    socket?.destroy();
    abortReader();
    return;
  }
  const message =
    declared !== undefined
      ? `The request body is ${declared} bytes; the limit for this address is ${limit} bytes.`
      : `The request body is larger than the limit for this address (${limit} bytes).`;
  const body = JSON.stringify({ error: { message, code: "PAYLOAD_TOO_LARGE" } });
  res.writeHead(413, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
  seal(res);
  // Closing at once would reset the connection while the client is still sending, and a client whose write fails
  // may never read the answer. So what still arrives is discarded (never kept); the connection is closed when the
  // body ends (GuardedRequest.push), when the client closes it, or after LINGER_MS at most.
  res.once("finish", () => {
    if (!socket || socket.destroyed) return abortReader();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => {
      clearTimeout(timer);
      abortReader();
    });
  });
}

const LINGER_MS = 5_000;

function declaredLength(req: IncomingMessage): number | undefined {
  const v = req.headers["content-length"];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function createFrontDoor(opts: FrontDoorOptions): http.Server {
  // Read once: a malformed ANVIL_TRUSTED_PROXIES stops the start with its reason.
  const trusted: TrustedProxies = opts.trustedProxies !== undefined ? parseTrustedProxies(opts.trustedProxies) : trustedProxiesFromEnv();
  const publicTls = (opts.publicUrl ?? process.env.ANVIL_URL ?? "").startsWith("https:");

  function prepare(req: IncomingMessage) {
    const peer = req.socket.remoteAddress;
    req.headers[CLIENT_IP_HEADER] = clientAddress(peer, req.headers["x-forwarded-for"], trusted);
    return publicTls || (req.socket as TLSSocket).encrypted === true || forwardedTls(peer, req.headers["x-forwarded-proto"], trusted);
  }

  async function run(req: GuardedRequest, res: ServerResponse) {
    try {
      await opts.handle(req, res);
    } catch (e) {
      if (isClientGone(e, res)) {
        logger.debug({ url: req.url, err: (e as Error)?.message }, "client went away");
        return;
      }
      logger.error({ err: e, method: req.method, url: req.url }, "request failed");
      if (!res.headersSent)
        res
          .writeHead(500, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: "Something went wrong on the server; it has been logged.", code: "INTERNAL_SERVER_ERROR" } }));
      else res.destroy();
    }
  }

  /** Everything up to the handler; `expectsContinue` when the client waits for 100 Continue before sending. */
  async function onRequest(req: GuardedRequest, res: ServerResponse, expectsContinue = false) {
    // All of this runs synchronously before the first await, before any body byte is parsed.
    const tls = prepare(req);
    for (const [k, v] of Object.entries(securityHeaders({ dev: !!opts.dev, tls, host: req.headers.host }))) res.setHeader(k, v);
    const pathname = (req.url ?? "/").split("?")[0]!;
    const limit = bodyLimitFor(pathname);
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit.bytes) return tooLarge(req, res, limit.bytes, declared);
    req.limit = limit.bytes;
    if (req.received > limit.bytes) return tooLarge(req, res, limit.bytes);
    if (expectsContinue) res.writeContinue();
    const hasBody = (declared ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    if (hasBody && !limit.streamed) {
      req.buffering = true;
      const outcome = await req.outcome();
      req.buffering = false;
      if (outcome === "over") return tooLarge(req, res, limit.bytes);
      if (outcome === "aborted") return;
    } else if (hasBody) {
      req.onOver = () => tooLarge(req, res, limit.bytes);
    }
    await run(req, res);
  }

  function entry(req: IncomingMessage, res: ServerResponse, expectsContinue = false) {
    onRequest(req as GuardedRequest, res, expectsContinue).catch((e: unknown) => {
      logger.error({ err: e, method: req.method, url: req.url }, "request failed in the front door");
      if (!res.headersSent) res.writeHead(500).end();
    });
  }
  const server = http.createServer({ IncomingMessage: GuardedRequest }, (req, res) => entry(req, res));
  server.on("checkContinue", (req, res) => entry(req, res, true));
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    prepare(req);
    if (opts.upgrade) opts.upgrade(req, socket, head);
    else socket.destroy();
  });
  return server;
}
