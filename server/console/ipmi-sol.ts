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
// ipmitool behaviour this relies on (ipmitool 1.8.19, lib/ipmi_sol.c, src/plugins/lanplus/lanplus.c):
//  - "[SOL Session operational.  Use ~? for help]" on stdout marks the session as up. It is printed BEFORE
//    ipmitool switches its terminal to raw mode, so the helper makes the pty raw itself before starting
//    ipmitool: otherwise bytes written in that window meet a cooked line discipline (echoed back as output,
//    CR turned into LF, ^C/^Z/^U acted on) — garbage on the host and in the viewer.
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
//
// Another client taking the console (issue #13). When someone else deactivates SOL or takes it over (`sol
// deactivate` + `sol activate` from another ipmitool, a BMC web console), the BMC stops acknowledging our packets
// but still answers the IPMI session's Get Device ID keepalive: ipmitool notices only when it next sends data, and
// then fails that data after its retries ("Error sending SOL data: FAIL", "SOL session closed by BMC"). Left alone
// the console looked connected with no output, the next line typed was lost, and the scrollback recorded nothing.
// So the stream
//  - asks the BMC who holds SOL instance 1 (Get Payload Instance Info, App 0x4B: the owning session id) right after
//    activation and again whenever no output arrived for ownershipCheckMs (a silent console is the symptom); Get
//    Payload Activation Status (0x4A) stands in when 0x4B is not implemented (it sees a deactivation, not a takeover);
//  - when the owner changed (or ipmitool exited with a BMC-closed message and the owner is not us), ends with
//    {code: "remote", message: "Another client took over the serial console"} — the session layer says
//    "…; reconnecting" and reconnects, and connect() takes SOL back (deactivate + activate) — without sending "~."
//    or Deactivate Payload from the old session (either would end the NEW holder's session: Deactivate Payload
//    names the instance, not the session);
//  - never drops typed input silently: the helper feeds ipmitool one small chunk at a time and learns which chunks
//    the BMC took (ipmitool reads the next chunk only after the previous one was acknowledged, and exits when a
//    send fails, so a chunk is delivered once ipmitool read the next one or stayed alive past its retry budget).
//    What the BMC did not take is QUEUED for this BMC (at most CARRY_OVER_BYTES, for CARRY_OVER_MS) and sent by the
//    next stream of the same BMC right after it reacquired the console, with a "[console: …]" line saying so; what
//    does not fit or waited too long is reported in that line, not silently lost. Breaks and the close escape are
//    never replayed. (Input written to the session layer while it has no stream at all is the session's to queue or
//    refuse — server/console/README.md.)
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import { IpmiDriver, classifyIpmitoolFailure, ipmitoolBaseArgs, ipmitoolEnv, parseIpmiAddress } from "@/server/drivers/bmc/ipmi";
import { BmcError, type BmcEndpoint, isBmcError } from "@/server/drivers/bmc/types";
import { checkConsoleHost } from "./redfish-ws";
import type { ConsoleBackend, ConsoleCloseReason, ConsoleStream, ConsoleStreamEvents } from "./types";

const BANNER = "[SOL Session operational.  Use ~? for help]";
const BREAK_ECHO = "~B [send break]\n";
const QUIT_ECHO = "~. [terminated ipmitool]\n";

/** SOL ipmitool's -N (seconds per try) and -R (tries): a failed send gives up after about SOL_TRIES × SOL_WAIT_S. */
const SOL_WAIT_S = 2;
const SOL_TRIES = 2;
/** A chunk ipmitool read and is still alive this long afterwards was acknowledged (it exits when a send fails). */
const CONFIRM_S = SOL_TRIES * SOL_WAIT_S + 2;
/** Bytes per chunk fed to ipmitool: below any BMC's SOL payload size, so ipmitool sends a chunk as one packet. */
const MAX_CHUNK = 32;
/** Typed input the BMC did not take, kept for the next stream of the same BMC: at most this much, this long. */
export const CARRY_OVER_BYTES = 4096;
export const CARRY_OVER_MS = 60_000;
/** The close reasons a viewer sees (the session layer appends "; reconnecting in …"). */
export const TAKEN_OVER = "Another client took over the serial console";
export const DEACTIVATED = "Another client deactivated the serial console";

