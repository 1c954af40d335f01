// IPMI implementation of BmcDriver, through ipmitool's lanplus (IPMI 2.0 / RMCP+) interface.
//
// Why ipmitool and not a native RMCP+ client: it is the reference client every BMC vendor tests
// against, so quirks are handled once. Each call is one `ipmitool` process started with execFile
// (no shell); the password travels in the IPMI_PASSWORD environment variable with -E, never on the
// command line (where `ps` would show it). `-C 3` (RAKP-HMAC-SHA1 / HMAC-SHA1-96 / AES-CBC-128) is
// the cipher suite every IPMI 2.0 BMC must offer and the one OpenIPMI's ipmi_sim speaks.
//
// `-v` is passed (except for `sel list`, whose output it changes): without it ipmitool reports a
// wrong password, an unknown user and a dead address all as "Unable to establish IPMI v2 / RMCP+
// session"; with it, stderr says which ("RAKP 2 HMAC is invalid", "unauthorized name", "Get Auth
// Capabilities error"), so the driver can tell an operator to fix credentials rather than the
// network. When a non-verbose call fails to open a session, a verbose `mc info` probe names the cause.
//
// Field behaviour the driver does not trust ipmitool's exit code for (issue #13):
//  - A refused parameter write can exit 0: `chassis bootdev` prints "Set Chassis Boot Parameter 5 failed:
//    Unspecified error" and returns 0. Any ipmitool run whose stderr says "… failed" is a failure (not retried: the
//    BMC answered), and setBootDevice reads parameter 5 back (`chassis bootparam get 5`) and checks the device and,
//    where the BMC reports it, the persistence — resolving with what the BMC holds.
//  - IPMI cannot list the chassis-control actions a BMC accepts, and no harmless probe exists (a diagnostic
//    interrupt or an ACPI soft-off cannot be tried without doing it). soft_reboot has no IPMI command at all. So a
//    refusal is learned — "This BMC does not support NMI", code unsupported, never retried — and remembered per
//    driver (one per node, server/workflows/bmc-access.ts); supportedPowerActions() and the inventory's powerActions
//    leave it out from then on, which the UI reads to disable the button with the reason.
import { execFile } from "node:child_process";
import { POWER_ACTION_LABELS } from "@/domain/node-lifecycle";
import { mgmtRefusalIn, resolveMgmtHost } from "@/server/lib/mgmt-network";
import {
  BmcError,
  type BmcDriver,
  type BmcEndpoint,
  type BmcEvent,
  type BmcHealth,
  type AppliedBootOverride,
  type BmcInventory,
  type BootDevice,
  type BootOptions,
  type ListEventsOptions,
  type PowerAction,
  isBmcError,
  type PowerState,
  type RawIpmiRequest,
} from "./types";

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_RETRIES = 2;
const IPMI_DEFAULT_PORT = 623;
/** ipmitool's own wait per request is -N seconds, repeated -R times; -R 0 means "use the default" (4 × 5 s). */
const IPMITOOL_RETRIES = 1;
/** Shortest useful attempt: ipmitool -N 1 -R 1 needs ~2.1 s to give up on a silent address. */
const MIN_ATTEMPT_MS = 2500;

/** IPMI chassis-control verbs for each Anvil power action. soft_reboot has no IPMI command. */
const POWER_VERBS: Partial<Record<PowerAction, string>> = {
  on: "on",
  off: "off",
  soft_off: "soft",
  reboot: "reset",
  power_cycle: "cycle",
  nmi: "diag",
};

/** `chassis bootdev` targets. IPMI boot flags have no UEFI HTTP boot selector. */
const BOOT_TARGETS: Partial<Record<BootDevice, string>> = {
  disk: "disk",
  pxe: "pxe",
  cdrom: "cdrom",
  bios: "bios",
};

/** Boot flags (parameter 5) byte 2 bits 5:2, the device selector, in Anvil's words (IPMI 2.0 table 28-14). */
const BOOT_SELECTORS: Record<number, BootDevice | "none"> = { 0: "none", 1: "pxe", 2: "disk", 5: "cdrom", 6: "bios" };

/** The boot flags a BMC holds, from `chassis bootparam get 5`. */
export interface BootFlags {
  /** Byte 1 bit 7: the flags are valid (the BMC applies them at the next boot). */
  valid: boolean;
  /** Byte 1 bit 6: every boot rather than the next one only. */
  persistent: boolean;
  /** Byte 1 bit 5: EFI boot. */
  uefi: boolean;
  /** The device selector; "other" for selectors Anvil never sets (safe-mode disk, floppy, remote media…). */
  device: BootDevice | "none" | "other";
}

