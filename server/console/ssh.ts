// SSH serial console backend: the BMC's console-over-SSH port (OpenBMC: port 2200, where obmc-console puts
// the host's serial line straight onto the SSH session; other BMCs: a dedicated console port). ssh2 client,
// password (or keyboard-interactive) login, one interactive shell channel with a pty.
//
// BREAK: SSH carries a serial BREAK as an RFC 4335 "break" channel request, which ssh2's client cannot
// send. Where the console understands an in-band break sequence it is configured with `breakSequence`;
// otherwise sendBreak() says plainly that this console cannot send one.
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { Client, type ClientChannel } from "ssh2";
import { BmcError, type BmcCredentials } from "@/server/drivers/bmc/types";
import { checkConsoleHost } from "./redfish-ws";
import type { ConsoleBackend, ConsoleCloseReason, ConsoleStream, ConsoleStreamEvents } from "./types";

export interface SshConsoleOptions {
  host: string;
  /** Default 2200 (OpenBMC's host console port). */
  port?: number;
  credentials: BmcCredentials;
  /** When set, the BMC's host key must have this SHA-256 fingerprint (base64, as `ssh-keygen -l` prints it,
   *  with or without the "SHA256:" prefix). Unset: any host key is accepted (the BMC network is trusted). */
  hostKeySha256?: string;
  /** Bytes that make this console send a serial BREAK, if it has such a sequence. */
  breakSequence?: string;
  /** Default 10000 ms. */
  connectTimeoutMs?: number;
  /** SSH keepalive interval, ms (default 20000); three missed answers end the session. */
  keepaliveMs?: number;
  term?: string;
}

export class SshConsoleBackend implements ConsoleBackend {
  private readonly address: string;

  constructor(private readonly opts: SshConsoleOptions) {
    this.address = `${opts.host}:${opts.port ?? 2200}`;
  }

  async connect(): Promise<ConsoleStream> {
    const { credentials } = this.opts;
    // Connect to the address the policy checked (no second lookup an attacker's DNS could answer differently).
    const host = (await checkConsoleHost(this.address, this.opts.host))?.[0] ?? this.opts.host;
    const port = this.opts.port ?? 2200;
    const address = this.address;
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    const want = this.opts.hostKeySha256?.replace(/^SHA256:/, "").replace(/=+$/, "");
    let badHostKey: string | null = null;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const fail = (e: BmcError) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(e);
      };
      client.once("ready", () => {
        client.shell({ term: this.opts.term ?? "xterm-256color", cols: 80, rows: 24 }, (err, channel) => {
          if (err) return fail(new BmcError("bmc_error", address, `BMC ${address} refused to open its SSH console: ${err.message}`));
          settled = true;
          resolve(new SshConsoleStream(client, channel, address, this.opts.breakSequence));
        });
      });
      client.on("keyboard-interactive", (_name, _instr, _lang, prompts, finish) => finish(prompts.map(() => credentials.password)));
      client.on("error", (err: Error & { level?: string; code?: string }) => {
        if (badHostKey) return fail(new BmcError("tls", address, badHostKey));
        if (err.level === "client-authentication")
          return fail(new BmcError("auth", address, `BMC ${address} refused the credentials for user ${credentials.username} on its SSH console`));
        if (err.level === "client-timeout" || /timed out/i.test(err.message))
          return fail(new BmcError("timeout", address, `BMC ${address} did not open its SSH console within ${timeout} ms`));
        fail(new BmcError("unreachable", address, `Could not reach the SSH console of BMC ${address}: ${err.message}`, { cause: err }));
      });
      client.on("close", () => fail(new BmcError("unreachable", address, `BMC ${address} closed the SSH connection before the console opened`)));
      client.connect({
        host,
        port,
        username: credentials.username,
        password: credentials.password,
        tryKeyboard: true,
        readyTimeout: timeout,
        keepaliveInterval: this.opts.keepaliveMs ?? 20_000,
        keepaliveCountMax: 3,
        hostVerifier: want
          ? (key: Buffer) => {
              const got = createHash("sha256").update(key).digest("base64").replace(/=+$/, "");
              if (got === want) return true;
              badHostKey = `BMC ${address}'s SSH host key (SHA256:${got}) is not the one configured for this node (SHA256:${want})`;
              return false;
            }
          : undefined,
      });
    });
  }
}

/** One open SSH console channel. */
export class SshConsoleStream extends EventEmitter<ConsoleStreamEvents> implements ConsoleStream {
  closed = false;
  private closing: Promise<void> | null = null;
  private lastError: Error | null = null;

  constructor(
    private readonly client: Client,
    private readonly channel: ClientChannel,
    private readonly address: string,
    private readonly breakSequence: string | undefined,
  ) {
    super();
    channel.on("data", (d: Buffer) => {
      if (!this.closed) this.emit("data", d);
    });
    channel.stderr.on("data", (d: Buffer) => {
      if (!this.closed) this.emit("data", d);
    });
    client.on("error", (e) => {
      this.lastError = e;
    });
    channel.on("close", () => this.finish());
    client.on("close", () => this.finish());
  }

  write(data: Buffer | string): void {
    if (this.closed || this.closing) return;
    this.channel.write(data);
  }

  async sendBreak(): Promise<void> {
    if (this.closed || this.closing) throw new Error("The serial console session is closed");
    if (!this.breakSequence)
      throw new BmcError("unsupported", this.address, `The SSH console of BMC ${this.address} cannot send a serial BREAK (no break sequence is configured)`);
    this.channel.write(this.breakSequence);
  }

  resize(cols: number, rows: number): void {
    if (!this.closed) this.channel.setWindow(rows, cols, 0, 0);
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => {
        if (this.closed) return resolve();
        this.once("close", () => resolve());
        this.channel.close();
        this.client.end();
        setTimeout(() => {
          this.client.destroy();
          this.finish();
        }, 3000).unref();
      });
    }
    return this.closing;
  }

  private finish() {
    if (this.closed) return;
    this.closed = true;
    this.client.end();
    let r: ConsoleCloseReason;
    if (this.closing) r = { code: "client", message: "Console closed" };
    else if (this.lastError) r = { code: "error", message: `Lost the SSH console of BMC ${this.address}: ${this.lastError.message}` };
    else r = { code: "remote", message: `BMC ${this.address} ended the SSH console session` };
    this.emit("close", r);
  }
}