/**
 * Runs ipmitool (argv[3:]) with a raw pty as stdin/stdout and stderr piped through. Input arrives on stdin as frames
 * (2-byte big-endian length, bytes); they are written to the pty one chunk (≤ argv[2] bytes, whole frames) at a time,
 * the next only once ipmitool has read the previous one (TIOCINQ on the slave is 0). Delivery is reported on fd 3 as
 * "d <frames>\n" (a running count): a chunk counts once ipmitool read the next chunk (it reads only after the BMC
 * acknowledged the previous send) or was still alive argv[1] seconds after reading it (a failed send makes it exit
 * sooner). SIGUSR1: feed nothing more, wait until the chunk in flight is settled, then stop ipmitool. SIGTERM/SIGHUP
 * or stdin closing: stop ipmitool now.
 */
export const SOL_PTY_HELPER = `
import os, sys, select, signal, subprocess, termios, tty, fcntl, struct, time
confirm = float(sys.argv[1]); max_chunk = int(sys.argv[2])
m, s = os.openpty()
tty.setraw(s)
p = subprocess.Popen(sys.argv[3:], stdin=s, stdout=s, stderr=subprocess.PIPE, close_fds=True)
fcntl.fcntl(m, fcntl.F_SETFL, fcntl.fcntl(m, fcntl.F_GETFL) | os.O_NONBLOCK)
state = {"drain": False}
def stop(*_):
    if p.poll() is None:
        p.terminate()
def drain(*_):
    state["drain"] = True
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGHUP, stop)
signal.signal(signal.SIGUSR1, drain)
err = p.stderr.fileno()
def write_all(fd, data):
    while data:
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            select.select([], [fd], [])
def unread():
    return struct.unpack("i", fcntl.ioctl(s, termios.TIOCINQ, b"\\0\\0\\0\\0"))[0]
frames = []; inbuf = b""; queued = 0; sending = 0; sent_at = 0.0; done = 0; reported = 0
stdin_open = True; err_open = True
while True:
    now = time.monotonic()
    alive = p.poll() is None
    if queued and unread() == 0:
        done += sending; sending = queued; sent_at = now; queued = 0
    if sending and not queued and alive and now - sent_at >= confirm:
        done += sending; sending = 0
    if done != reported:
        os.write(3, b"d %d\\n" % done); reported = done
    if alive and not queued and frames and not state["drain"]:
        chunk = [frames.pop(0)]
        while frames and sum(map(len, chunk)) + len(frames[0]) <= max_chunk:
            chunk.append(frames.pop(0))
        write_all(m, b"".join(chunk)); queued = len(chunk)
    if alive and state["drain"] and not queued and not sending:
        stop()
    if not alive and not err_open:
        while True:
            try:
                data = os.read(m, 65536)
            except (BlockingIOError, OSError):
                break
            if not data:
                break
            write_all(1, data)
        sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
    timeout = None
    if queued or not alive or not err_open:
        timeout = 0.005
    elif sending:
        timeout = max(0.0, sent_at + confirm - now)
    fds = [m] + ([0] if stdin_open else []) + ([err] if err_open else [])
    try:
        r, _, _ = select.select(fds, [], [], timeout)
    except InterruptedError:
        continue
    for fd in r:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if fd == m:
            if data:
                write_all(1, data)
        elif fd == err:
            if data:
                write_all(2, data)
            else:
                err_open = False
        else:
            if not data:
                stdin_open = False; stop(); continue
            inbuf += data
            while len(inbuf) >= 2 and len(inbuf) >= 2 + (inbuf[0] << 8 | inbuf[1]):
                n = inbuf[0] << 8 | inbuf[1]
                frames.append(inbuf[2:2 + n]); inbuf = inbuf[2 + n:]
`;

export interface IpmiSolOptions {
  /** Python 3 with the pty module. Default /usr/bin/python3 (Debian's, not a pyenv/venv one). */
  python?: string;
  /** Default: env ANVIL_IPMITOOL or "ipmitool". */
  ipmitool?: string;
  /** Give up activating after this long, ms. Default 15000. */
  connectTimeoutMs?: number;
  /** When the BMC says SOL is active on another session, deactivate it and try once more. Default true:
   *  a console proxy that crashed leaves a session behind that would otherwise lock the console out, and a
   *  console another client took over is taken back (the viewer asked for it). */
  takeOver?: boolean;
  /** Sent right after activation (see the header). null sends nothing. Default "\r". */
  wakeInput?: string | null;
  /**
   * Ask the BMC who holds SOL when no output arrived for this long, ms (see the header); each look is one short IPMI
   * session. 0: only when ipmitool fails. Default env ANVIL_IPMI_SOL_CHECK_MS or 10000.
   */
  ownershipCheckMs?: number;
}

