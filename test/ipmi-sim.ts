// Test harness: a real IPMI 2.0 BMC on loopback, using OpenIPMI's ipmi_sim (Debian package
// "openipmi"), for tests of the IPMI driver and the IPMI SOL console.
//
// startIpmiSim() writes lan.conf + an emulator command file into a fresh mkdtemp directory, picks
// free ports, starts `ipmi_sim -c lan.conf -f cmd.emu -n -s <statedir>` and resolves once
// `ipmitool … mc info` answers. What the simulated server does is played by this harness:
//  - chassis: ipmi_sim's `chassis_control` hook runs a small sh script from the temp dir for every
//    power/boot/reset/shutdown request ("get power" → "power:1", "set power 0", "set boot pxe").
//    The script keeps the state in files, so `chassis power on/off/cycle/soft` really change what
//    `chassis power status` reports (soft-off lands after a delay, like an OS shutting down).
//  - serial line: ipmi_sim's `sol "tcp:127.0.0.1:<port>"` connects to a TCP server in this process
//    that acts as the server's serial port: a tiny getty that prints "anvil-sim login: ", echoes what
//    it receives and reports a serial BREAK (ipmi_sim forwards SOL breaks as telnet IAC BRK).
//  - emulator console: ipmi_sim's `console` port stays connected for the sim's lifetime (it is used
//    to add SEL events at run time and, with `debug msg`, to record every IPMI request the BMC
//    received — which lets tests check bytes ipmi_sim does not act on, such as boot-flag options).
//  - field dialects (issue #13), switchable at run time with setChassisBehaviour(): boot parameters refused (the
//    chassis hook fails "set boot", ipmi_sim answers 0xFF and `ipmitool chassis bootdev` prints "Set Chassis Boot
//    Parameter 5 failed: Unspecified error" yet exits 0) or silently ignored (accepted, not applied); and
//    solIntruder(): another client taking the serial console (`sol deactivate`, then its own `sol activate`).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freeTcpPort, freeUdpPort } from "@/sim/real/ipmi-host";

export interface FruInfo {
  boardManufacturer?: string;
  boardProduct?: string;
  boardSerial?: string;
  boardPartNumber?: string;
  productManufacturer?: string;
  productName?: string;
  productPartNumber?: string;
  productVersion?: string;
  productSerial?: string;
}

export interface SelSeed {
  /** IPMI sensor type (0x01 temperature, 0x02 voltage, 0x04 fan, 0x08 power supply…). */
  sensorType: number;
  sensorNumber: number;
  /** Event/reading type code: 0x01 threshold, 0x6f sensor-specific. */
  eventType?: number;
  /** Offset of the event within the type (threshold 0x07 = upper non-critical going high, 0x09 = upper critical going high). */
  offset: number;
  deassert?: boolean;
}

export interface IpmiSimOptions {
  username?: string;
  /** At most 20 characters (IPMI 2.0). Default: random. */
  password?: string;
  initialPower?: "on" | "off";
  /** How long a soft (ACPI) shutdown takes before the power really goes off. Default 400 ms. */
  softOffDelayMs?: number;
  fru?: FruInfo;
  /** 32 hex digits. */
  guid?: string;
  sel?: SelSeed[];
  /** Host name the simulated serial console prints in its login prompt. Default "anvil-sim". */
  hostname?: string;
  /** How long to wait for ipmi_sim to answer, ms. Default 10000. */
  startTimeoutMs?: number;
  /** Field behaviours of the chassis from the start (see setChassisBehaviour). */
  chassis?: ChassisBehaviour;
}

/** How the simulated BMC treats chassis requests, beyond doing them. */
export interface ChassisBehaviour {
  /** Set System Boot Options parameter 5 fails with completion code 0xFF ("Unspecified error"). */
  refuseBootParams?: boolean;
  /** Set System Boot Options parameter 5 succeeds but the boot device does not change. */
  ignoreBootParams?: boolean;
}

/** Another client on the SOL console (see IpmiSim.solIntruder). */
export interface SolIntruder {
  /** What its ipmitool printed on the console so far. */
  output(): string;
  /** Ends its ipmitool (if still running). */
  close(): Promise<void>;
}

export interface IpmiMessage {
  netfn: number;
  cmd: number;
  data: number[];
}

