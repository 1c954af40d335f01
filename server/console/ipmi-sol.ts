// IPMI Serial-over-LAN console backend: `ipmitool -I lanplus … -C 3 sol activate` run inside a
// pseudo-terminal, its bytes streamed both ways.
//
// Why a pty: ipmitool's SOL loop puts its stdin into raw mode with tcsetattr and gives up when
// stdin is not a terminal. Why Python's pty module (/usr/bin/python3) rather than util-linux
// `script -qfc "<cmd>" /dev/null`: `script` takes one shell command string, so the host and user
// name would need shell quoting, and it merges ipmitool's stderr into the console bytes. The small
// helper below execs ipmitool with an exact argv (no shell), gives it the pty as stdin/stdout only,
// and passes stderr through a separate pipe, so ipmitool's own messages never reach the viewer and
// are available to explain failures. No native addon (node-pty) is needed.
//
// ipmitool behaviour this relies on (ipmitool 1.8.19, lib/ipmi_sol.c):
//  - "[SOL Session operational.  Use ~? for help]" on stdout marks the session as up.
//  - Escapes are recognised only right after CR or LF (and at the start): "~." ends the session
//    (ipmitool then sends Deactivate Payload itself), "~B" sends a break, "~~" sends one "~". The
//    stream tracks the same state so a "~" typed by the viewer at line start is sent as "~~" and
//    cannot end or suspend the session; sendBreak() sends CR first when not at line start.
//  - ipmitool echoes "~B [send break]" / "~. [terminated ipmitool]" locally; the stream drops
//    those lines so they are not shown as server output.
//  - Activation is Activate Payload (netfn App, 0x48) only; ipmitool 1.8.19 does not send Get
//    Channel Payload Support (0x4E) on `sol activate`, and its keepalive is Get Device ID — the SOL
//    test checks the BMC never receives 0x4E.
//  - The first SOL packet after activation can be dropped: ipmitool numbers a new session's packets
//    from 1 again, and a BMC that does not reset its duplicate detection on activation (ipmi_sim
//    does not) discards it when the previous session's last packet also had number 1. Measured in
//    ipmi-sol.test.ts: without a wake byte, "half-typed" arrived as "alf-typed". So the stream
//    sends a wake byte first (default CR, which also makes a getty re-print its prompt); whether
//    the BMC keeps or drops it, the viewer's first keystroke travels in packet 2.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { BmcError, type BmcEndpoint } from "@/server/drivers/bmc/types";
import { IpmiDriver, classifyIpmitoolFailure, ipmitoolBaseArgs, ipmitoolEnv, parseIpmiAddress } from "@/server/drivers/bmc/ipmi";
import type { ConsoleBackend, ConsoleCloseReason, ConsoleStream, ConsoleStreamEvents } from "./types";

const BANNER = "[SOL Session operational.  Use ~? for help]";
const BREAK_ECHO = "~B [send break]\n";
const QUIT_ECHO = "~. [terminated ipmitool]\n";

/** Runs argv[1:] with the pty as stdin/stdout, stderr piped through; ends the child when stdin closes or on SIGTERM. */
const PTY_HELPER = `
import os, sys, select, signal, subprocess
m, s = os.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=s, stdout=s, stderr=subprocess.PIPE, close_fds=True)
os.close(s)
def stop(*_):
    if p.poll() is None:
        p.terminate()
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGHUP, stop)
err = p.stderr.fileno()
fds = [m, 0, err]
def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]
while m in fds or err in fds:
    r, _, _ = select.select(fds, [], [])
    for fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            fds.remove(fd)
            if fd == 0:
                stop()
            continue
        write_all(m if fd == 0 else (1 if fd == m else 2), data)
code = p.wait()
sys.exit(code if code >= 0 else 128 - code)
`;