/** Who holds SOL instance 1, as far as the BMC says. */
type SolHolder = { session: number } | { active: boolean } | null;

/** Typed input a BMC did not take, waiting for the next stream of that BMC (keyed by address and user). */
const carryOvers = new Map<string, { bytes: Buffer; since: number; dropped: number }>();

function keep(key: string, bytes: Buffer) {
  if (!bytes.length) return;
  const now = Date.now();
  const prev = carryOvers.get(key);
  const base = prev && now - prev.since <= CARRY_OVER_MS ? prev : { bytes: Buffer.alloc(0), since: now, dropped: prev ? prev.bytes.length + prev.dropped : 0 };
  const all = Buffer.concat([base.bytes, bytes]);
  const kept = all.subarray(0, CARRY_OVER_BYTES);
  carryOvers.set(key, { bytes: Buffer.from(kept), since: base.since, dropped: base.dropped + (all.length - kept.length) });
}

/** A ConsoleBackend for one node's BMC over IPMI SOL. */
export class IpmiSolBackend implements ConsoleBackend {
  private readonly address: string;
  private readonly host: { host: string; port: number };
  /** Carry-over key: input typed for this BMC and user. */
  readonly key: string;

  constructor(
    private readonly ep: Pick<BmcEndpoint, "address" | "credentials">,
    private readonly opts: IpmiSolOptions = {},
  ) {
    this.host = parseIpmiAddress(ep.address);
    this.address = `${this.host.host}:${this.host.port}`;
    if (!ep.credentials?.username) throw new BmcError("invalid", this.address, `BMC ${this.address} has no IPMI user name configured`);
    this.key = `${this.address}|${ep.credentials.username}`;
  }