export interface IpmiSim {
  host: string;
  /** UDP port of the BMC's IPMI LAN channel. */
  port: number;
  /** "host:port", as a BmcEndpoint address. */
  address: string;
  username: string;
  password: string;
  /** TCP port of the simulated server's serial line (what SOL is connected to). */
  solPort: number;
  /** Temp directory holding lan.conf, cmd.emu, state and the chassis script's files. */
  dir: string;
  /** Power as the simulated hardware has it right now. */
  power(): Promise<"on" | "off">;
  /** The boot device ipmi_sim last passed to the chassis hook ("none", "pxe", "default" = disk, "cdrom", "bios"). */
  bootDevice(): Promise<string>;
  /** Chassis hook invocations so far, e.g. ["get power", "set power 1", "set reset 1"]. */
  chassisLog(): Promise<string[]>;
  /** IPMI requests the BMC received so far (from ipmi_sim's `debug msg` trace). */
  messages(): IpmiMessage[];
  /** Runs an ipmi_sim emulator command (ipmi_sim_cmd(5)) and returns its output. */
  command(cmd: string): Promise<string>;
  /** Adds an entry to the SEL at run time; ipmi_sim stamps it with its SEL clock (set to now at start). */
  addSelEvent(e: SelSeed): Promise<void>;
  /** Bytes the serial line received (telnet escapes removed). */
  serialInput(): Buffer;
  /** Serial BREAKs the serial line received. */
  serialBreaks(): number;
  /** Writes bytes onto the serial line as if the server printed them. */
  serialWrite(data: string | Buffer): void;
  /** Resolves once ipmi_sim's SOL side is connected to the serial line. */
  serialConnected(): Promise<void>;
  /** Switches the chassis field behaviours (flags the chassis hook reads on each request). */
  setChassisBehaviour(b: ChassisBehaviour): Promise<void>;
  /**
   * Another client takes the serial console: `ipmitool sol deactivate` (whoever held it loses it), then — for
   * "activate" — its own `ipmitool sol activate` in a pty, resolved once its banner is up and held until close().
   */
  solIntruder(mode: "activate" | "deactivate"): Promise<SolIntruder>;
  stop(): Promise<void>;
}

const APT_HINT: Record<string, string> = { ipmi_sim: "openipmi", ipmitool: "ipmitool" };

