// Redfish serial console backend: the WebSocket a BMC advertises in ComputerSystem
// SerialConsole.WebSocket.ConsoleURI (Redfish 2025.3), opened with the `ws` package and the BMC's
// credentials in an Authorization header (a server can set headers; only browsers need ?token=).
// Frames carry raw terminal bytes both ways. A serial BREAK is the escape ESC B K, as the lab's BMCs and
// OpenBMC's bmcweb console understand it.
import WebSocket from "ws";
import { mgmtLookup, mgmtRefusalIn, resolveMgmtHost } from "@/server/lib/mgmt-network";
import { BmcError, type BmcCredentials } from "@/server/drivers/bmc/types";
import type { ConsoleBackend, ConsoleCloseReason, ConsoleStream, ConsoleStreamEvents } from "./types";
import { EventEmitter } from "node:events";

/** Bytes a Redfish console reads as a serial BREAK. */
export const REDFISH_BREAK = Buffer.from("\x1bBK", "latin1");

export interface RedfishConsoleOptions {
  /** The BMC, for messages (its base URL). */
  address: string;
  credentials: BmcCredentials;
  /** The ws:// or wss:// console URL, or a function asking the BMC for it on every connect (the URI can change
   *  across BMC reboots); the function returns null when the BMC offers no WebSocket console. */
  consoleUri: string | (() => Promise<string | null>);
  /** Verify the BMC's TLS certificate (wss). Default true. */
  verifyTls?: boolean;
  /** Give up opening after this long, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Ping the BMC this often and drop the link when a pong does not come back before the next ping, ms.
   *  Default 20000 (a half-open TCP connection would otherwise look like a silent console forever). */
  pingIntervalMs?: number;
}

export class RedfishConsoleBackend implements ConsoleBackend {
  constructor(private readonly opts: RedfishConsoleOptions) {}

  async connect(): Promise<ConsoleStream> {
    const { address } = this.opts;
    const url = typeof this.opts.consoleUri === "string" ? this.opts.consoleUri : await this.opts.consoleUri();
    if (!url) throw new BmcError("unsupported", address, `BMC ${address} offers no WebSocket serial console (SerialConsole.WebSocket.ConsoleURI)`);
    const { username, password } = this.opts.credentials;
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    // The console URI comes from the BMC: it must be on the management network like the BMC itself.
    await checkConsoleHost(address, new URL(url).hostname);
    const ws = new WebSocket(url, {
      lookup: mgmtLookup as never,
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` },
      rejectUnauthorized: this.opts.verifyTls ?? true,
      handshakeTimeout: timeout,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (e: BmcError) => {
        ws.removeAllListeners();
        ws.on("error", () => undefined);
        ws.terminate();
        reject(e);
      };
      ws.once("open", () => {
        ws.removeAllListeners();
        resolve();
      });
      ws.once("unexpected-response", (_req, res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        if (status === 401 || status === 403)
          fail(new BmcError("auth", address, `BMC ${address} refused the credentials for user ${username} on its serial console (HTTP ${status})`));
        else if (status === 404) fail(new BmcError("unsupported", address, `BMC ${address} has no serial console at ${url} (HTTP 404)`));
        else fail(new BmcError("bmc_error", address, `BMC ${address} refused the serial console connection (HTTP ${status})`, { transient: status >= 500 }));
      });
      ws.once("error", (err: NodeJS.ErrnoException) => {
        const m = err.message ?? String(err);
        if (/certificate|self[- ]signed|CERT_/i.test(m) || /CERT|SELF_SIGNED/.test(err.code ?? ""))
          fail(
            new BmcError("tls", address, `BMC ${address}'s TLS certificate is not trusted (${m}); trust it or turn certificate verification off for this node`),
          );
        else if (/timed out|timeout/i.test(m)) fail(new BmcError("timeout", address, `BMC ${address} did not open its serial console within ${timeout} ms`));
        else fail(new BmcError("unreachable", address, `Could not reach the serial console of BMC ${address}: ${m}`, { cause: err }));
      });
    });
    return new RedfishConsoleStream(ws, address, this.opts.pingIntervalMs ?? 20_000);
  }
}

/** One open Redfish console WebSocket. */
export class RedfishConsoleStream extends EventEmitter<ConsoleStreamEvents> implements ConsoleStream {
  closed = false;
  private closing: Promise<void> | null = null;
  private readonly pinger: NodeJS.Timeout;
  private awaitingPong = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly address: string,
    pingIntervalMs: number,
  ) {
    super();
    ws.on("message", (data, isBinary) => {
      if (this.closed) return;
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      // Some BMCs send text frames; the bytes are the same either way.
      void isBinary;
      if (chunk.length) this.emit("data", chunk);
    });
    ws.on("pong", () => {
      this.awaitingPong = false;
    });
    ws.on("error", () => undefined); // "close" follows and reports
    ws.on("close", (code, reasonBuf) => this.onClose(code, reasonBuf.toString("utf8")));
    this.pinger = setInterval(() => {
      if (this.awaitingPong) {
        ws.terminate(); // no pong for a whole interval: the link is dead
        return;
      }
      this.awaitingPong = true;
      try {
        ws.ping();
      } catch {
        /* closing */
      }
    }, pingIntervalMs);
    this.pinger.unref();
  }

  write(data: Buffer | string): void {
    if (this.closed || this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(typeof data === "string" ? Buffer.from(data, "utf8") : data, { binary: true });
  }

  async sendBreak(): Promise<void> {
    if (this.closed || this.closing || this.ws.readyState !== WebSocket.OPEN) throw new Error("The serial console session is closed");
    this.ws.send(REDFISH_BREAK, { binary: true });
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => {
        if (this.closed) return resolve();
        this.once("close", () => resolve());
        this.ws.close(1000, "Console closed");
        // A BMC that never answers the close handshake is cut after 3 s.
        setTimeout(() => this.ws.terminate(), 3000).unref();
      });
    }
    return this.closing;
  }

  private onClose(code: number, reason: string) {
    clearInterval(this.pinger);
    if (this.closed) return;
    this.closed = true;
    let r: ConsoleCloseReason;
    if (this.closing) r = { code: "client", message: "Console closed" };
    else if (code === 4000 || (code >= 1000 && code < 1006) || code === 1008)
      r = { code: "remote", message: `BMC ${this.address} ended the serial console session${reason ? ` (${reason})` : ""}` };
    else r = { code: "error", message: `Lost the connection to the serial console of BMC ${this.address}${code === 1006 ? "" : ` (close code ${code})`}` };
    this.emit("close", r);
  }
}

/** Refuses (fatally) a console host outside the management-network policy (server/lib/mgmt-network.ts). */
export async function checkConsoleHost(address: string, host: string): Promise<string[] | null> {
  try {
    return await resolveMgmtHost(host);
  } catch (e) {
    const r = mgmtRefusalIn(e);
    if (r) throw new BmcError("forbidden", address, r.message);
    return null; // unresolvable: the connection attempt reports it
  }
}