/** Parses the "Boot parameter data: 0004000000" line of `chassis bootparam get 5`; null when it is missing. */
export function parseBootFlags(stdout: string): BootFlags | null {
  const m = /Boot parameter data:\s*([0-9a-f]{4,})/i.exec(stdout);
  if (!m) return null;
  const b1 = Number.parseInt(m[1].slice(0, 2), 16);
  const b2 = Number.parseInt(m[1].slice(2, 4), 16);
  return {
    valid: (b1 & 0x80) !== 0,
    persistent: (b1 & 0x40) !== 0,
    uefi: (b1 & 0x20) !== 0,
    device: BOOT_SELECTORS[(b2 >> 2) & 0x0f] ?? "other",
  };
}

/**
 * The line of a zero-exit ipmitool run's stderr that says the command failed ("Set Chassis Boot Parameter 5 failed:
 * Unspecified error"), or undefined. `-v` chatter that mentions failures of optional probes is not a failure.
 */
export function failureText(stderr: string): string | undefined {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => /\bfailed\b/i.test(l) && !CHATTER.test(l));
}

export interface IpmiAddress {
  host: string;
  port: number;
}

/** Parses "host", "host:port", "[v6]" or "[v6]:port". Throws BmcError "invalid" with the reason. */
export function parseIpmiAddress(address: string): IpmiAddress {
  const a = address.trim();
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(a);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if ((a.match(/:/g) ?? []).length > 1) {
    host = a; // bare IPv6 without port
  } else {
    const [h, p, ...rest] = a.split(":");
    if (rest.length) throw new BmcError("invalid", address, `IPMI address "${address}" is not host[:port]`);
    host = h;
    portText = p;
  }
  if (!host || !/^[A-Za-z0-9._:-]+$/.test(host)) {
    throw new BmcError("invalid", address, `IPMI address "${address}" has no valid host name or IP address`);
  }
  const port = portText === undefined || portText === "" ? IPMI_DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BmcError("invalid", address, `IPMI address "${address}" has an invalid UDP port (1-65535)`);
  }
  return { host, port };
}

/** Arguments for `chassis bootdev`, or a BmcError "unsupported" for a device IPMI cannot select. */
export function bootdevArgs(address: string, dev: BootDevice, opts: BootOptions): string[] {
  const target = BOOT_TARGETS[dev];
  if (!target) {
    throw new BmcError("unsupported", address, `IPMI cannot select boot device "${dev}" (IPMI boot flags offer disk, pxe, cdrom, bios)`);
  }
  const options: string[] = [];
  if (opts.persistent) options.push("persistent");
  if (opts.uefi) options.push("efiboot");
  return ["chassis", "bootdev", target, ...(options.length ? [`options=${options.join(",")}`] : [])];
}

/** Lines "Key : value" → map (first occurrence wins; keys trimmed). */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^:]+?)\s*:\s?(.*)$/.exec(line);
    if (m && !(m[1] in out)) out[m[1]] = m[2].trim();
  }
  return out;
}

export function parsePowerStatus(stdout: string): PowerState {
  const m = /Chassis Power is (on|off)/i.exec(stdout);
  if (!m) return "unknown";
  return m[1].toLowerCase() === "on" ? "on" : "off";
}

/** Health from `chassis status` fault flags. Power faults are critical; drive and cooling faults a warning. */
export function parseChassisHealth(stdout: string): BmcHealth {
  const kv = parseKeyValues(stdout);
  if (!("System Power" in kv)) return { health: "unknown", reason: "The BMC's chassis status had no System Power field" };
  const critical: string[] = [];
  const warning: string[] = [];
  const flag = (key: string) => kv[key]?.toLowerCase() === "true";
  if (flag("Power Overload")) critical.push("power overload");
  if (flag("Main Power Fault")) critical.push("main power fault");
  if (flag("Power Control Fault")) critical.push("power control fault");
  if (flag("Drive Fault")) warning.push("drive fault");
  if (flag("Cooling/Fan Fault")) warning.push("cooling/fan fault");
  if (critical.length) return { health: "critical", reason: [...critical, ...warning].join("; ") };
  if (warning.length) return { health: "warning", reason: warning.join("; ") };
  return { health: "ok" };
}