async function findOnPath(bin: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = path.join(dir, bin);
    try {
      await access(p, fsConstants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** Fails (never skips) with the Debian package to install when ipmi_sim or ipmitool is missing. */
export async function requireIpmiTools(): Promise<void> {
  const missing: string[] = [];
  for (const bin of ["ipmi_sim", "ipmitool"]) if (!(await findOnPath(bin))) missing.push(bin);
  if (missing.length) {
    const pkgs = [...new Set(missing.map((m) => APT_HINT[m]))].join(" ");
    throw new Error(`${missing.join(" and ")} not found on PATH: install with \`apt-get install -y ${pkgs}\``);
  }
}

// ---------- FRU encoding (IPMI Platform Management FRU Information Storage Definition v1.0) ----------

function fruField(s: string | undefined): number[] {
  const bytes = [...Buffer.from((s ?? "").slice(0, 63), "latin1")];
  return [0xc0 | bytes.length, ...bytes]; // type 11b = 8-bit ASCII+Latin1
}

function fruArea(body: number[]): number[] {
  const withEnd = [...body, 0xc1]; // end-of-fields marker
  const total = Math.ceil((withEnd.length + 1) / 8) * 8;
  while (withEnd.length < total - 1) withEnd.push(0);
  withEnd[1] = total / 8; // area length in multiples of 8
  const sum = withEnd.reduce((a, b) => a + b, 0);
  return [...withEnd, (0x100 - (sum & 0xff)) & 0xff];
}

/** Encodes a FRU image with a board and a product area. */
export function encodeFru(f: FruInfo): number[] {
  const board = fruArea([
    0x01,
    0, // length, filled by fruArea
    0x00, // language English
    0,
    0,
    0, // manufacturing date: unspecified
    ...fruField(f.boardManufacturer),
    ...fruField(f.boardProduct),
    ...fruField(f.boardSerial),
    ...fruField(f.boardPartNumber),
    ...fruField(""), // FRU file id
  ]);
  const product = fruArea([
    0x01,
    0,
    0x00,
    ...fruField(f.productManufacturer),
    ...fruField(f.productName),
    ...fruField(f.productPartNumber),
    ...fruField(f.productVersion),
    ...fruField(f.productSerial),
    ...fruField(""), // asset tag
    ...fruField(""), // FRU file id
  ]);
  const boardOffset = 1; // in 8-byte units, right after the 8-byte common header
  const productOffset = boardOffset + board.length / 8;
  const header = [0x01, 0, 0, boardOffset, productOffset, 0, 0];
  const headerSum = header.reduce((a, b) => a + b, 0);
  return [...header, (0x100 - (headerSum & 0xff)) & 0xff, ...board, ...product];
}

const hex = (n: number) => `0x${n.toString(16).padStart(2, "0")}`;

function leBytes32(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

function selAddCommand(e: SelSeed): string {
  // ipmi_sim stamps each entry with its own SEL clock, whatever timestamp the record carries.
  const tsBytes = leBytes32(Math.floor(Date.now() / 1000));
  const dirType = ((e.deassert ? 0x80 : 0) | (e.eventType ?? 0x01)) & 0xff;
  // Record type 2 (system event): timestamp, generator 0x20 (BMC), EvM rev 4, sensor type, number,
  // direction/type, event data 1 (0x50 = data 2/3 hold reading/threshold) and data 2/3 unspecified.
  const bytes = [...tsBytes, 0x20, 0x00, 0x04, e.sensorType, e.sensorNumber, dirType, 0x50 | (e.offset & 0x0f), 0xff, 0xff];
  return `sel_add 0x20 0x02 ${bytes.map(hex).join(" ")}`;
}

/** sh script ipmi_sim runs as `<script> get power` / `<script> set power 1 boot pxe …`. */
function chassisScript(dir: string, softOffDelayMs: number): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
# Chassis hook for ipmi_sim (lan.conf chassis_control): the simulated server's power and boot state.
d=${q(dir)}
op="$1"; shift
echo "$op $*" >> "$d/chassis.log"
if [ "$op" = get ]; then
  for k in "$@"; do
    case "$k" in
      boot) v=$(cat "$d/boot" 2>/dev/null || echo none) ;;
      *) v=$(cat "$d/$k" 2>/dev/null || echo 0) ;;
    esac
    echo "$k:$v"
  done
  exit 0
fi
while [ $# -ge 2 ]; do
  k="$1"; v="$2"; shift 2
  case "$k" in
    power) echo "$v" > "$d/power" ;;
    boot)
      # Field dialects (setChassisBehaviour): a failing hook makes ipmi_sim answer 0xFF; an ignored one changes nothing.
      [ -f "$d/refuse-boot" ] && exit 1
      [ -f "$d/ignore-boot" ] || echo "$v" > "$d/boot"
      ;;
    reset) n=$(cat "$d/resets" 2>/dev/null || echo 0); echo $((n + 1)) > "$d/resets" ;;
    shutdown)
      # An OS takes a moment to shut down after the ACPI request; then the power goes off.
      ( sleep ${(softOffDelayMs / 1000).toFixed(3)}; echo 0 > "$d/power" ) >/dev/null 2>&1 &
      ;;
    *) echo "$v" > "$d/$k" ;;
  esac