  async connect(): Promise<ConsoleStream> {
    // The BMC must be on the management network (server/lib/mgmt-network.ts); a refusal is final.
    await checkConsoleHost(this.address, this.host.host);
    try {
      return await this.activate();
    } catch (e) {
      if (isBmcError(e) && e.code === "unreachable" && /unable to establish/i.test(e.detail ?? "")) {
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
      return isBmcError(e) ? e : original;
    } finally {
      await probe.close();
    }
  }

  private ipmitool(): string {
    return this.opts.ipmitool ?? process.env.ANVIL_IPMITOOL ?? "ipmitool";
  }

  /** Sends Deactivate Payload for SOL instance 1. "Already de-activated" counts as success. */
  deactivate(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        this.ipmitool(),
        [...ipmitoolBaseArgs(this.host, this.ep.credentials.username, 2), "sol", "deactivate"],
        { env: ipmitoolEnv(this.ep.credentials.password), timeout: 10_000, killSignal: "SIGKILL" },
        (err, stdout, stderr) => {
          if (!err || /already de-activated/i.test(stderr)) return resolve();
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null };
          reject(
            classifyIpmitoolFailure(
              {
                exitCode: typeof e.code === "number" ? e.code : null,
                killed: Boolean(e.killed),
                stderr,
                stdout,
                spawnError: typeof e.code === "string" ? e : undefined,
              },
              { address: this.address, username: this.ep.credentials.username, what: "deactivate the serial console", timeoutMs: 10_000 },
            ),
          );
        },
      );
    });
  }

  /**
   * Who holds SOL instance 1: the owning session id (Get Payload Instance Info, App 0x4B; 0 = nobody), else whether
   * it is active at all (Get Payload Activation Status, App 0x4A), else null (the BMC implements neither, or did not
   * answer). Each call is a short IPMI session of its own.
   */
  async holder(): Promise<SolHolder> {
    const raw = (args: string[]) =>
      new Promise<number[] | null>((resolve) => {
        execFile(
          this.ipmitool(),
          [...ipmitoolBaseArgs(this.host, this.ep.credentials.username, 1, 1).filter((a) => a !== "-v"), "raw", "0x06", ...args],
          { env: ipmitoolEnv(this.ep.credentials.password), timeout: 8000, killSignal: "SIGKILL" },
          (err, stdout) =>
            resolve(
              err
                ? null
                : stdout
                    .trim()
                    .split(/\s+/)
                    .filter(Boolean)
                    .map((h) => Number.parseInt(h, 16)),
            ),
        );
      });
    const info = await raw(["0x4b", "0x01", "0x01"]);
    if (info && info.length >= 4 && info.every((b) => Number.isInteger(b))) {
      return { session: (info[0]! | (info[1]! << 8) | (info[2]! << 16) | (info[3]! << 24)) >>> 0 };
    }
    const status = await raw(["0x4a", "0x01"]);
    if (status && status.length >= 2) return { active: (status[1]! & 0x01) !== 0 };
    return null;
  }

  private activate(): Promise<IpmiSolStream> {
    const timeoutMs = this.opts.connectTimeoutMs ?? 15_000;
    // -N 2 -R 2: SOL packets wait up to 2 s for their ack, with two tries, before ipmitool gives up.
    // No -v: it adds debug text to stdout, which here is the console. On a failed session the
    // driver's verbose probe (explainSessionFailure) tells a wrong password from a dead BMC.
    const base = ipmitoolBaseArgs(this.host, this.ep.credentials.username, SOL_WAIT_S, SOL_TRIES).filter((a) => a !== "-v");
    const argv = [this.ipmitool(), ...base, "sol", "activate"];
    const child = spawn(this.opts.python ?? "/usr/bin/python3", ["-c", SOL_PTY_HELPER, String(CONFIRM_S), String(MAX_CHUNK), ...argv], {
      env: ipmitoolEnv(this.ep.credentials.password),
      stdio: ["pipe", "pipe", "pipe", "pipe"],
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
        const stream = new IpmiSolStream(child, this, () => stderr, this.opts.ownershipCheckMs ?? Number(process.env.ANVIL_IPMI_SOL_CHECK_MS ?? 10_000));
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
            ? new BmcError(
                "unsupported",
                this.address,
                `${this.opts.python ?? "/usr/bin/python3"} is needed for IPMI serial consoles (Debian: apt-get install python3)`,
              )
            : new BmcError("bmc_error", this.address, `Could not start ipmitool for the serial console: ${err.message}`),
        );
      });
      child.on("close", (code) => {
        if (settled) return;
        if (/already active on another session/i.test(stderr)) return fail(new SolInUseError(this.address, stderr));
        if (/sol payload disabled/i.test(stderr)) {
          return fail(
            new BmcError("unsupported", this.address, `Serial-over-LAN is disabled on BMC ${this.address} (enable it: ipmitool sol set enabled true)`, {
              detail: stderr,
            }),
          );
        }
        if (/command not found|no such file/i.test(stderr) && /ipmitool/i.test(stderr)) {
          return fail(
            new BmcError("unsupported", this.address, "ipmitool is not installed on this Anvil server (Debian: apt-get install ipmitool)", { detail: stderr }),
          );
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

/** One frame of input for the helper: the bytes ipmitool gets, and the typed bytes to re-send if the BMC did not take them. */
interface Frame {
  bytes: Buffer;
  /** null: not the viewer's typing (wake byte, break, close escape) — never replayed. */
  typed: Buffer | null;
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
  /** Frames sent to the helper, in order; frames[i] has number base + i. */
  private frames: Frame[] = [];
  private frameBase = 0;
  /** How many frames the BMC took (the helper's running count). */
  private delivered = 0;
  /** Set when another client holds SOL: no more input goes to this ipmitool. */
  private lost: string | null = null;
  /** Typed after the loss or after ipmitool exited, before the undelivered frames were handed over (kept after them). */
  private held: Buffer[] = [];
  /** The undelivered input went to the carry-over; later typing goes straight after it. */
  private handedOver = false;
  private ourSession: number | null = null;
  private lastOutputAt = Date.now();
  private watchdog: NodeJS.Timeout | null = null;
  private checking = false;
  closed = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly backend: IpmiSolBackend,
    private readonly stderr: () => string,
    private readonly ownershipCheckMs: number,
  ) {
    super();
  }

  /** Called once after activation with output that followed the banner. */
  start(initial: Buffer, wake: string | null) {
    this.child.stdout?.on("data", (d: Buffer) => this.onOutput(d));
    (this.child.stdin as Writable | null)?.on("error", () => undefined); // EPIPE after exit; "exit" reports it
    let reports = "";
    (this.child.stdio[3] as Readable | null)?.on("data", (d: Buffer) => {
      reports += d.toString("latin1");
      let nl = reports.indexOf("\n");
      while (nl >= 0) {
        const m = /^d (\d+)$/.exec(reports.slice(0, nl));
        if (m) this.onDelivered(Number(m[1]));
        reports = reports.slice(nl + 1);
        nl = reports.indexOf("\n");
      }
    });
    // "close", not "exit": by then stdout, stderr and the delivery reports have all been read.
    this.child.on("close", (code) => void this.onExit(code));
    // After the connect() caller's awaits have run and its listeners are attached.
    if (initial.length) setImmediate(() => this.onOutput(initial));
    if (wake) this.send(Buffer.from(wake, "latin1"), null);
    this.resend();
    // Learn which session holds SOL now (ours); with ownershipCheckMs 0 only ipmitool's own failures start a look.
    void this.checkHolder(true);
    if (this.ownershipCheckMs > 0) {
      this.watchdog = setInterval(() => {
        if (Date.now() - this.lastOutputAt >= this.ownershipCheckMs) void this.checkHolder(false);
      }, this.ownershipCheckMs);
      this.watchdog.unref();
    }
  }

  write(data: Buffer | string): void {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (this.lost) {
      // Another client holds the console: keep it for the stream that takes it back (never into this ipmitool),
      // after whatever is still in flight.
      this.hold(bytes);
      return;
    }
    if (this.closed || this.closing) return;
    this.typed(bytes);
  }

  async sendBreak(): Promise<void> {
    if (this.closed || this.closing || this.lost) throw new Error("The serial console session is closed");
    // An escape is only recognised at line start; ipmitool leaves that state unchanged after ~B.
    const prefix = this.lastWasCr ? "" : "\r";
    this.lastWasCr = true;
    this.expectedEchoes.push(BREAK_ECHO);
    this.send(Buffer.from(`${prefix}~B`, "latin1"), null);
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutdown();
    return this.closing;
  }

  /** Why the stream closed, once it has. */
  get reason(): ConsoleCloseReason | null {
    return this.closeReason;
  }

  /** Escapes typed bytes for ipmitool and sends them in frames of at most MAX_CHUNK bytes ("~~" never split). */
  private typed(bytes: Buffer) {
    let out: number[] = [];
    let from = 0;
    const flush = (to: number) => {
      if (out.length) this.send(Buffer.from(out), bytes.subarray(from, to));
      out = [];
      from = to;
    };
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      const esc = b === 0x7e && this.lastWasCr ? [0x7e, 0x7e] : [b]; // "~~" → ipmitool sends one "~"
      if (out.length + esc.length > MAX_CHUNK) flush(i);
      out.push(...esc);
      this.lastWasCr = b === 0x0d || b === 0x0a;
    }
    flush(bytes.length);
  }

  private send(bytes: Buffer, typed: Buffer | null) {
    if (this.exited) {
      if (typed) this.hold(typed);
      return;
    }
    this.frames.push({ bytes, typed });
    const head = Buffer.from([bytes.length >> 8, bytes.length & 0xff]);
    (this.child.stdin as Writable | null)?.write(Buffer.concat([head, bytes]));
  }

  private hold(bytes: Buffer) {
    if (this.handedOver) keep(this.backend.key, bytes);
    else this.held.push(bytes);
  }

  /** Sends what earlier streams of this BMC could not deliver, and says so in the terminal. */
  private resend() {
    const c = carryOvers.get(this.backend.key);
    if (!c) return;
    carryOvers.delete(this.backend.key);
    const fresh = Date.now() - c.since <= CARRY_OVER_MS;
    const notes: string[] = [];
    if (fresh && c.bytes.length) {
      this.typed(c.bytes);
      notes.push(`sent ${c.bytes.length} byte${c.bytes.length === 1 ? "" : "s"} typed while the console was taken over`);
    }
    const dropped = c.dropped + (fresh ? 0 : c.bytes.length);
    if (dropped)
      notes.push(
        `${dropped} byte${dropped === 1 ? "" : "s"} typed meanwhile were not sent (more than ${CARRY_OVER_BYTES} bytes, or older than ${CARRY_OVER_MS / 1000} s)`,
      );
    if (notes.length) setImmediate(() => this.emitData(Buffer.from(`\r\n\x1b[2m[console: ${notes.join("; ")}]\x1b[0m\r\n`, "utf8")));
  }

  private onDelivered(count: number) {
    if (count <= this.delivered) return;
    this.delivered = count;
    const drop = count - this.frameBase;
    if (drop > 0) {
      this.frames.splice(0, drop);
      this.frameBase = count;
    }
  }

  /** Typed bytes the BMC has not taken, in order. */
  private undelivered(): Buffer {
    return Buffer.concat(this.frames.flatMap((f) => (f.typed ? [f.typed] : [])));
  }

  /** Compares the SOL holder with ours; on a change, stops feeding ipmitool and ends the stream as taken over. */
  private async checkHolder(first: boolean) {
    if (this.checking || this.closed || this.closing || this.lost || this.exited) return;
    this.checking = true;
    try {
      const h = await this.backend.holder();
      if (!h || this.closed || this.closing || this.lost || this.exited) return;
      if ("session" in h) {
        if (first) {
          this.ourSession = h.session || null;
          return;
        }
        if (this.ourSession === null || h.session === this.ourSession) return;
        this.lose(h.session === 0 ? DEACTIVATED : TAKEN_OVER);
      } else if (!h.active) {
        this.lose(DEACTIVATED);
      }
    } finally {
      this.checking = false;
    }
  }

  /** Another client holds SOL: let the chunk in flight settle, then stop ipmitool (no "~.", no Deactivate Payload). */
  private lose(why: string) {
    if (this.lost) return;
    this.lost = why;
    if (!this.exited) this.child.kill("SIGUSR1");
  }

  private async onExit(code: number | null) {
    this.exited = true;
    this.exitCode = code;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const w of this.exitWaiters.splice(0)) w();
    if (this.closing) return;
    const err = this.stderr();
    const bmcClosed = /closed by bmc|error sending sol data|deactivated|payload.*inactive/i.test(err);
    if (!this.lost && bmcClosed) {
      // The BMC stopped taking our data: because someone else holds SOL now, or for its own reasons.
      const h = await this.backend.holder().catch(() => null);
      if (h && "session" in h && h.session !== this.ourSession) this.lost = h.session === 0 ? DEACTIVATED : TAKEN_OVER;
      else if (h && "active" in h && !h.active) this.lost = DEACTIVATED;
    }
    // Whatever the BMC did not take waits for the next stream of this BMC, in the order it was typed.
    keep(this.backend.key, Buffer.concat([this.undelivered(), ...this.held]));
    this.frames = [];
    this.held = [];
    this.handedOver = true;
    const keepalive = /keepalive/i.test(err);
    this.finish(
      this.lost
        ? { code: "remote", message: this.lost }
        : {
            code: bmcClosed ? "remote" : "error",
            message: bmcClosed
              ? "The BMC ended the serial console session"
              : keepalive
                ? "The BMC stopped answering; the serial console session was lost"
                : `The serial console session ended unexpectedly${err.trim() ? `: ${err.trim().split("\n").at(-1)}` : ""}`,
          },
    );
  }

  private async shutdown() {
    if (this.watchdog) clearInterval(this.watchdog);
    let clean = false;
    if (!this.exited && !this.lost && this.lastWasCr) {
      // "~." makes ipmitool deactivate the payload itself and exit 0.
      this.expectedEchoes.push(QUIT_ECHO);
      this.send(Buffer.from("~.", "latin1"), null);
      clean = (await this.waitExit(3000)) && this.exitCode === 0;
    }
    if (!this.exited) {
      // Not at line start (sending CR could run a half-typed command), taken over, or ipmitool hung: stop it and
      // deactivate the payload from outside — unless another client holds it now.
      this.child.kill("SIGTERM");
      if (!(await this.waitExit(2000))) {
        this.child.kill("SIGKILL");
        await this.waitExit(2000);
      }
    }
    let message = "Console closed";
    if (!clean && !this.lost) {
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

  private emitData(chunk: Buffer) {
    if (chunk.length && !this.closed) this.emit("data", chunk);
  }

  private onOutput(d: Buffer) {
    this.lastOutputAt = Date.now();
    let chunk = d;
    // Drop ipmitool's local echo of escapes we sent; it is printed in one write (line-buffered tty).
    while (this.expectedEchoes.length) {
      const at = chunk.indexOf(this.expectedEchoes[0]!);
      if (at < 0) break;
      const echo = this.expectedEchoes.shift()!;
      chunk = Buffer.concat([chunk.subarray(0, at), chunk.subarray(at + Buffer.byteLength(echo))]);
    }
    this.emitData(chunk);
  }
}