/** IPMI SEL records carry no severity; derive one from the event text the way operators read it. */
export function selSeverity(description: string, direction: "asserted" | "deasserted" | undefined): BmcEvent["severity"] {
  if (direction === "deasserted") return "ok";
  const d = description.toLowerCase();
  if (/non-recoverable/.test(d)) return "critical";
  if (/non-critical/.test(d)) return "warning";
  if (/critical|uncorrectable|failure detected|fault|ac lost|power off|machine check|ierr|thermal trip/.test(d)) return "critical";
  if (/correctable|predictive|degraded|redundancy lost|warning/.test(d)) return "warning";
  return "ok";
}

/** `sel list` date and time columns ("11/23/26" or "11/23/2026", "19:47:06 UTC"; UTC because the
 *  driver runs ipmitool with TZ=UTC) → Date; "Pre-Init" (the BMC clock was not set yet) → null. */
export function parseSelTimestamp(date: string, time: string): Date | null {
  const d = /^(\d{2})\/(\d{2})\/(\d{2}|\d{4})$/.exec(date.trim());
  const t = /^(\d{2}):(\d{2}):(\d{2})(?:\s+UTC)?$/.exec(time.trim());
  if (!d || !t) return null;
  let year = Number(d[3]);
  if (d[3].length === 2) year += year < 70 ? 2000 : 1900; // IPMI time starts in 1970
  return new Date(Date.UTC(year, Number(d[1]) - 1, Number(d[2]), Number(t[1]), Number(t[2]), Number(t[3])));
}

/**
 * Parses `ipmitool sel list` lines: "   1 | 11/23/26 | 19:47:06 UTC | Temperature #0x30 | Upper
 * Critical going high | Asserted". (The `-v` form is not used: ipmitool 1.8.19 prints its
 * timestamp as the date twice, without the time.)
 */
export function parseSelList(stdout: string): BmcEvent[] {
  const events: BmcEvent[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const cols = line.split("|").map((c) => c.trim());
    if (cols.length < 5 || !/^[0-9a-f]+$/i.test(cols[0])) continue;
    const [idText, date, time, sensor, description, dirText] = cols;
    const dir = dirText?.toLowerCase();
    const direction = dir === "asserted" ? "asserted" : dir === "deasserted" ? "deasserted" : undefined;
    const typeMatch = /^(.*?)\s+#0x[0-9a-f]+$/i.exec(sensor);
    const sensorType = typeMatch ? typeMatch[1] : undefined;
    events.push({
      id: idText.toLowerCase().padStart(4, "0"),
      created: parseSelTimestamp(date, time),
      severity: selSeverity(description, direction),
      message: `${sensor}: ${description}${direction ? ` (${direction})` : ""}`,
      ...(sensorType ? { sensorType } : {}),
      ...(sensor ? { sensor } : {}),
      ...(direction ? { direction } : {}),
    });
  }
  return events;
}

/**
 * The GUID from `mc guid`'s "System GUID : …". ipmitool prints the decoded UUID when the GUID's
 * version field is valid and the 32 raw hex digits otherwise; both become the canonical 8-4-4-4-12 form.
 */