export interface IpmiSolOptions {
  /** Python 3 with the pty module. Default /usr/bin/python3 (Debian's, not a pyenv/venv one). */
  python?: string;
  /** Default: env ANVIL_IPMITOOL or "ipmitool". */
  ipmitool?: string;
  /** Give up activating after this long, ms. Default 15000. */
  connectTimeoutMs?: number;
  /** When the BMC says SOL is active on another session, deactivate it and try once more. Default true:
   *  a console proxy that crashed leaves a session behind that would otherwise lock the console out. */
  takeOver?: boolean;
  /** Sent right after activation (see the header). null sends nothing. Default "\r". */
  wakeInput?: string | null;
}

/** A ConsoleBackend for one node's BMC over IPMI SOL. */
export class IpmiSolBackend implements ConsoleBackend {
  private readonly address: string;
  private readonly host: { host: string; port: number };

  constructor(
    private readonly ep: Pick<BmcEndpoint, "address" | "credentials">,
    private readonly opts: IpmiSolOptions = {},
  ) {
    this.host = parseIpmiAddress(ep.address);
    this.address = `${this.host.host}:${this.host.port}`;
    if (!ep.credentials?.username) throw new BmcError("invalid", this.address, `BMC ${this.address} has no IPMI user name configured`);
  }

  async connect(): Promise<ConsoleStream> {
    try {
      return await this.activate();
    } catch (e) {
      if (e instanceof BmcError && e.code === "unreachable" && /unable to establish/i.test(e.detail ?? "")) {
        throw await this.explainSessionFailure(e);
      }
      if (e instanceof SolInUseError && (this.opts.takeOver ?? true)) {
        await this.deactivate();
        try {
          return await this.activate();
        } catch (e2) {
          throw e2 instanceof SolInUseError ? e2.toBmcError() : e2;
        }
      }
      throw e instanceof SolInUseError ? e.toBmcError() : e;
    }
  }

  /** Without -v ipmitool says "Unable to establish … session" for any cause; ask the driver's verbose probe. */
  private async explainSessionFailure(original: BmcError): Promise<BmcError> {
    const probe = new IpmiDriver({ driver: "ipmi", address: this.address, credentials: this.ep.credentials, timeoutMs: 5000, retries: 0 });
    try {
      await probe.getPowerState();
      return original;
    } catch (e) {
      return e instanceof BmcError ? e : original;
    } finally {
      await probe.close();
    }
  }