done
exit 0
`;
}

/** The simulated server's serial port: a minimal getty reached by ipmi_sim's SOL over TCP. */
class SerialLine {
  readonly server: net.Server;
  private sock: net.Socket | null = null;
  private readonly received: Buffer[] = [];
  private breaks = 0;
  private line = "";
  private user: string | null = null;
  private iacPending: number[] = [];
  private connectedWaiters: (() => void)[] = [];

  constructor(private readonly hostname: string) {
    this.server = net.createServer((s) => this.attach(s));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  connected(): Promise<void> {
    if (this.sock) return Promise.resolve();
    return new Promise((r) => this.connectedWaiters.push(r));
  }

  private attach(s: net.Socket) {
    this.sock?.destroy();
    this.sock = s;
    s.setNoDelay(true);
    s.on("data", (d) => this.onData(d));
    s.on("error", () => undefined);
    s.on("close", () => {
      if (this.sock === s) this.sock = null;
    });
    for (const w of this.connectedWaiters.splice(0)) w();
  }

  write(data: string | Buffer) {
    this.sock?.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  private prompt() {
    this.write(this.user ? `${this.user}@${this.hostname}:~$ ` : `${this.hostname} login: `);
  }

  private onData(d: Buffer) {
    const plain: number[] = [];
    for (const b of d) {
      if (this.iacPending.length) {
        this.iacPending.push(b);
        const [, cmd] = this.iacPending;
        if (cmd === 0xff) {
          plain.push(0xff);
          this.iacPending = [];
        } else if (cmd === 0xf3) {
          this.breaks++;
          this.iacPending = [];
          this.write("\r\nsysrq: serial break received\r\n");
        } else if (cmd >= 0xfb && cmd <= 0xfe) {
          if (this.iacPending.length === 3) this.iacPending = []; // WILL/WONT/DO/DONT <option>
        } else {
          this.iacPending = [];
        }
        continue;
      }
      if (b === 0xff) {
        this.iacPending = [b];
        continue;
      }
      plain.push(b);
    }
    if (!plain.length) return;
    this.received.push(Buffer.from(plain));
    for (const b of plain) {
      if (b === 0x0d || b === 0x0a) {
        if (b === 0x0a && this.line === "" && this.lastWasCr) {
          this.lastWasCr = false;
          continue;
        }
        this.lastWasCr = b === 0x0d;
        this.write("\r\n");
        this.enter(this.line);
        this.line = "";
      } else {
        this.lastWasCr = false;
        if (b === 0x7f || b === 0x08) {
          if (this.line) {
            this.line = this.line.slice(0, -1);
            this.write("\b \b");
          }
        } else if (b >= 0x20) {
          this.line += String.fromCharCode(b);
          this.write(Buffer.from([b])); // echo, like a tty in canonical mode
        }
      }
    }
  }

  private lastWasCr = false;

  private enter(line: string) {
    const text = line.trim();
    if (!this.user) {
      if (text) this.user = text;
    } else if (text === "exit" || text === "logout") {
      this.user = null;
    } else if (text) {
      this.write(`-sh: ${text.split(/\s+/)[0]}: command not found\r\n`);
    }
    this.prompt();
  }

  input(): Buffer {
    return Buffer.concat(this.received);
  }

  breakCount(): number {
    return this.breaks;
  }

  async close() {
    this.sock?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** ipmi_sim's emulator console: one long-lived TCP connection (see the header for why). */
class EmuConsole {
  private buf = "";
  private queue: Promise<unknown> = Promise.resolve();
  private waiters: (() => void)[] = [];

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on("error", () => undefined);
  }

  static async connect(port: number): Promise<EmuConsole> {
    const sock = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", () => resolve());
      sock.once("error", reject);
    });
    const c = new EmuConsole(sock);
    await c.waitFor(() => c.buf.includes("> "), 5000, "the ipmi_sim console prompt");
    return c;
  }

  private waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  command(cmd: string): Promise<string> {
    const run = async () => {
      const start = this.buf.length;
      this.sock.write(`${cmd}\n`);
      // ipmi_sim echoes the command, prints its output, then a new "> " prompt.
      let out = "";
      await this.waitFor(
        () => {
          const after = this.buf.slice(start);
          const echo = after.indexOf(cmd);
          if (echo < 0) return false;
          const rest = after.slice(echo + cmd.length);
          // Its line ends are "\n\r", so the next prompt reads "\n\r> ".
          const m = /\n\r?> /.exec(rest);
          if (!m) return false;
          out = rest.slice(0, m.index).replace(/\r/g, "").trim();
          return true;
        },
        5000,
        `ipmi_sim to run "${cmd}"`,
      );
      return out;
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  messages(): IpmiMessage[] {
    const out: IpmiMessage[] = [];
    const re = /Receive message:\s*\r?\n\s*channel=\d+ netfn=(0x[0-9a-f]+) cmd=(0x[0-9a-f]+)[^\n]*\n[^\n]*\n([0-9a-f \r]*)/gi;
    for (const m of this.buf.matchAll(re)) {
      const data = m[3]
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((h) => Number.parseInt(h, 16));
      out.push({ netfn: Number.parseInt(m[1], 16), cmd: Number.parseInt(m[2], 16), data });
    }
    return out;
  }

  destroy() {
    this.sock.destroy();
  }
}

function ipmitool(host: string, port: number, user: string, password: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      "ipmitool",
      ["-I", "lanplus", "-H", host, "-p", String(port), "-U", user, "-E", "-C", "3", "-N", "1", "-R", "1", ...args],
      { env: { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH ?? "/usr/bin:/bin", IPMI_PASSWORD: password }, timeout: 5000 },
      (err) => resolve(!err),
    );
  });
}

/** ipmitool in a pty (its SOL loop needs a terminal), raw from the start: another SOL client. */
const INTRUDER_PTY = `
import os, sys, select, subprocess, tty
m, s = os.openpty()
tty.setraw(s)
p = subprocess.Popen(sys.argv[1:], stdin=s, stdout=s, stderr=subprocess.STDOUT, close_fds=True)
os.close(s)
while True:
    r, _, _ = select.select([m], [], [], 0.2)
    if r:
        try:
            data = os.read(m, 65536)
        except OSError:
            data = b""
        if not data:
            break
        os.write(1, data)
    elif p.poll() is not None:
        break