export function parseGuid(stdout: string): string | null {
  const dashed = /System GUID\s*:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/i.exec(stdout);
  if (dashed) return dashed[1].toLowerCase();
  const raw = /System GUID\s*:\s*([0-9a-f]{32})\b/i.exec(stdout);
  if (!raw) return null;
  const h = raw[1].toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface IpmitoolFailure {
  /** Exit code, or null when the process was killed by the driver's timer. */
  exitCode: number | null;
  killed: boolean;
  stderr: string;
  stdout: string;
  spawnError?: NodeJS.ErrnoException;
}

/**
 * Turns a failed ipmitool run into a BmcError whose message tells an operator what to fix.
 * `what` names the operation ("read the power state").
 */
export function classifyIpmitoolFailure(f: IpmitoolFailure, ctx: { address: string; username: string; what: string; timeoutMs: number }): BmcError {
  const { address, username, what } = ctx;
  const detail = (f.stderr || f.stdout).trim().slice(0, 2000);
  // -v chatter ("Invalid completion code received: Invalid command" from an optional probe) never decides it.
  const e = (withoutChatter(f.stderr) + f.stdout).toLowerCase();
  if (f.spawnError?.code === "ENOENT") {
    return new BmcError("unsupported", address, "ipmitool is not installed on this Anvil server (Debian: apt-get install ipmitool)", {
      transient: false,
    });
  }
  if (f.spawnError) {
    return new BmcError("bmc_error", address, `Could not start ipmitool to ${what}: ${f.spawnError.message}`, { transient: false });
  }
  if (/rakp 2 hmac is invalid|rakp \d hmac|invalid integrity check/.test(e)) {
    return new BmcError("auth", address, `BMC ${address} refused the credentials for user ${username} (wrong password)`, { detail, transient: false });
  }
  if (/unauthorized name|invalid user name|unknown user/.test(e)) {
    return new BmcError("auth", address, `BMC ${address} does not know user ${username}`, { detail, transient: false });
  }
  if (/insufficient privilege|privilege level|unauthorized role|invalid role/.test(e)) {
    return new BmcError("auth", address, `User ${username} lacks the privilege on BMC ${address} to ${what} (needs operator or administrator)`, {
      detail,
      transient: false,
    });
  }
  if (/no matching cipher|cipher suite|invalid authentication algorithm|invalid integrity algorithm|invalid confidentiality/.test(e)) {
    return new BmcError("unsupported", address, `BMC ${address} does not offer IPMI cipher suite 3 (RAKP-HMAC-SHA1/AES-128), which Anvil requires`, {
      detail,
      transient: false,
    });
  }
  if (f.killed) {
    return new BmcError("timeout", address, `BMC ${address} did not finish "${what}" within ${ctx.timeoutMs} ms`, { detail });
  }
  if (
    /get auth capabilities error|get channel authentication capabilities|no response from remote controller|unable to establish|connection refused|no route|name or service not known|address lookup/.test(
      e,
    )
  ) {
    return new BmcError("unreachable", address, `BMC ${address} did not answer IPMI over LAN (check the address, UDP port and that IPMI over LAN is enabled)`, {
      detail,
    });
  }
  // ipmitool's words when a request got no response at all (its retries ran out; a BMC busy or a lost datagram),
  // as opposed to "... failed: <completion code>" when the BMC answered no: worth another try.
  if (/error (setting|getting) chassis boot parameter|unable to (set|get) chassis power|error sending chassis status command/.test(e)) {
    return new BmcError("timeout", address, `BMC ${address} did not answer the request to ${what} (${firstErrorLine(f.stderr) ?? "no response"})`, {
      detail,
      transient: true,
    });
  }
  if (/not supported in present state|cannot execute command.*(present state|command disabled)/.test(e)) {
    // 0xD5 / 0xD6: the BMC can do it, but not now (e.g. a soft-off while the host is off). Not a capability to forget.
    return new BmcError(
      "bmc_error",
      address,
      `BMC ${address} refused to ${what} in its present state (${firstErrorLine(f.stderr) ?? "command not supported in present state"})`,
      {
        detail,
        transient: false,
      },
    );
  }
  if (/invalid data field|invalid command|not supported|command not supported|parameter not supported|invalid request|device not present/.test(e)) {
    return new BmcError(
      "unsupported",
      address,
      `BMC ${address} rejected the request to ${what} as unsupported (${firstErrorLine(f.stderr) ?? "invalid command"})`,
      {
        detail,
        transient: false,
      },
    );
  }
  if (/node busy|insufficient resources|out of space|timeout|temporarily|try again|unspecified error/.test(e)) {
    return new BmcError("bmc_error", address, `BMC ${address} could not ${what} right now: ${firstErrorLine(f.stderr) ?? "busy"}`, {
      detail,
      transient: true,
    });
  }
  return new BmcError("bmc_error", address, `BMC ${address} failed to ${what}: ${firstErrorLine(f.stderr) ?? `ipmitool exit code ${f.exitCode}`}`, {
    detail,
    transient: false,
  });
}

/** The bytes of `ipmitool raw`'s answer (" 00 03 09 08 …", wrapped over lines), after the completion code. */
export function parseRawResponse(out: string): number[] {
  return out
    .split(/\s+/)
    .filter((t) => /^[0-9a-f]{2}$/i.test(t))
    .map((t) => Number.parseInt(t, 16));
}

/** The first stderr line that reads like an error, without -v chatter. */
function firstErrorLine(stderr: string): string | undefined {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l && !CHATTER.test(l) && !l.startsWith(">"));
}