  /** Sends Deactivate Payload for SOL instance 1. "Already de-activated" counts as success. */
  deactivate(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        this.opts.ipmitool ?? process.env.ANVIL_IPMITOOL ?? "ipmitool",
        [...ipmitoolBaseArgs(this.host, this.ep.credentials.username, 2), "sol", "deactivate"],
        { env: ipmitoolEnv(this.ep.credentials.password), timeout: 10_000, killSignal: "SIGKILL" },
        (err, stdout, stderr) => {
          if (!err || /already de-activated/i.test(stderr)) return resolve();
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null };
          reject(
            classifyIpmitoolFailure(
              { exitCode: typeof e.code === "number" ? e.code : null, killed: Boolean(e.killed), stderr, stdout, spawnError: typeof e.code === "string" ? e : undefined },
              { address: this.address, username: this.ep.credentials.username, what: "deactivate the serial console", timeoutMs: 10_000 },
            ),
          );
        },
      );
    });
  }

  private activate(): Promise<IpmiSolStream> {
    const timeoutMs = this.opts.connectTimeoutMs ?? 15_000;
    const ipmitool = this.opts.ipmitool ?? process.env.ANVIL_IPMITOOL ?? "ipmitool";
    // -N 2 -R 2: SOL packets wait up to 2 s for their ack, with two retries, before ipmitool gives up.
    // No -v: it adds debug text to stdout, which here is the console. On a failed session the
    // driver's verbose probe (explainSessionFailure) tells a wrong password from a dead BMC.
    const base = ipmitoolBaseArgs(this.host, this.ep.credentials.username, 2, 2).filter((a) => a !== "-v");
    const argv = [ipmitool, ...base, "sol", "activate"];
    const child = spawn(this.opts.python ?? "/usr/bin/python3", ["-c", PTY_HELPER, ...argv], {
      env: ipmitoolEnv(this.ep.credentials.password),
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new Promise((resolve, reject) => {
      let out = Buffer.alloc(0);
      let stderr = "";
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill("SIGTERM");
        reject(e);
      };
      const timer = setTimeout(
        () => fail(new BmcError("timeout", this.address, `BMC ${this.address} did not open the serial console within ${timeoutMs} ms`, { detail: stderr })),
        timeoutMs,
      );
      const onStdout = (d: Buffer) => {
        out = Buffer.concat([out, d]);
        const at = out.indexOf(BANNER);
        if (at < 0) return;
        let rest = out.subarray(at + BANNER.length);
        const nl = rest.indexOf("\n");
        if (nl < 0) return; // wait for the end of the banner line
        rest = rest.subarray(nl + 1);
        settled = true;
        clearTimeout(timer);
        child.stdout?.off("data", onStdout);
        const stream = new IpmiSolStream(child, this, () => stderr);
        resolve(stream);
        stream.start(rest, this.opts.wakeInput === undefined ? "\r" : this.opts.wakeInput);
      };
      child.stdout?.on("data", onStdout);
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString("utf8");
        if (stderr.length > 16_384) stderr = stderr.slice(-16_384);
      });
      child.on("error", (err: NodeJS.ErrnoException) => {
        fail(
          err.code === "ENOENT"
            ? new BmcError("unsupported", this.address, `${this.opts.python ?? "/usr/bin/python3"} is needed for IPMI serial consoles (Debian: apt-get install python3)`)
            : new BmcError("bmc_error", this.address, `Could not start ipmitool for the serial console: ${err.message}`),
        );
      });
      child.on("exit", (code) => {
        if (settled) return;
        if (/already active on another session/i.test(stderr)) return fail(new SolInUseError(this.address, stderr));
        if (/sol payload disabled/i.test(stderr)) {
          return fail(new BmcError("unsupported", this.address, `Serial-over-LAN is disabled on BMC ${this.address} (enable it: ipmitool sol set enabled true)`, { detail: stderr }));
        }
        if (/command not found|no such file/i.test(stderr) && /ipmitool/i.test(stderr)) {
          return fail(new BmcError("unsupported", this.address, "ipmitool is not installed on this Anvil server (Debian: apt-get install ipmitool)", { detail: stderr }));
        }
        fail(
          classifyIpmitoolFailure(
            { exitCode: code, killed: false, stderr, stdout: out.toString("utf8") },
            { address: this.address, username: this.ep.credentials.username, what: "open the serial console", timeoutMs },
          ),
        );
      });
    });
  }
}

class SolInUseError extends Error {
  constructor(
    readonly address: string,
    readonly detail: string,
  ) {
    super("SOL in use");
  }
  toBmcError() {
    return new BmcError("bmc_error", this.address, `The serial console of BMC ${this.address} is in use by another session`, {
      detail: this.detail,
      transient: true,
    });
  }
}