sys.exit(p.wait())
`;

async function startIntruder(host: string, port: number, user: string, password: string, mode: "activate" | "deactivate"): Promise<SolIntruder> {
  const base = ["-I", "lanplus", "-H", host, "-p", String(port), "-U", user, "-E", "-C", "3", "-N", "2", "-R", "2"];
  const env = { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH ?? "/usr/bin:/bin", IPMI_PASSWORD: password };
  await new Promise<void>((resolve, reject) => {
    execFile("ipmitool", [...base, "sol", "deactivate"], { env, timeout: 10_000 }, (err, _out, stderr) =>
      !err || /already de-activated/i.test(stderr) ? resolve() : reject(new Error(`sol deactivate failed: ${stderr}`)),
    );
  });
  if (mode === "deactivate") return { output: () => "", close: async () => {} };
  const child = spawn("/usr/bin/python3", ["-c", INTRUDER_PTY, "ipmitool", ...base, "sol", "activate"], { env, stdio: ["pipe", "pipe", "ignore"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString("latin1");
  });
  const deadline = Date.now() + 10_000;
  while (!out.includes("[SOL Session operational")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The intruding ipmitool did not activate SOL: ${out.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    output: () => out,
    close: async () => {
      child.kill("SIGTERM");
      await waitExit(child, 3000);
    },
  };
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startIpmiSim(opts: IpmiSimOptions = {}): Promise<IpmiSim> {
  await requireIpmiTools();
  const username = opts.username ?? "admin";
  const password = opts.password ?? randomBytes(8).toString("hex");
  if (password.length > 20) throw new Error("IPMI 2.0 passwords are at most 20 characters");
  const host = "127.0.0.1";
  const dir = await mkdtemp(path.join(tmpdir(), "anvil-ipmi-sim-"));
  const stateDir = path.join(dir, "state");
  await mkdir(stateDir);
  await writeFile(path.join(dir, "power"), opts.initialPower === "on" ? "1\n" : "0\n");
  await writeFile(path.join(dir, "boot"), "none\n");
  const script = path.join(dir, "chassis.sh");
  const setChassisBehaviour = async (b: ChassisBehaviour) => {
    for (const [flag, on] of [
      ["refuse-boot", b.refuseBootParams],
      ["ignore-boot", b.ignoreBootParams],
    ] as const) {
      if (on) await writeFile(path.join(dir, flag), "1\n");
      else await rm(path.join(dir, flag), { force: true });
    }
  };
  await setChassisBehaviour(opts.chassis ?? {});
  await writeFile(script, chassisScript(dir, opts.softOffDelayMs ?? 400));
  await chmod(script, 0o755);

  const serial = new SerialLine(opts.hostname ?? "anvil-sim");
  const solPort = await serial.listen();

  const emu = [
    "# Generated by test/ipmi-sim.ts: one BMC at IPMB 0x20 with a SEL and FRU 0.",
    "mc_setbmc 0x20",
    "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02",
    "sel_enable 0x20 1000 0x0a",
  ];
  if (opts.fru) {
    const fru = encodeFru(opts.fru);
    emu.push(`mc_add_fru_data 0x20 0 ${fru.length} data ${fru.map(hex).join(" ")}`);
  }
  emu.push("mc_enable 0x20", "");
  await writeFile(path.join(dir, "cmd.emu"), emu.join("\n"));

  let lastError = "";
  for (let tries = 0; tries < 3; tries++) {
    const port = await freeUdpPort();
    const consolePort = await freeTcpPort();
    const lan = [
      "# Generated by test/ipmi-sim.ts",
      'name "anvil-sim"',
      "set_working_mc 0x20",
      "  startlan 1",
      `    addr ${host} ${port}`,
      "    priv_limit admin",
      "    allowed_auths_callback none md2 md5 straight",
      "    allowed_auths_user none md2 md5 straight",
      "    allowed_auths_operator none md2 md5 straight",
      "    allowed_auths_admin none md2 md5 straight",
      `    guid ${opts.guid ?? randomBytes(16).toString("hex")}`,
      "  endlan",
      `  chassis_control "${script}"`,
      `  sol "tcp:${host}:${solPort}" 115200`,
      `  user 2 true "${username}" "${password}" admin 10 none md2 md5 straight`,
      `console ${host} ${consolePort}`,
      "",
    ].join("\n");
    await writeFile(path.join(dir, "lan.conf"), lan);

    const child = spawn("ipmi_sim", ["-c", "lan.conf", "-f", "cmd.emu", "-n", "-s", stateDir], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    let exited = false;
    child.on("exit", () => (exited = true));

    const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
    let ready = false;
    while (!exited && Date.now() < deadline) {
      if (await ipmitool(host, port, username, password, ["mc", "info"])) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!ready) {
      child.kill("SIGKILL");
      await waitExit(child, 2000);
      lastError = exited ? `ipmi_sim exited during start: ${output.trim() || "(no output)"}` : "ipmi_sim did not answer mc info in time";
      continue; // maybe a port was taken between picking and binding: try new ones
    }

    let emuConsole: EmuConsole;
    try {
      // ipmi_sim's SEL clock starts at 0 ("Pre-Init" in ipmitool); set it to now like a booted BMC
      // (Set SEL Time, netfn storage 0x0a cmd 0x49, little-endian seconds since 1970).
      const now = leBytes32(Math.floor(Date.now() / 1000)).map(hex);
      if (!(await ipmitool(host, port, username, password, ["raw", "0x0a", "0x49", ...now]))) throw new Error("ipmi_sim refused Set SEL Time");
      emuConsole = await EmuConsole.connect(consolePort);
      for (const e of opts.sel ?? []) {
        const out = await emuConsole.command(selAddCommand(e));
        if (!/Added record/i.test(out)) throw new Error(`ipmi_sim did not add the SEL entry: ${out}`);
      }
      await emuConsole.command("debug msg");
    } catch (e) {
      child.kill("SIGKILL");
      await waitExit(child, 2000);
      throw e;
    }

    let stopped = false;
    const sim: IpmiSim = {
      host,
      port,
      address: `${host}:${port}`,
      username,
      password,
      solPort,
      dir,
      power: async () => ((await readFile(path.join(dir, "power"), "utf8")).trim() === "1" ? "on" : "off"),
      bootDevice: async () => (await readFile(path.join(dir, "boot"), "utf8")).trim(),
      chassisLog: async () =>
        (await readFile(path.join(dir, "chassis.log"), "utf8").catch(() => ""))
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean),
      messages: () => emuConsole.messages(),
      command: (cmd) => {
        if (exited) return Promise.reject(new Error(`ipmi_sim is not running: ${output.trim()}`));
        return emuConsole.command(cmd);
      },
      addSelEvent: async (e) => {
        const out = await emuConsole.command(selAddCommand(e));
        if (!/Added record/i.test(out)) throw new Error(`ipmi_sim did not add the SEL entry: ${out}`);
      },
      serialInput: () => serial.input(),
      serialBreaks: () => serial.breakCount(),
      serialWrite: (d) => serial.write(d),
      serialConnected: () => serial.connected(),
      setChassisBehaviour,
      solIntruder: (mode) => startIntruder(host, port, username, password, mode),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        // Kill ipmi_sim before closing its console and serial peers, so it never writes to a dead socket.
        if (!exited) {
          child.kill("SIGTERM");
          if (!(await waitExit(child, 2000))) {
            child.kill("SIGKILL");
            await waitExit(child, 2000);
          }
        }
        emuConsole.destroy();
        await serial.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
    return sim;
  }
  await serial.close();
  await rm(dir, { recursive: true, force: true });
  throw new Error(`Could not start ipmi_sim: ${lastError}`);
}