/** What `-v` prints on every run (optional probes of the BMC and their refusals), not about the command itself. */
const CHATTER =
  /^loading iana|^running get|^discovered ipmb|^invalid completion code received: invalid command|^get hpm|compcode|^close session command failed/i;

function withoutChatter(stderr: string): string {
  return stderr
    .split(/\r?\n/)
    .filter((l) => !CHATTER.test(l.trim()))
    .join("\n");
}

/** A minimal environment for ipmitool: the password (read by -E), UTC times, untranslated messages. */
export function ipmitoolEnv(password: string): NodeJS.ProcessEnv {
  // NODE_ENV only because Next's types make it mandatory in ProcessEnv; nothing else of ours leaks to the child.
  return { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH ?? "/usr/bin:/bin", IPMI_PASSWORD: password, TZ: "UTC", LANG: "C", LC_ALL: "C" };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface IpmiDriverOptions {
  /** Path of the ipmitool binary (default: env ANVIL_IPMITOOL or "ipmitool" on PATH). */
  ipmitool?: string;
  /** First backoff delay between retries in ms (doubles each retry, ±20% jitter). Default 250. */
  backoffMs?: number;
}

/** The argv every ipmitool call starts with (no password: it is passed in the environment). */
export function ipmitoolBaseArgs(addr: IpmiAddress, username: string, perRequestSeconds: number, retries = IPMITOOL_RETRIES): string[] {
  return [
    "-I",
    "lanplus",
    "-H",
    addr.host,
    "-p",
    String(addr.port),
    "-U",
    username,
    "-E",
    "-C",
    "3",
    "-N",
    String(perRequestSeconds),
    "-R",
    String(retries),
    "-v",
  ];
}

export class IpmiDriver implements BmcDriver {
  readonly protocol = "ipmi" as const;
  private readonly addr: IpmiAddress;
  private readonly address: string;
  private readonly username: string;
  private readonly password: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly ipmitool: string;
  private readonly backoffMs: number;
  /** Power actions this BMC answered "invalid data field"/"not supported" to: IPMI cannot ask up front. */
  private readonly rejectedActions = new Set<PowerAction>();
  /** One ipmitool at a time per BMC: BMCs allow few concurrent sessions (often 4). */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(ep: BmcEndpoint, opts: IpmiDriverOptions = {}) {
    if (ep.driver !== "ipmi") throw new BmcError("invalid", ep.address, `IpmiDriver got an endpoint for driver "${ep.driver}"`);
    this.addr = parseIpmiAddress(ep.address);
    this.address = `${this.addr.host}:${this.addr.port}`;
    if (!ep.credentials?.username) throw new BmcError("invalid", this.address, `BMC ${this.address} has no IPMI user name configured`);
    if (ep.credentials.username.length > 16) {
      throw new BmcError("invalid", this.address, `IPMI user names are at most 16 characters; "${ep.credentials.username}" is longer`);
    }
    if ((ep.credentials.password ?? "").length > 20) {
      throw new BmcError("invalid", this.address, "IPMI 2.0 passwords are at most 20 characters; the configured one is longer");
    }
    this.username = ep.credentials.username;
    this.password = ep.credentials.password ?? "";
    this.timeoutMs = ep.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = ep.retries ?? DEFAULT_RETRIES;
    if (!(this.timeoutMs >= 1000)) throw new BmcError("invalid", this.address, "timeoutMs must be at least 1000 ms for IPMI");
    if (!Number.isInteger(this.retries) || this.retries < 0 || this.retries > 10) {
      throw new BmcError("invalid", this.address, "retries must be an integer from 0 to 10");
    }
    this.ipmitool = opts.ipmitool ?? process.env.ANVIL_IPMITOOL ?? "ipmitool";
    this.backoffMs = opts.backoffMs ?? 250;
  }

  async getPowerState(): Promise<PowerState> {
    const out = await this.run(["chassis", "power", "status"], "read the power state");
    const state = parsePowerStatus(out);
    if (state === "unknown")
      throw new BmcError("bad_response", this.address, `BMC ${this.address} answered the power status query with "${out.trim().slice(0, 200)}"`);
    return state;
  }

  async setPower(action: PowerAction): Promise<void> {
    const verb = POWER_VERBS[action];
    const label = POWER_ACTION_LABELS[action];
    if (!verb) {
      throw new BmcError("unsupported", this.address, `This BMC does not support ${label}: IPMI has no such command (use soft power off, then power on)`, {
        transient: false,
      });
    }
    if (this.rejectedActions.has(action)) {
      throw new BmcError("unsupported", this.address, `This BMC does not support ${label} (BMC ${this.address} refused it earlier)`, { transient: false });
    }
    try {
      await this.run(["chassis", "power", verb], `perform power action "${action}"`);
    } catch (e) {
      if (isBmcError(e) && e.code === "unsupported") {
        this.rejectedActions.add(action);
        const said = withoutChatter(e.detail ?? "")
          .split(/\r?\n/)
          .find((l) => /failed|invalid|not supported/i.test(l))
          ?.trim();
        throw new BmcError("unsupported", this.address, `This BMC does not support ${label} (BMC ${this.address} refused it${said ? `: ${said}` : ""})`, {
          detail: e.detail,
          transient: false,
          cause: e,
        });
      }
      throw e;
    }
  }

  async supportedPowerActions(): Promise<PowerAction[]> {
    this.assertOpen();
    return (Object.keys(POWER_VERBS) as PowerAction[]).filter((a) => !this.rejectedActions.has(a));
  }

  /**
   * Sets the boot flags, then reads parameter 5 back: resolves with what the BMC holds, or throws when the BMC
   * refused (even with exit code 0) or holds something else than asked.
   */
  async setBootDevice(dev: BootDevice, opts: BootOptions): Promise<{ applied: AppliedBootOverride }> {
    await this.run(bootdevArgs(this.address, dev, opts), `set the boot device to ${dev}`);
    const text = await this.optional(["chassis", "bootparam", "get", "5"], "read the boot flags back");
    // A BMC that cannot read parameter 5 back accepted the write without complaint; that is all it can tell.
    if (text === null) return { applied: { device: dev, persistent: null } };
    const flags = parseBootFlags(text);
    if (!flags) throw new BmcError("bad_response", this.address, `BMC ${this.address} answered the boot flags query with "${text.trim().slice(0, 200)}"`);
    const asked = `${dev} (${opts.persistent ? "every boot" : "next boot only"})`;
    if (flags.device !== dev) {
      const holds =
        flags.device === "none" ? "no boot override" : `${flags.device}${flags.valid ? (flags.persistent ? " for every boot" : " for the next boot") : ""}`;
      throw new BmcError("bmc_error", this.address, `BMC ${this.address} accepted the boot device ${asked} but did not apply it: it holds ${holds}`, {
        detail: text,
        transient: false,
      });
    }
    // Byte 1 is meaningful only with its valid bit: a BMC that reports it must hold the persistence asked for.
    if (flags.valid && flags.persistent !== opts.persistent) {
      throw new BmcError(
        "bmc_error",
        this.address,
        `BMC ${this.address} set the boot device to ${dev} ${flags.persistent ? "for every boot" : "for the next boot only"}, not ${opts.persistent ? "for every boot" : "for the next boot only"} as asked`,
        { detail: text, transient: false },
      );
    }
    return { applied: { device: dev, persistent: flags.valid ? flags.persistent : null } };
  }

  async getInventory(): Promise<BmcInventory> {
    const mcText = await this.run(["mc", "info"], "read the controller information");
    const mc = parseKeyValues(mcText);
    // FRU 0 and the system GUID are optional in IPMI: a BMC without them still has an inventory.
    const fru = await this.optional(["fru", "print", "0"], "read the FRU inventory").then((t) => (t ? parseKeyValues(t) : {}));
    const guid = await this.optional(["mc", "guid"], "read the system GUID").then((t) => (t ? parseGuid(t) : null));
    const pick = (...keys: string[]) => {
      for (const k of keys) if (fru[k]) return fru[k];
      return null;
    };
    return {
      systemType: "unknown",
      manufacturer: pick("Product Manufacturer", "Board Mfg"),
      model: pick("Product Name", "Board Product"),
      serialNumber: pick("Product Serial", "Chassis Serial", "Board Serial"),
      partNumber: pick("Product Part Number", "Board Part Number", "Chassis Part Number"),
      uuid: guid,
      bmc: {
        manufacturer: mc["Manufacturer Name"] && !/^unknown/i.test(mc["Manufacturer Name"]) ? mc["Manufacturer Name"] : (mc["Manufacturer ID"] ?? null),
        firmwareVersion: mc["Firmware Revision"] ?? null,
        protocolVersion: mc["IPMI Version"] ?? null,
      },
      cpu: null,
      memoryGiB: null,
      nics: null,
      dpus: null,
      powerActions: await this.supportedPowerActions(),
      raw: { mcInfo: mc, fru, guid },
    };
  }

  async getHealth(): Promise<BmcHealth> {
    return parseChassisHealth(await this.run(["chassis", "status"], "read the chassis status"));
  }

  async listEvents(opts: ListEventsOptions = {}): Promise<BmcEvent[]> {
    if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) {
      throw new BmcError("invalid", this.address, "limit must be a positive integer");
    }
    let events = parseSelList(await this.run(["sel", "list"], "read the system event log", { verbose: false }));
    const since = opts.since;
    if (since) events = events.filter((e) => e.created !== null && e.created.getTime() >= since.getTime());
    if (opts.limit !== undefined) events = events.slice(-opts.limit);
    return events;
  }

  /**
   * A raw request (the vendor-passthrough step): `ipmitool raw <netfn> <cmd> <data…>`. A completion code other than 0
   * ("Unable to send RAW command (… rsp=0xc1): Invalid command") is the BMC's refusal: a BmcError naming the code and
   * its meaning, never retried (the BMC answered; a vendor command may not be safe to send twice).
   */
  async rawIpmi(req: RawIpmiRequest): Promise<{ response: number[] }> {
    const bytes = [req.netfn, req.cmd, ...req.data];
    if (req.netfn > 0x3f || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 0xff)) {
      throw new BmcError("invalid", this.address, "A raw IPMI request is a network function (0x00–0x3f), a command and data bytes (0x00–0xff)");
    }
    const hex = (b: number) => `0x${b.toString(16).padStart(2, "0")}`;
    const what = `run raw command netfn ${hex(req.netfn)} cmd ${hex(req.cmd)}`;
    try {
      const out = await this.run(["raw", ...bytes.map(hex)], what, { verbose: false });
      return { response: parseRawResponse(out) };
    } catch (e) {
      const refused = isBmcError(e) ? /rsp=(0x[0-9a-f]{1,2})\)\s*:?\s*(.*)/i.exec(e.detail ?? "") : null;
      if (!refused) throw e;
      const meaning = refused[2]?.split(/\r?\n/)[0]?.trim();
      throw new BmcError(
        "invalid",
        this.address,
        `BMC ${this.address} refused raw command netfn ${hex(req.netfn)} cmd ${hex(req.cmd)}: completion code ${refused[1]!.toLowerCase()}${meaning ? ` (${meaning})` : ""}`,
        {
          detail: (e as BmcError).detail,
          transient: false,
        },
      );
    }
  }

  async close(): Promise<void> {
    // Each call is a complete ipmitool session; nothing stays open. Wait for in-flight calls.
    this.closed = true;
    await this.queue.catch(() => undefined);
  }

  private assertOpen() {
    if (this.closed) throw new BmcError("invalid", this.address, "This BMC driver was closed");
  }

  /** Like run, but an "unsupported" answer is an absent value rather than an error. */
  private async optional(args: string[], what: string): Promise<string | null> {
    try {
      return await this.run(args, what);
    } catch (e) {
      if (isBmcError(e) && e.code === "unsupported") return null;
      throw e;
    }
  }

  /** Runs one ipmitool command with the deadline and retry policy; resolves with stdout. */
  private run(args: string[], what: string, opts: { verbose: boolean } = { verbose: true }): Promise<string> {
    this.assertOpen();
    const task = this.queue.then(() => this.runWithRetries(args, what, opts.verbose));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async runWithRetries(args: string[], what: string, verbose: boolean): Promise<string> {
    const deadline = Date.now() + this.timeoutMs;
    // An attempt needs room for ipmitool's shortest wait (-N 1, two tries) plus process start-up;
    // fewer, longer attempts beat many that are killed before ipmitool can report.
    const maxAttempts = Math.max(1, Math.min(this.retries + 1, Math.floor(this.timeoutMs / MIN_ATTEMPT_MS)));
    let lastError: BmcError | undefined;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const remaining = deadline - Date.now();
      if (attempt > 0 && remaining < MIN_ATTEMPT_MS) break;
      const budget = Math.floor(remaining / (maxAttempts - attempt));
      try {
        return await this.exec(args, what, verbose, budget, remaining);
      } catch (e) {
        if (!isBmcError(e) || !e.transient) throw e;
        lastError = e;
        if (attempt < maxAttempts - 1) {
          const delay = this.backoffMs * 2 ** attempt * (0.8 + Math.random() * 0.4);
          if (Date.now() + delay + MIN_ATTEMPT_MS > deadline) break;
          await sleep(delay);
        }
      }
    }
    throw lastError ?? new BmcError("timeout", this.address, `BMC ${this.address} did not finish "${what}" within ${this.timeoutMs} ms`);
  }

  private async exec(args: string[], what: string, verbose: boolean, budgetMs: number, killAfterMs: number): Promise<string> {
    try {
      return await this.spawnIpmitool(args, what, verbose, budgetMs, killAfterMs);
    } catch (e) {
      // Without -v a refused password looks like a dead BMC; ask again verbosely to know which.
      if (!verbose && isBmcError(e) && e.code === "unreachable" && /unable to establish/i.test(e.detail ?? "")) {
        const left = killAfterMs - 100;
        if (left >= MIN_ATTEMPT_MS) await this.spawnIpmitool(["mc", "info"], what, true, budgetMs, left);
      }
      throw e;
    }
  }

  /**
   * The IP address ipmitool is given: the BMC's host resolved here and checked against the management-network policy
   * (server/lib/mgmt-network.ts), so ipmitool never resolves a name itself and talks to exactly the address checked.
   */
  private async target(): Promise<IpmiAddress> {
    try {
      const [ip] = await resolveMgmtHost(this.addr.host);
      return { host: ip!, port: this.addr.port };
    } catch (e) {
      const refused = mgmtRefusalIn(e);
      if (refused) throw new BmcError("forbidden", this.address, refused.message, { transient: false });
      const code = (e as NodeJS.ErrnoException).code ?? "";
      throw new BmcError("unreachable", this.address, `BMC ${this.address} has a host name that does not resolve (${code || (e as Error).message})`, {
        transient: code === "EAI_AGAIN",
        cause: e,
      });
    }
  }

  private async spawnIpmitool(args: string[], what: string, verbose: boolean, budgetMs: number, killAfterMs: number): Promise<string> {
    // ipmitool waits -N seconds per try and tries -R+1 times; keep that inside the attempt's budget
    // (minus start-up) so ipmitool reports "no answer" itself; the kill timer is the hard deadline.
    const perRequestSeconds = Math.max(1, Math.floor((budgetMs - 400) / 1000 / (IPMITOOL_RETRIES + 1)));
    const base = ipmitoolBaseArgs(await this.target(), this.username, perRequestSeconds);
    const argv = [...(verbose ? base : base.filter((a) => a !== "-v")), ...args];
    return new Promise((resolve, reject) => {
      execFile(
        this.ipmitool,
        argv,
        {
          env: ipmitoolEnv(this.password),
          timeout: killAfterMs,
          killSignal: "SIGKILL",
          maxBuffer: 8 * 1024 * 1024,
          encoding: "utf8",
        },
        (err, stdout, stderr) => {
          const failed = err ? undefined : failureText(stderr ?? "");
          if (!err && !failed) return resolve(stdout);
          if (failed) {
            // Exit code 0 but the BMC refused: it answered, so retrying the same request is pointless.
            const c = classifyIpmitoolFailure(
              { exitCode: 0, killed: false, stderr: failed, stdout: "" },
              { address: this.address, username: this.username, what, timeoutMs: this.timeoutMs },
            );
            const code = c.code === "unsupported" || c.code === "auth" ? c.code : "bmc_error";
            const detail = (stderr ?? "").trim().slice(0, 2000);
            return reject(
              new BmcError(code, this.address, code === "bmc_error" ? `BMC ${this.address} refused to ${what}: ${failed}` : c.message, {
                detail,
                transient: false,
              }),
            );
          }
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null; signal?: string | null };
          const spawnError = typeof e.code === "string" ? e : undefined;
          reject(
            classifyIpmitoolFailure(
              {
                exitCode: typeof e.code === "number" ? e.code : null,
                killed: Boolean(e.killed && e.signal),
                stderr: stderr ?? "",
                stdout: stdout ?? "",
                spawnError,
              },
              { address: this.address, username: this.username, what, timeoutMs: this.timeoutMs },
            ),
          );
        },
      );
    });
  }
}