/** One activated SOL session (exported for tests of the escaping rules). */
export class IpmiSolStream extends EventEmitter<ConsoleStreamEvents> implements ConsoleStream {
  private lastWasCr = true; // ipmitool starts "at line start"
  private expectedEchoes: string[] = [];
  private closing: Promise<void> | null = null;
  private closeReason: ConsoleCloseReason | null = null;
  private exited = false;
  private exitCode: number | null = null;
  private exitWaiters: (() => void)[] = [];
  closed = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly backend: IpmiSolBackend,
    private readonly stderr: () => string,
  ) {
    super();
  }

  /** Called once after activation with output that followed the banner. */
  start(initial: Buffer, wake: string | null) {
    this.child.stdout?.on("data", (d: Buffer) => this.onOutput(d));
    this.child.stdin?.on("error", () => undefined); // EPIPE after exit; "close" reports it
    this.child.on("exit", (code) => {
      this.exited = true;
      this.exitCode = code;
      for (const w of this.exitWaiters.splice(0)) w();
      if (!this.closing) {
        const err = this.stderr();
        const bmcClosed = /closed by bmc|deactivated|payload.*inactive/i.test(err);
        const keepalive = /keepalive/i.test(err);
        this.finish({
          code: bmcClosed ? "remote" : "error",
          message: bmcClosed
            ? "The BMC ended the serial console session (another session may have taken it over)"
            : keepalive
              ? "The BMC stopped answering; the serial console session was lost"
              : `The serial console session ended unexpectedly${err.trim() ? `: ${err.trim().split("\n").at(-1)}` : ""}`,
        });
      }
    });
    if (initial.length) queueMicrotask(() => this.onOutput(initial));
    if (wake) this.sendRaw(Buffer.from(wake, "latin1"));
  }

  write(data: Buffer | string): void {
    if (this.closed || this.closing) return;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const out: number[] = [];
    for (const b of bytes) {
      if (b === 0x7e && this.lastWasCr) {
        out.push(0x7e, 0x7e); // "~~" → ipmitool sends one "~" instead of treating it as an escape
        this.lastWasCr = false;
        continue;
      }
      out.push(b);
      this.lastWasCr = b === 0x0d || b === 0x0a;
    }
    this.sendRaw(Buffer.from(out));
  }

  async sendBreak(): Promise<void> {
    if (this.closed || this.closing) throw new Error("The serial console session is closed");
    // An escape is only recognised at line start; ipmitool leaves that state unchanged after ~B.
    const prefix = this.lastWasCr ? "" : "\r";
    this.lastWasCr = true;
    this.expectedEchoes.push(BREAK_ECHO);
    this.sendRaw(Buffer.from(`${prefix}~B`, "latin1"));
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown() {
    let clean = false;
    if (!this.exited && this.lastWasCr) {
      // "~." makes ipmitool deactivate the payload itself and exit 0.
      this.expectedEchoes.push(QUIT_ECHO);
      this.sendRaw(Buffer.from("~.", "latin1"));
      clean = (await this.waitExit(3000)) && this.exitCode === 0;
    }
    if (!this.exited) {
      // Not at line start (sending CR could run a half-typed command) or ipmitool hung: stop it and
      // deactivate the payload from outside.
      this.child.kill("SIGTERM");
      if (!(await this.waitExit(2000))) {
        this.child.kill("SIGKILL");
        await this.waitExit(2000);
      }
    }
    let message = "Console closed";
    if (!clean) {
      try {
        await this.backend.deactivate();
      } catch (e) {
        message = `Console closed; releasing the BMC's SOL session failed: ${(e as Error).message}`;
      }
    }
    this.finish({ code: "client", message });
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private finish(reason: ConsoleCloseReason) {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.emit("close", reason);
  }

  /** Why the stream closed, once it has. */
  get reason(): ConsoleCloseReason | null {
    return this.closeReason;
  }

  private sendRaw(b: Buffer) {
    if (!this.exited) this.child.stdin?.write(b);
  }

  private onOutput(d: Buffer) {
    let chunk = d;
    // Drop ipmitool's local echo of escapes we sent; it is printed in one write (line-buffered tty).
    while (this.expectedEchoes.length) {
      const at = chunk.indexOf(this.expectedEchoes[0]);
      if (at < 0) break;
      const echo = this.expectedEchoes.shift()!;
      chunk = Buffer.concat([chunk.subarray(0, at), chunk.subarray(at + Buffer.byteLength(echo))]);
    }
    if (chunk.length && !this.closed) this.emit("data", chunk);
  }
}
