// Redfish implementation of BmcDriver (DMTF DSP0266 protocol, DSP0268 schemas), plus probeRedfish() for
// enrolment. An honest client (STYLE.md §12): it starts at /redfish/v1/ and follows @odata.id links (the
// Systems collection to the system, never a hard-coded member id), posts to the action targets the BMC
// advertises, reads @Redfish.AllowableValues before asking, PATCHes with If-Match, follows 202 task
// monitors, and explains failures with the BMC's own @Message.ExtendedInfo. Transport, sessions, time
// budgets and retries live in redfish-http.ts; live events in redfish-events.ts.
//
// Written for BMCs as they are in the field (docs/decisions.md, "Field BMC dialects"; the lab simulates them,
// sim/redfish/dialect.ts): an address may name one of several systems (…/redfish/v1/Systems/2) and every call
// then drives that one; what a PATCH applied is read back, not assumed; a boot override is cleared in whichever
// form the BMC accepts; DPUs are found through NetworkDeviceFunctions, contained chassis and SystemType DPU
// systems; hardware logs are read from every log service that holds them; consoles may be advertised on the
// system or its manager; virtual media falls back to PATCH where the actions are missing.
import { isOemActionPath } from "@/domain/passthrough";
import { Deadline, type Json, RedfishTransport, redfishErrorText, retryAfterMs } from "./redfish-http";
import { redfishBios } from "./redfish-bios";
import { subscribeEvents } from "./redfish-events";
import { redfishEventPush } from "./redfish-push";
import {
  type AppliedBootOverride,
  BOOT_DEVICES,
  BmcError,
  POWER_ACTIONS,
  type BmcConsoleOption,
  type BmcConsoleOptions,
  type BmcBios,
  type BmcConsoleUri,
  type BmcDpuLink,
  type BmcDriver,
  type BmcEndpoint,
  type BmcEvent,
  type BmcEventPush,
  type BmcEventStream,
  type BmcFirmware,
  type BmcHealth,
  type BmcHostLink,
  type BmcInventory,
  type BmcNic,
  type BmcVirtualMedia,
  type BootDevice,
  type BootOptions,
  type FirmwareComponent,
  type FirmwareTaskStatus,
  type Health,
  type ListEventsOptions,
  type PowerAction,
  isBmcError,
  type PowerState,
} from "./types";

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_RETRIES = 2;
/** Parallel GETs per driver call (members of a collection): BMCs serve few clients at once. */
const FANOUT = 4;
/** A SEL is read page by page; stop after this many pages (a BMC with a runaway nextLink). */
const MAX_LOG_PAGES = 100;

/**
 * Redfish ResetType values for each Anvil power action, in order of preference. Only equivalents:
 * "reboot" never silently becomes a PowerCycle.
 */
export const RESET_TYPES_FOR: Record<PowerAction, readonly string[]> = {
  on: ["On", "ForceOn"],
  off: ["ForceOff"],
  soft_off: ["GracefulShutdown"],
  reboot: ["ForceRestart"],
  soft_reboot: ["GracefulRestart"],
  power_cycle: ["PowerCycle", "FullPowerCycle"],
  nmi: ["Nmi"],
};

/** BootSourceOverrideTarget for each Anvil boot device. */
export const BOOT_TARGET_FOR: Record<BootDevice, string> = { disk: "Hdd", pxe: "Pxe", cdrom: "Cd", bios: "BiosSetup", uefi_http: "UefiHttp" };

export function mapPowerState(v: unknown): PowerState {
  switch (v) {
    case "On":
    case "Paused": // the CPUs are halted but the server has power
      return "on";
    case "Off":
      return "off";
    case "PoweringOn":
      return "powering_on";
    case "PoweringOff":
      return "powering_off";
    default:
      return "unknown";
  }
}

export function mapHealth(v: unknown): Health {
  return v === "OK" ? "ok" : v === "Warning" ? "warning" : v === "Critical" ? "critical" : "unknown";
}

const HEALTH_RANK: Record<Health, number> = { unknown: -1, ok: 0, warning: 1, critical: 2 };

/** LogEntry → BmcEvent. */
export function logEntryToEvent(e: Json): BmcEvent {
  const created = typeof e.Created === "string" ? new Date(e.Created) : null;
  const s = e.Severity ?? e.MessageSeverity;
  const code = e.EntryCode;
  return {
    id: String(e.Id ?? e["@odata.id"] ?? ""),
    created: created && !Number.isNaN(created.getTime()) ? created : null,
    severity: s === "Critical" ? "critical" : s === "Warning" ? "warning" : "ok",
    message: typeof e.Message === "string" ? e.Message : String(e.MessageId ?? "(no message)"),
    ...(typeof e.MessageId === "string" ? { messageId: e.MessageId } : {}),
    ...(typeof e.SensorType === "string" ? { sensorType: e.SensorType } : {}),
    ...(e.SensorNumber !== undefined && e.SensorNumber !== null ? { sensor: String(e.SensorNumber) } : {}),
    ...(code === "Assert" ? { direction: "asserted" as const } : code === "Deassert" ? { direction: "deasserted" as const } : {}),
  };
}

/** A log service the driver reads hardware events from. */
interface LogSource {
  /** the LogService @odata.id */
  service: string;
  /** its Entries collection */
  entries: string;
  /** marked as a SEL (LogEntryType or Id) */
  sel: boolean;
}

/**
 * Whether a LogService holds hardware events: a SEL by LogEntryType or Id, or a log of Event entries / of unstated
 * type (DMTF's "Log1") — not a journal, audit, dump, POST-code, OEM or CXL log.
 */
export function isHardwareLog(svc: Json): boolean {
  if (svc.LogEntryType === "SEL" || svc.Id === "SEL") return true;
  if (svc.LogEntryType !== undefined && svc.LogEntryType !== "Event" && svc.LogEntryType !== "Multiple") return false;
  if (svc.DiagnosticDataType !== undefined) return false;
  const name = `${String(svc.Id ?? "")} ${String(svc.Name ?? "")}`;
  return !/journal|audit|dump|crash|post ?codes?|fault ?log|diagnostic/i.test(name);
}

/** Whether a LogEntry is a hardware event: a SEL entry, or an Event (or untyped) entry that carries a severity. */
export function isHardwareEntry(e: Json): boolean {
  if (e.EntryType === "SEL") return true;
  if (e.EntryType !== undefined && e.EntryType !== "Event") return false;
  return typeof (e.Severity ?? e.MessageSeverity) === "string";
}

/** Oldest first: by Created, then by numeric Id (entries without a time first, as the BMC logged them before its clock). */
export function sortEvents(events: BmcEvent[]): BmcEvent[] {
  const num = (id: string) => (/^\d+$/.test(id) ? Number(id) : Number.NaN);
  return events.sort((a, b) => {
    const ta = a.created?.getTime() ?? Number.NEGATIVE_INFINITY;
    const tb = b.created?.getTime() ?? Number.NEGATIVE_INFINITY;
    if (ta !== tb) return ta - tb;
    const na = num(a.id);
    const nb = num(b.id);
    if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
    return a.id.localeCompare(b.id);
  });
}

/** Redfish TaskState → running/completed/failed (DSP0268 Task). */
export function taskStateOf(task: Json | null): FirmwareTaskStatus["state"] {
  const s = task?.TaskState;
  if (s === "Completed") return task?.TaskStatus === "Critical" ? "failed" : "completed";
  if (s === "Exception" || s === "Killed" || s === "Cancelled" || s === "Interrupted") return "failed";
  if (typeof s !== "string") return "completed"; // the monitor answered with the action's result, not a Task
  return "running";
}

function taskMessages(task: Json | null): string[] {
  const m = task?.Messages;
  if (!Array.isArray(m)) return [];
  return m.map((x) => (x && typeof x === "object" ? (x as Json).Message : undefined)).filter((x): x is string => typeof x === "string");
}

const ref = (v: unknown): string | undefined => {
  const id = v && typeof v === "object" ? (v as Json)["@odata.id"] : undefined;
  return typeof id === "string" ? id : undefined;
};
/** The @odata.ids of a link array. */
const refsOf = (v: unknown): string[] => (Array.isArray(v) ? v.map(ref).filter((x): x is string => !!x) : []);
const str = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Base URL of the BMC an absolute Redfish URL lives on ("https://10.0.1.5/redfish/v1/Systems/X" → "https://10.0.1.5"). */
export function bmcBaseOf(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  const u = new URL(url);
  const i = u.pathname.indexOf("/redfish/");
  return `${u.origin}${i > 0 ? u.pathname.slice(0, i) : ""}`;
}

/** The ComputerSystem path a BMC address names ("https://bmc/redfish/v1/Systems/2" → "/redfish/v1/Systems/2"), if any. */
export function systemPathIn(address: string): string | undefined {
  let path: string;
  try {
    path = new URL(address).pathname.replace(/\/+$/, "");
  } catch {
    return undefined;
  }
  const m = /\/redfish\/v1\/Systems\/([^/]+)$/.exec(path);
  return m ? `/redfish/v1/Systems/${m[1]}` : undefined;
}

/** Runs fn over items, at most `limit` at a time, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export interface RedfishDriverOptions {
  /** First retry delay in ms (doubles per retry, ±20% jitter). Default 250. */
  backoffMs?: number;
  /** PEM CA certificate(s) to trust for this BMC (a private CA) while keeping verification on. */
  ca?: string;
  /** Longest Retry-After honoured before a call gives up (default 10000 ms). */
  maxRetryAfterMs?: number;
}

export class RedfishDriver implements BmcDriver {
  readonly protocol = "redfish" as const;
  readonly address: string;
  /** The HTTP layer; exposed for tests and diagnostics (auth mode, request counts). */
  readonly transport: RedfishTransport;
  private readonly timeoutMs: number;
  private systemRef?: string;
  /** The system the address names (…/redfish/v1/Systems/<id>), if it names one: every call drives that system. */
  private readonly pinnedSystem?: string;
  /** The BMC's Systems members, when the driver listed them. */
  private systemIds?: string[];
  private logSources?: LogSource[];
  readonly virtualMedia: BmcVirtualMedia;
  readonly firmware: BmcFirmware;
  readonly events: BmcEventStream;
  readonly eventPush: BmcEventPush;
  readonly bios: BmcBios;

  constructor(ep: BmcEndpoint, opts: RedfishDriverOptions = {}) {
    if (ep.driver !== "redfish") throw new BmcError("invalid", ep.address, `RedfishDriver got an endpoint for driver "${ep.driver}"`);
    if (!ep.credentials?.username) throw new BmcError("invalid", ep.address, `BMC ${ep.address} has no Redfish user name configured`);
    const timeoutMs = ep.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const retries = ep.retries ?? DEFAULT_RETRIES;
    if (!(timeoutMs >= 100 && timeoutMs <= 600_000)) throw new BmcError("invalid", ep.address, "timeoutMs must be from 100 to 600000 ms");
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) throw new BmcError("invalid", ep.address, "retries must be an integer from 0 to 10");
    this.transport = new RedfishTransport(ep.address, {
      credentials: { username: ep.credentials.username, password: ep.credentials.password ?? "" },
      verifyTls: ep.verifyTls ?? true,
      ca: opts.ca,
      retries,
      backoffMs: opts.backoffMs ?? 250,
      maxRetryAfterMs: opts.maxRetryAfterMs,
    });
    this.address = this.transport.address;
    this.pinnedSystem = systemPathIn(this.address);
    this.timeoutMs = timeoutMs;
    this.virtualMedia = {
      insert: (imageUrl, o) => this.insertMedia(imageUrl, o?.writeProtected ?? true),
      eject: () => this.ejectMedia(),
      status: async () => {
        const vm = (await this.mediaSlot(this.deadline())).json;
        return { inserted: vm.Inserted === true, image: str(vm.Image) };
      },
    };
    this.firmware = {
      inventory: () => this.firmwareInventory(this.deadline()),
      simpleUpdate: (imageUri, targets) => this.simpleUpdate(imageUri, targets),
      taskStatus: (taskUrl) => this.taskStatus(taskUrl, this.deadline()),
    };
    this.bios = redfishBios({
      address: this.address,
      begin: () => {
        const d = this.deadline();
        return {
          system: async () => (await this.system(d)).json,
          root: () => this.transport.root(d),
          get: (path, what, allow) => this.get(path, d, what, allow),
          patch: (path, body, what, etag) => this.transport.call("PATCH", path, { deadline: d, what, body, headers: etag ? { "if-match": etag } : {} }),
          members: (path, what) => this.members(path, d, what),
        };
      },
    });
    this.eventPush = redfishEventPush({
      address: this.address,
      begin: () => {
        const d = this.deadline();
        return {
          root: () => this.transport.root(d),
          get: (path, what, allow) => this.get(path, d, what, allow),
          // Not retried after an ambiguous failure: a second POST would leave a second subscription.
          post: (path, body, what) => this.transport.call("POST", path, { deadline: d, what, body, retry: "unsent" }),
          remove: (path, what) => this.transport.call("DELETE", path, { deadline: d, what, allow: [404] }),
          members: (path, what) => this.members(path, d, what),
        };
      },
    });
    this.events = {
      subscribe: (onEvent, o) =>
        subscribeEvents(
          {
            address: this.address,
            sseUri: async () => {
              const d = this.deadline();
              await this.systemPath(d); // known before the first event arrives, for ownsOrigin
              const root = await this.transport.root(d);
              const esRef = ref(root.EventService);
              if (!esRef) return null;
              const es = (await this.get(esRef, d, "read the event service", [404])).json;
              return es && es.ServiceEnabled !== false ? str(es.ServerSentEventUri) : null;
            },
            open: (uri, signal, lastId) => this.transport.openStream(uri, this.deadline(), signal, lastId ? { "last-event-id": lastId } : {}),
            powerState: () => this.getPowerState(),
            health: () => this.getHealth(),
            log: () => this.listEvents(),
            ours: (origin) => this.ownsOrigin(origin),
          },
          onEvent,
          o,
        ),
    };
  }

  private deadline(): Deadline {
    return new Deadline(this.timeoutMs);
  }

  private get(path: string, d: Deadline, what: string, allow?: number[]) {
    return this.transport.call("GET", path, { deadline: d, what, ...(allow ? { allow } : {}) });
  }

  /** GET that must answer JSON. */
  private async getJson(path: string, d: Deadline, what: string): Promise<Json> {
    const r = await this.get(path, d, what);
    if (!r.json) throw new BmcError("bad_response", this.address, `BMC ${this.address} answered "${what}" with an empty body`);
    return r.json;
  }

  /** Members' @odata.ids of a collection, following Members@odata.nextLink. */
  private async members(collectionRef: string, d: Deadline, what: string): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = collectionRef;
    for (let page = 0; next && page < MAX_LOG_PAGES; page++) {
      const c = await this.getJson(next, d, what);
      for (const m of Array.isArray(c.Members) ? c.Members : []) {
        const id = ref(m);
        if (id) out.push(id);
      }
      next = str(c["Members@odata.nextLink"]) ?? undefined;
    }
    return out;
  }

  /**
   * The ComputerSystem's @odata.id: the one the address names, else the only system of the BMC, else its only
   * system that is not a DPU. A BMC serving several servers (a multi-node chassis manager) cannot be driven by its
   * bare address: the call is refused with the system URLs to enroll instead — never "the first one".
   */
  private async systemPath(d: Deadline): Promise<string> {
    if (this.systemRef) return this.systemRef;
    if (this.pinnedSystem) {
      this.systemRef = this.pinnedSystem;
      return this.pinnedSystem;
    }
    const ids = await this.listSystems(d);
    if (!ids.length) throw new BmcError("bad_response", this.address, `BMC ${this.address} lists no computer system in its Systems collection`);
    if (ids.length === 1) {
      this.systemRef = ids[0];
      return ids[0];
    }
    const types = await mapLimit(ids, FANOUT, async (id) => (await this.get(id, d, "read a computer system", [404])).json?.SystemType);
    const servers = ids.filter((_, i) => types[i] !== "DPU");
    if (servers.length === 1) {
      this.systemRef = servers[0];
      return servers[0];
    }
    throw new BmcError(
      "invalid",
      this.address,
      `BMC ${this.address} manages ${ids.length} computer systems${servers.length === ids.length ? "" : ` (${servers.length} of them servers)`}; enroll each by the URL of its system: ${ids.map((id) => `${this.transport.origin}${id}`).join(", ")}`,
      { transient: false },
    );
  }

  /** The Systems collection's members (cached: a BMC's set of systems does not change while Anvil talks to it). */
  private async listSystems(d: Deadline): Promise<string[]> {
    if (this.systemIds) return this.systemIds;
    const root = await this.transport.root(d);
    const systemsRef = ref(root.Systems);
    if (!systemsRef) throw new BmcError("unsupported", this.address, `BMC ${this.address} advertises no Systems collection in its service root`);
    this.systemIds = await this.members(systemsRef, d, "list the computer systems");
    return this.systemIds;
  }

  /** The ComputerSystem and its ETag. A system that vanished (BMC reset renumbered it) is rediscovered once. */
  private async system(d: Deadline): Promise<{ json: Json; etag: string | undefined }> {
    for (let again = 0; ; again++) {
      const path = await this.systemPath(d);
      const r = await this.get(path, d, "read the computer system", again === 0 || this.pinnedSystem ? [404] : undefined);
      if (r.status === 404) {
        if (this.pinnedSystem) {
          // The address names a system the BMC does not have: say which it has rather than drive another.
          const ids = await this.listSystems(d).catch(() => [] as string[]);
          throw new BmcError(
            "invalid",
            this.address,
            `BMC ${this.transport.origin} has no computer system at ${path}${ids.length ? ` (it has ${ids.join(", ")})` : ""}`,
            { transient: false },
          );
        }
        this.systemRef = undefined;
        this.systemIds = undefined;
        continue;
      }
      if (!r.json) throw new BmcError("bad_response", this.address, `BMC ${this.address} answered ${path} with an empty body`);
      const etag = r.headers.etag ?? str(r.json["@odata.etag"]) ?? undefined;
      return { json: r.json, etag };
    }
  }

  /** Whether an event's OriginOfCondition is about this system (not about another system of the same BMC). */
  private ownsOrigin(origin: string): boolean {
    const m = /^(?:https?:\/\/[^/]+)?(\/redfish\/v1\/Systems\/[^/?#]+)/.exec(origin);
    return !m || !this.systemRef || m[1] === this.systemRef;
  }

  // ------------------------------------------------------------------------------------------ power

  async getPowerState(): Promise<PowerState> {
    const { json } = await this.system(this.deadline());
    const s = mapPowerState(json.PowerState);
    if (s === "unknown" && json.PowerState !== undefined) {
      throw new BmcError(
        "bad_response",
        this.address,
        `BMC ${this.address} reports PowerState "${String(json.PowerState)}", which is not a Redfish power state`,
      );
    }
    return s;
  }

  /** The Reset action target and its allowable ResetTypes (null: the BMC does not say). */
  private async resetAction(sys: Json, d: Deadline): Promise<{ target: string; allowed: string[] | null }> {
    const action = obj(obj(sys.Actions)?.["#ComputerSystem.Reset"]);
    const target = str(action?.target);
    if (!action || !target) throw new BmcError("unsupported", this.address, `BMC ${this.address} offers no ComputerSystem.Reset action on its system`);
    const inline = action["ResetType@Redfish.AllowableValues"];
    if (Array.isArray(inline)) return { target, allowed: inline.filter((v): v is string => typeof v === "string") };
    const infoRef = str(action["@Redfish.ActionInfo"]);
    if (infoRef) {
      const info = await this.get(infoRef, d, "read the reset action's parameters", [404]);
      const params = Array.isArray(info.json?.Parameters) ? (info.json.Parameters as Json[]) : [];
      const p = params.find((x) => x?.Name === "ResetType");
      if (p && Array.isArray(p.AllowableValues)) return { target, allowed: p.AllowableValues.filter((v): v is string => typeof v === "string") };
    }
    return { target, allowed: null };
  }

  async setPower(action: PowerAction): Promise<void> {
    if (!POWER_ACTIONS.includes(action)) throw new BmcError("invalid", this.address, `"${String(action)}" is not a power action (${POWER_ACTIONS.join(", ")})`);
    const d = this.deadline();
    const { json: sys } = await this.system(d);
    const { target, allowed } = await this.resetAction(sys, d);
    const candidates = RESET_TYPES_FOR[action];
    const resetType = allowed ? candidates.find((c) => allowed.includes(c)) : candidates[0];
    if (!resetType) {
      throw new BmcError(
        "unsupported",
        this.address,
        `BMC ${this.address} does not offer power action "${action}" (Redfish ResetType ${candidates.join(" or ")}; it allows ${allowed?.join(", ") || "none"})`,
        { transient: false },
      );
    }
    try {
      const res = await this.transport.call("POST", target, { deadline: d, what: `ResetType '${resetType}'`, body: { ResetType: resetType }, action: true });
      if (res.status === 202) await this.waitTask(res.headers.location ?? ref(res.json) ?? "", d, `power action "${action}"`);
    } catch (e) {
      // The BMC's own word that it cannot do this value is "unsupported" in Anvil's vocabulary.
      if (isBmcError(e) && e.code === "invalid" && /ValueNotInList|ValueNotSupported|ActionNotSupported/.test(e.detail ?? "")) {
        throw new BmcError("unsupported", this.address, e.message, { detail: e.detail, transient: false });
      }
      throw e;
    }
  }

  /** AllowableValues mapped to Anvil actions; every action when the BMC does not say (it refuses at request time). */
  async supportedPowerActions(): Promise<PowerAction[]> {
    const d = this.deadline();
    const { json: sys } = await this.system(d);
    const { allowed } = await this.resetAction(sys, d);
    if (!allowed) return [...POWER_ACTIONS];
    return POWER_ACTIONS.filter((a) => RESET_TYPES_FOR[a].some((t) => allowed.includes(t)));
  }

  // ------------------------------------------------------------------------------------------- boot

  /**
   * PATCH Boot with If-Match of the ETag just read. A 412 means the system changed between our GET and
   * PATCH (someone else wrote it): read it again and retry once, re-validating against what is there now.
   * Then the override is read back and returned as the BMC holds it: a BMC may take "Once" and keep the override
   * for every boot, and one that lists only Continuous gets Continuous — the caller shows what is true.
   */
  async setBootDevice(dev: BootDevice, opts: BootOptions): Promise<{ applied: AppliedBootOverride }> {
    if (!BOOT_DEVICES.includes(dev)) throw new BmcError("invalid", this.address, `"${String(dev)}" is not a boot device (${BOOT_DEVICES.join(", ")})`);
    const d = this.deadline();
    const target = BOOT_TARGET_FOR[dev];
    for (let attempt = 1; ; attempt++) {
      const { json: sys, etag } = await this.system(d);
      const boot = obj(sys.Boot);
      if (!boot) throw new BmcError("unsupported", this.address, `BMC ${this.address} offers no boot override (no Boot property on its system)`);
      const allowedTargets = boot["BootSourceOverrideTarget@Redfish.AllowableValues"];
      if (Array.isArray(allowedTargets) && !allowedTargets.includes(target)) {
        throw new BmcError(
          "unsupported",
          this.address,
          `BMC ${this.address} cannot boot from "${dev}" (Redfish target ${target}; it offers ${allowedTargets.join(", ")})`,
          { transient: false },
        );
      }
      let enabled = opts?.persistent ? "Continuous" : "Once";
      const allowedEnabled = boot["BootSourceOverrideEnabled@Redfish.AllowableValues"];
      if (Array.isArray(allowedEnabled) && !allowedEnabled.includes(enabled)) {
        // No one-time overrides on this BMC: set it for every boot and report that (cleanNode clears it later).
        if (enabled === "Once" && allowedEnabled.includes("Continuous")) enabled = "Continuous";
        else
          throw new BmcError(
            "unsupported",
            this.address,
            `BMC ${this.address} cannot set a ${opts.persistent ? "persistent" : "one-time"} boot override (it offers ${allowedEnabled.join(", ")})`,
            {
              transient: false,
            },
          );
      }
      const patch: Json = { BootSourceOverrideEnabled: enabled, BootSourceOverrideTarget: target };
      // Mode only when asked and when the BMC has the property: BMCs without it reject it as unknown.
      if (opts?.uefi !== undefined && "BootSourceOverrideMode" in boot) {
        const mode = opts.uefi ? "UEFI" : "Legacy";
        const allowedModes = boot["BootSourceOverrideMode@Redfish.AllowableValues"];
        if (Array.isArray(allowedModes) && !allowedModes.includes(mode)) {
          throw new BmcError("unsupported", this.address, `BMC ${this.address} cannot boot in ${mode} mode (it offers ${allowedModes.join(", ")})`, {
            transient: false,
          });
        }
        patch.BootSourceOverrideMode = mode;
      }
      const res = await this.transport.call("PATCH", await this.systemPath(d), {
        deadline: d,
        what: `set the boot override to ${target} (${enabled})`,
        body: { Boot: patch },
        headers: etag ? { "if-match": etag } : {},
        allow: [412],
      });
      if (res.status === 412) {
        if (attempt < 2) continue;
        throw new BmcError(
          "bmc_error",
          this.address,
          `BMC ${this.address} rejected the boot override twice with 412 PreconditionFailed: the system kept changing while Anvil wrote it; try again`,
          {
            transient: true,
          },
        );
      }
      if (res.status === 202) await this.waitTask(res.headers.location ?? ref(res.json) ?? "", d, "the boot override");
      return { applied: await this.readBackBoot(dev, target, d) };
    }
  }

  /** The override the BMC holds after a PATCH, in Anvil's words; a BMC that holds no override or another device failed. */
  private async readBackBoot(dev: BootDevice, target: string, d: Deadline): Promise<AppliedBootOverride> {
    const boot = obj((await this.system(d)).json.Boot);
    const heldTarget = boot?.BootSourceOverrideTarget;
    const heldEnabled = boot?.BootSourceOverrideEnabled;
    if (heldTarget === undefined) return { device: dev, persistent: heldEnabled === "Continuous" ? true : heldEnabled === "Once" ? false : null };
    if (heldTarget !== target || heldEnabled === "Disabled") {
      throw new BmcError(
        "bmc_error",
        this.address,
        `BMC ${this.address} accepted the boot override to ${target} but holds ${String(heldTarget)}${heldEnabled === "Disabled" ? " (override disabled)" : ""}; the next boot will not use ${dev}`,
        { transient: false },
      );
    }
    return { device: dev, persistent: heldEnabled === "Continuous" ? true : heldEnabled === "Once" ? false : null };
  }

  // -------------------------------------------------------------------------------------- inventory

  async getInventory(): Promise<BmcInventory> {
    const d = this.deadline();
    const [root, { json: sys }] = await Promise.all([this.transport.root(d), this.system(d)]);
    const isDpu = sys.SystemType === "DPU";
    const [nics, manager, dpus] = await Promise.all([this.nics(sys, d), this.manager(sys, root, d), isDpu ? Promise.resolve([]) : this.dpuLinks(sys, d)]);
    const oem = obj(obj(sys.Oem)?.Anvil);
    const ps = obj(sys.ProcessorSummary);
    const count = num(ps?.Count);
    const mem = num(obj(sys.MemorySummary)?.TotalSystemMemoryGiB);
    const dpuHint = str(oem?.DpuBmcUrl);
    const dpuList: BmcDpuLink[] = dpus;
    if (!isDpu && dpuList.length === 0 && dpuHint) dpuList.push({ systemId: dpuHint, networkDeviceFunctions: [], bmcUrl: bmcBaseOf(dpuHint) ?? dpuHint });
    const inv: BmcInventory = {
      systemType: isDpu ? "dpu" : "physical",
      manufacturer: str(sys.Manufacturer),
      model: str(sys.Model),
      serialNumber: str(sys.SerialNumber),
      partNumber: str(sys.PartNumber),
      uuid: str(sys.UUID)?.toLowerCase() ?? null,
      bmc: {
        manufacturer: str(manager?.Manufacturer) ?? str(root.Vendor),
        firmwareVersion: str(manager?.FirmwareVersion),
        protocolVersion: str(root.RedfishVersion),
      },
      cpu: count === null ? null : { count, cores: num(ps?.CoreCount), model: str(ps?.Model) },
      memoryGiB: mem,
      nics,
      dpus: dpuList,
      raw: {
        serviceRoot: { RedfishVersion: root.RedfishVersion, Vendor: root.Vendor, Product: root.Product, UUID: root.UUID },
        system: sys,
        manager: manager ?? null,
      },
    };
    if (!isDpu) inv.dpuBmcUrl = dpuHint;
    if (isDpu) {
      inv.host = this.hostLink(sys);
      inv.agentUrl = oem && "AgentUrl" in oem ? str(oem.AgentUrl) : null;
    }
    return inv;
  }

  private async nics(sys: Json, d: Deadline): Promise<BmcNic[] | null> {
    const collection = ref(sys.EthernetInterfaces);
    if (!collection) return null;
    const ids = await this.members(collection, d, "list the network interfaces");
    const items = await mapLimit(ids, FANOUT, (id) => this.get(id, d, "read a network interface", [404]));
    const out: BmcNic[] = [];
    for (const r of items) {
      const j = r.json;
      const mac = str(j?.MACAddress) ?? str(j?.PermanentMACAddress);
      if (!j || r.status === 404 || !mac) continue;
      const nic: BmcNic = { id: String(j.Id ?? ref(j) ?? mac), macAddress: mac.toLowerCase() };
      if (typeof j.LinkStatus === "string") nic.linkUp = j.LinkStatus === "LinkUp";
      const speed = num(j.SpeedMbps);
      if (speed !== null) nic.speedMbps = speed;
      out.push(nic);
    }
    return out;
  }

  private async manager(sys: Json, root: Json, d: Deadline): Promise<Json | undefined> {
    const managedBy = obj(sys.Links)?.ManagedBy;
    let id = Array.isArray(managedBy) ? ref(managedBy[0]) : undefined;
    if (!id) {
      const mRef = ref(root.Managers);
      if (mRef) id = (await this.members(mRef, d, "list the managers"))[0];
    }
    if (!id) return undefined;
    return (await this.get(id, d, "read the BMC (manager)", [404])).json ?? undefined;
  }

  /**
   * The host's DPUs, found three ways and merged by system:
   *  - Chassis → NetworkAdapters → NetworkDeviceFunctions whose Links.OffloadSystem names a ComputerSystem (an
   *    absolute URL on the DPU's own BMC — BlueField — or a path on this one);
   *  - Chassis → Links.Contains → a chassis whose Links.ComputerSystems has SystemType "DPU" (DMTF public-smartnic);
   *  - the BMC's Systems members with SystemType "DPU", when this is the BMC's only other system (they can be no
   *    one else's).
   * A DPU on this same BMC is reached at its system's URL here (bmcUrl), with the same credentials; a DPU whose system
   * is named below another Redfish service on this BMC (…/<proxy>/redfish/v1/Systems/<id>) sits behind a cascade: it
   * is reached at that proxy (bmcUrl, via "cascade") with its own BMC's credentials.
   */
  private async dpuLinks(sys: Json, d: Deadline): Promise<BmcDpuLink[]> {
    const chassis = obj(sys.Links)?.Chassis;
    const chassisIds = Array.isArray(chassis) ? chassis.map(ref).filter((x): x is string => !!x) : [];
    const bySystem = new Map<string, BmcDpuLink>();
    const origin = this.transport.origin;
    const add = (target: string, fns: string[]) => {
      // One key per system whether linked by path or by absolute URL on this BMC.
      const key = target.startsWith(origin) ? target.slice(origin.length) : target;
      let link = bySystem.get(key);
      if (!link) {
        link = { systemId: key, networkDeviceFunctions: [] };
        const base = bmcBaseOf(target);
        // A system below a path of this BMC that serves another Redfish service is a DPU BMC behind a cascade.
        const proxied = /^(\/.+?)\/redfish\/v1\/Systems\/[^/]+$/.exec(key)?.[1];
        if (base && new URL(base).origin !== origin) link.bmcUrl = base;
        else if (key.startsWith("/redfish/v1/Systems/")) link.bmcUrl = `${origin}${key}`;
        else if (proxied) Object.assign(link, { bmcUrl: `${origin}${proxied}`, via: "cascade" });
        bySystem.set(key, link);
      }
      for (const f of fns) if (!link.networkDeviceFunctions.includes(f)) link.networkDeviceFunctions.push(f);
    };
    const seen = new Set<string>();
    const chassisQueue = chassisIds.map((id) => ({ id, depth: 0 }));
    while (chassisQueue.length) {
      const { id: cid, depth } = chassisQueue.shift() as { id: string; depth: number };
      if (seen.has(cid)) continue;
      seen.add(cid);
      const c = (await this.get(cid, d, "read the chassis", [404])).json;
      if (!c) continue;
      const links = obj(c.Links);
      // A contained chassis (a card) whose computer system is a DPU.
      if (depth > 0) {
        const systems = Array.isArray(links?.ComputerSystems) ? (links.ComputerSystems as unknown[]).map(ref).filter((x): x is string => !!x) : [];
        for (const sid of systems) {
          const s = sid === ref(sys) ? undefined : (await this.get(sid, d, "read a contained computer system", [404])).json;
          if (s?.SystemType === "DPU") add(sid, refsOf(obj(s.Links)?.OffloadedNetworkDeviceFunctions));
        }
      }
      if (depth < 2 && Array.isArray(links?.Contains))
        for (const sub of (links.Contains as unknown[]).map(ref)) if (sub) chassisQueue.push({ id: sub, depth: depth + 1 });
      const adaptersRef = ref(c.NetworkAdapters);
      if (!adaptersRef) continue;
      const adapters = await this.members(adaptersRef, d, "list the network adapters");
      const fnLists = await mapLimit(adapters, FANOUT, async (aid) => {
        const a = (await this.get(aid, d, "read a network adapter", [404])).json;
        const fnsRef = ref(a?.NetworkDeviceFunctions);
        return fnsRef ? this.members(fnsRef, d, "list the network device functions") : [];
      });
      const fns = await mapLimit(fnLists.flat(), FANOUT, async (fid) => (await this.get(fid, d, "read a network device function", [404])).json);
      for (const f of fns) {
        const target = ref(obj(f?.Links)?.OffloadSystem);
        const fid = f ? ref(f) : undefined;
        if (!target || !fid || target === ref(sys)) continue;
        add(target, [fid]);
      }
    }
    // DPU systems of this BMC: this system's when it is the BMC's only server.
    const ids = await this.listSystems(d);
    if (ids.length > 1) {
      const others = ids.filter((id) => id !== ref(sys));
      const systems = await mapLimit(others, FANOUT, async (id) => ({ id, json: (await this.get(id, d, "read a computer system", [404])).json }));
      const servers = systems.filter((x) => x.json && x.json.SystemType !== "DPU");
      if (servers.length === 0)
        for (const x of systems) if (x.json?.SystemType === "DPU") add(x.id, refsOf(obj(x.json.Links)?.OffloadedNetworkDeviceFunctions));
    }
    return [...bySystem.values()];
  }

  private hostLink(sys: Json): BmcHostLink {
    const fns = obj(sys.Links)?.OffloadedNetworkDeviceFunctions;
    const ids = Array.isArray(fns) ? fns.map(ref).filter((x): x is string => !!x) : [];
    const bases = new Set(ids.map(bmcBaseOf).filter((b): b is string => !!b && new URL(b).origin !== this.transport.origin));
    return { bmcUrl: bases.size ? [...bases][0] : null, networkDeviceFunctions: ids };
  }

  // ----------------------------------------------------------------------------------- health + SEL

  async getHealth(): Promise<BmcHealth> {
    const { json: sys } = await this.system(this.deadline());
    const status = obj(sys.Status);
    const own = mapHealth(status?.Health);
    const rollup = mapHealth(status?.HealthRollup);
    const health = HEALTH_RANK[rollup] > HEALTH_RANK[own] ? rollup : own;
    if (health === "ok") return { health };
    if (health === "unknown") return { health, reason: "The BMC reports no Status.Health for the system" };
    // Why: the newest SEL entries at least as bad as the warning level, newest first.
    let reason: string | undefined;
    try {
      const bad = (await this.listEvents())
        .filter((e) => e.severity !== "ok")
        .slice(-3)
        .reverse();
      if (bad.length) reason = bad.map((e) => e.message.replace(/\.$/, "")).join("; ");
    } catch {
      // The health itself is known; a log that cannot be read only costs the explanation.
    }
    const part = rollup !== own && HEALTH_RANK[rollup] > HEALTH_RANK[own] ? "a component of the system" : "the system";
    return { health, reason: reason ?? `The BMC reports ${part} as ${health} and logged no warning or critical entry` };
  }

  /**
   * The log services holding hardware events: every LogService of the system, of its manager and of its chassis
   * (deduplicated by @odata.id — BMCs link one service from several places), except those that plainly hold
   * something else (journals, audit, dumps, POST codes, OEM/CXL logs). Found once per driver.
   */
  private async hardwareLogs(d: Deadline): Promise<LogSource[]> {
    if (this.logSources) return this.logSources;
    const { json: sys } = await this.system(d);
    const root = await this.transport.root(d);
    const collections: Array<{ ref: string; owner: string }> = [];
    const own = ref(sys.LogServices);
    if (own) collections.push({ ref: own, owner: "system" });
    const mgr = await this.manager(sys, root, d).catch(() => undefined);
    const mgrLogs = ref(mgr?.LogServices);
    if (mgrLogs) collections.push({ ref: mgrLogs, owner: "manager" });
    for (const cid of refsOf(obj(sys.Links)?.Chassis)) {
      const c = (await this.get(cid, d, "read the chassis", [404])).json;
      const cl = ref(c?.LogServices);
      if (cl) collections.push({ ref: cl, owner: "chassis" });
    }
    const found: LogSource[] = [];
    const seen = new Set<string>();
    for (const col of collections) {
      const ids = (await this.members(col.ref, d, `list the ${col.owner}'s log services`).catch(() => [] as string[])).filter((id) => !seen.has(id));
      for (const id of ids) seen.add(id);
      const services = await mapLimit(ids, FANOUT, async (id) => ({ id, json: (await this.get(id, d, "read a log service", [404])).json }));
      for (const { id, json } of services) {
        const entries = ref(json?.Entries);
        if (!json || !entries || !isHardwareLog(json)) continue;
        found.push({ service: id, entries, sel: json.LogEntryType === "SEL" || json.Id === "SEL" });
      }
    }
    // The system's own services come first (collections are read in that order); among them a SEL first. The
    // first source's entries keep their plain Ids (as before); the others' are qualified by their service.
    const sysPath = ref(sys) ?? "";
    const rank = (x: LogSource) => (x.service.startsWith(`${sysPath}/`) ? (x.sel ? 2 : 1) : 0);
    found.sort((a, b) => rank(b) - rank(a));
    this.logSources = found;
    return found;
  }

  /**
   * Hardware events of every log service that holds them, oldest first, each entry once (by @odata.id). Ids are
   * the LogEntry Id for the first (the system's SEL, or its first hardware log) and "<service>:<Id>" for the others.
   */
  async listEvents(opts: ListEventsOptions = {}): Promise<BmcEvent[]> {
    if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1))
      throw new BmcError("invalid", this.address, "limit must be a positive integer");
    const d = this.deadline();
    const sources = await this.hardwareLogs(d);
    const events: BmcEvent[] = [];
    const seen = new Set<string>();
    for (const [i, src] of sources.entries()) {
      const prefix = i === 0 ? "" : `${src.service.replace(/^\/redfish\/v1\//, "").replace("/LogServices/", "/")}:`;
      let next: string | undefined = src.entries;
      for (let page = 0; next && page < MAX_LOG_PAGES; page++) {
        const c = await this.getJson(next, d, "read the hardware event log");
        for (const m of Array.isArray(c.Members) ? c.Members : []) {
          const e = obj(m);
          if (!e || !isHardwareEntry(e)) continue;
          const key = ref(e) ?? `${src.entries}/${String(e.Id)}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const ev = logEntryToEvent(e);
          events.push(prefix ? { ...ev, id: `${prefix}${ev.id}` } : ev);
        }
        next = str(c["Members@odata.nextLink"]) ?? undefined;
      }
    }
    let out = sortEvents(events);
    const since = opts.since;
    if (since) out = out.filter((e) => e.created !== null && e.created.getTime() >= since.getTime());
    if (opts.limit !== undefined) out = out.slice(-opts.limit);
    return out;
  }

  // ---------------------------------------------------------------------------------- boot override off

  /**
   * Clears the override in the forms BMCs accept, in this order: BootSourceOverrideEnabled "Disabled" (the
   * standard), BootSourceOverrideTarget "None" (BMCs that refuse "Disabled"), both together — each checked by
   * reading the system back, since some BMCs answer 200 and keep the override.
   */
  async clearBootOverride(): Promise<void> {
    const d = this.deadline();
    const cleared = (b: Json | undefined) => !b || b.BootSourceOverrideEnabled === "Disabled" || b.BootSourceOverrideTarget === "None";
    const forms: Json[] = [
      { BootSourceOverrideEnabled: "Disabled" },
      { BootSourceOverrideTarget: "None" },
      { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None" },
    ];
    const tried: string[] = [];
    let current = await this.system(d);
    if (cleared(obj(current.json.Boot))) return; // nothing to clear
    for (const form of forms) {
      const label = Object.entries(form)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(" + ");
      let res: Awaited<ReturnType<RedfishTransport["call"]>> | undefined;
      for (let attempt = 1; attempt <= 2; attempt++) {
        res = await this.transport.call("PATCH", await this.systemPath(d), {
          deadline: d,
          what: `clear the boot override (${label})`,
          body: { Boot: form },
          headers: current.etag ? { "if-match": current.etag } : {},
          allow: [400, 412],
        });
        if (res.status !== 412) break;
        current = await this.system(d);
        if (cleared(obj(current.json.Boot))) return;
      }
      if (!res || res.status === 412)
        throw new BmcError("bmc_error", this.address, `BMC ${this.address} rejected clearing the boot override twice with 412 PreconditionFailed; try again`, {
          transient: true,
        });
      if (res.status === 202) await this.waitTask(res.headers.location ?? ref(res.json) ?? "", d, "clearing the boot override");
      if (res.status === 400) {
        tried.push(`${label}: refused (${redfishErrorText(res.json) ?? "HTTP 400"})`);
        continue;
      }
      current = await this.system(d);
      const boot = obj(current.json.Boot);
      if (cleared(boot)) return;
      tried.push(`${label}: accepted, but it still holds ${String(boot?.BootSourceOverrideTarget)} (${String(boot?.BootSourceOverrideEnabled)})`);
    }
    throw new BmcError("bmc_error", this.address, `BMC ${this.address} would not clear its boot override — ${tried.join("; ")}`, { transient: false });
  }

  // ---------------------------------------------------------------------------------- boot progress

  async bootProgress(): Promise<{ power: PowerState; bootState: string | null }> {
    const { json } = await this.system(this.deadline());
    return { power: mapPowerState(json.PowerState), bootState: str(obj(json.BootProgress)?.LastState) ?? null };
  }

  // ---------------------------------------------------------------------------------------- console

  async consoleUri(): Promise<BmcConsoleUri | null> {
    const { json: sys } = await this.system(this.deadline());
    return this.websocketConsole(sys);
  }

  private websocketConsole(sys: Json): BmcConsoleUri | null {
    const ws = obj(obj(sys.SerialConsole)?.WebSocket);
    const uri = str(ws?.ConsoleURI);
    if (!ws || !uri || ws.ServiceEnabled === false) return null;
    // A relative URI is on the BMC itself, with the ws scheme matching http/https.
    const url = /^wss?:/i.test(uri) ? uri : this.transport.resolve(uri).replace(/^http/, "ws");
    return { url, interactive: ws.Interactive !== false };
  }

  /**
   * The serial consoles this BMC advertises, in the order Anvil tries them: WebSocket, then SSH, then IPMI SOL —
   * from the system's SerialConsole (ComputerSystem v1_13+), then the manager's SerialConsole and CommandShell
   * (ConnectTypesSupported; the older, Manager-level form many BMCs still use), with the manager's ports from its
   * NetworkProtocol (SSH 22, IPMI 623 when it does not say). The manager is asked only when the system offers no
   * WebSocket console.
   */
  async consoleOptions(): Promise<BmcConsoleOptions> {
    const d = this.deadline();
    const { json: sys } = await this.system(d);
    const host = new URL(this.transport.origin).hostname.replace(/^\[|\]$/g, "");
    const ssh: BmcConsoleOption[] = [];
    const ipmi: BmcConsoleOption[] = [];
    const options: BmcConsoleOption[] = [];
    const ws = this.websocketConsole(sys);
    if (ws) options.push({ kind: "websocket", url: ws.url, interactive: ws.interactive, source: "the system's SerialConsole.WebSocket" });
    const sc = obj(sys.SerialConsole);
    const on = (x: unknown) => obj(x)?.ServiceEnabled === true;
    const port = (x: unknown, dflt: number) => num(obj(x)?.Port) ?? dflt;
    if (on(sc?.SSH)) ssh.push({ kind: "ssh", host, port: port(sc?.SSH, 22), source: "the system's SerialConsole.SSH" });
    if (on(sc?.IPMI)) ipmi.push({ kind: "ipmi", host, port: port(sc?.IPMI, 623), source: "the system's SerialConsole.IPMI" });
    const seenOnManager: string[] = [];
    if (!ws) {
      const mgr = await this.manager(sys, await this.transport.root(d), d).catch(() => undefined);
      const types = (x: unknown) =>
        obj(x)?.ServiceEnabled !== false && Array.isArray(obj(x)?.ConnectTypesSupported) ? (obj(x)?.ConnectTypesSupported as unknown[]) : [];
      const serial = types(mgr?.SerialConsole);
      const shell = types(mgr?.CommandShell);
      if (mgr?.SerialConsole) seenOnManager.push(`SerialConsole ${serial.length ? `(${serial.join(", ")})` : "(disabled)"}`);
      if (mgr?.CommandShell) seenOnManager.push(`CommandShell ${shell.length ? `(${shell.join(", ")})` : "(disabled)"}`);
      if (serial.length || shell.length) {
        const npRef = ref(mgr?.NetworkProtocol);
        const np = npRef ? (await this.get(npRef, d, "read the manager's network protocols", [404])).json : null;
        const sshPort = port(np?.SSH, 22);
        const ipmiPort = port(np?.IPMI, 623);
        if (serial.includes("SSH")) ssh.push({ kind: "ssh", host, port: sshPort, source: "the manager's SerialConsole (SSH)" });
        if (shell.includes("SSH")) ssh.push({ kind: "ssh", host, port: sshPort, source: "the manager's CommandShell (SSH)" });
        if (serial.includes("IPMI")) ipmi.push({ kind: "ipmi", host, port: ipmiPort, source: "the manager's SerialConsole (IPMI)" });
      }
    }
    const same = (a: BmcConsoleOption, b: BmcConsoleOption) => a.kind !== "websocket" && b.kind !== "websocket" && a.kind === b.kind && a.port === b.port;
    for (const o of [...ssh, ...ipmi]) if (!options.some((x) => same(x, o))) options.push(o);
    if (options.length) return { options };
    const system = sc ? `its system's SerialConsole offers no enabled WebSocket, SSH or IPMI console` : "its system advertises no SerialConsole";
    const manager = seenOnManager.length
      ? `its manager advertises ${seenOnManager.join(" and ")} without SSH or IPMI`
      : "its manager advertises no SerialConsole or CommandShell";
    return { options, none: `This BMC offers no serial console (${system}; ${manager})` };
  }

  // ---------------------------------------------------------------------------------- tasks (202)

  /**
   * Follows a task monitor until the task ends, within the call's budget: waits Retry-After (default 1 s,
   * at most 5 s) between looks. A failed task becomes a BmcError carrying the task's messages.
   */
  private async waitTask(location: string, d: Deadline, what: string): Promise<void> {
    if (!location) return; // 202 without a monitor: the BMC accepted it and will not say more
    for (;;) {
      const r = await this.get(location, d, `follow the task of ${what}`);
      const state = r.status === 202 ? "running" : taskStateOf(r.json);
      if (state === "completed") return;
      if (state === "failed") {
        const msgs = taskMessages(r.json);
        throw new BmcError(
          "bmc_error",
          this.address,
          `BMC ${this.address} failed ${what}: ${msgs.join("; ") || `task ended in ${String(r.json?.TaskState)}`}`,
          {
            transient: false,
            detail: JSON.stringify(r.json).slice(0, 2000),
          },
        );
      }
      const wait = Math.min(retryAfterMs(r.headers["retry-after"]) ?? 1000, 5000);
      if (wait + 100 > d.remaining()) {
        throw new BmcError("timeout", this.address, `BMC ${this.address} was still working on ${what} after ${d.budgetMs} ms (task ${location})`);
      }
      await sleep(wait);
    }
  }

  private async taskStatus(taskUrl: string, d: Deadline): Promise<FirmwareTaskStatus> {
    if (taskUrl === "") return { state: "completed", percent: 100, messages: [] };
    const r = await this.get(taskUrl, d, "read the update task");
    const state =
      r.status === 202 && !r.json
        ? "running"
        : r.status === 202
          ? taskStateOf(r.json) === "completed"
            ? "running"
            : taskStateOf(r.json)
          : taskStateOf(r.json);
    const pct = num(r.json?.PercentComplete);
    return { state, percent: pct ?? (state === "completed" ? 100 : null), messages: taskMessages(r.json) };
  }

  // ------------------------------------------------------------------------------------ firmware

  private async updateService(d: Deadline): Promise<Json> {
    const root = await this.transport.root(d);
    const usRef = ref(root.UpdateService);
    if (!usRef) throw new BmcError("unsupported", this.address, `BMC ${this.address} offers no UpdateService`);
    return this.getJson(usRef, d, "read the update service");
  }

  private async firmwareInventory(d: Deadline): Promise<FirmwareComponent[]> {
    const us = await this.updateService(d);
    const invRef = ref(us.FirmwareInventory);
    if (!invRef) return [];
    const ids = await this.members(invRef, d, "list the firmware inventory");
    const items = await mapLimit(ids, FANOUT, async (id) => (await this.get(id, d, "read a firmware component", [404])).json);
    return items.filter((j): j is Json => !!j).map((j) => ({ id: String(j.Id ?? ref(j)), name: str(j.Name) ?? String(j.Id), version: str(j.Version) ?? "" }));
  }

  private async simpleUpdate(imageUri: string, targets?: string[]): Promise<{ taskUrl: string }> {
    let parsed: URL;
    try {
      parsed = new URL(imageUri);
    } catch {
      throw new BmcError("invalid", this.address, `Firmware image "${imageUri}" is not a URL the BMC can download (e.g. https://images.example/bf-bundle.bfb)`);
    }
    if (!/^(https?|ftp|sftp|scp|tftp|nfs|cifs):$/.test(parsed.protocol))
      throw new BmcError("invalid", this.address, `Firmware image URL scheme ${parsed.protocol} is not one a BMC downloads from`);
    const d = this.deadline();
    const us = await this.updateService(d);
    const action = obj(obj(us.Actions)?.["#UpdateService.SimpleUpdate"]);
    const target = str(action?.target);
    if (!target) throw new BmcError("unsupported", this.address, `BMC ${this.address} offers no UpdateService.SimpleUpdate action`);
    const body: Json = { ImageURI: imageUri };
    if (targets?.length) {
      const invRef = ref(us.FirmwareInventory);
      const known = invRef ? await this.members(invRef, d, "list the firmware inventory") : [];
      body.Targets = targets.map((t) => {
        // Accept "DPU_OS", "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS" and the BlueField docs' form without the leading "/".
        const path = t.includes("/") ? `/${t.replace(/^\/+/, "")}` : known.find((k) => k.split("/").pop() === t);
        if (!path || (known.length && !known.includes(path))) {
          throw new BmcError(
            "invalid",
            this.address,
            `BMC ${this.address} has no firmware component "${t}" (it has ${known.map((k) => k.split("/").pop()).join(", ") || "none"})`,
          );
        }
        return path;
      });
    }
    const res = await this.transport.call("POST", target, { deadline: d, what: `SimpleUpdate from ${imageUri}`, body, action: true });
    const loc = res.headers.location ?? (res.status === 202 ? (str(res.json?.TaskMonitor) ?? ref(res.json)) : undefined);
    if (loc) return { taskUrl: this.transport.resolve(loc) };
    // Applied synchronously (200/204 without a task): taskStatus("") reports "completed".
    return { taskUrl: "" };
  }

  // -------------------------------------------------------------------------------- virtual media

  /** The CD/DVD slot: system VirtualMedia (Redfish 1.x current), else the manager's (older BMCs). */
  private async mediaSlot(d: Deadline): Promise<{ id: string; json: Json }> {
    const { json: sys } = await this.system(d);
    let collection = ref(sys.VirtualMedia);
    if (!collection) {
      const root = await this.transport.root(d);
      const mgr = await this.manager(sys, root, d);
      collection = ref(mgr?.VirtualMedia);
    }
    if (!collection) throw new BmcError("unsupported", this.address, `BMC ${this.address} offers no virtual media`);
    const ids = await this.members(collection, d, "list the virtual media");
    const slots = await mapLimit(ids, FANOUT, async (id) => ({ id, json: (await this.get(id, d, "read a virtual media slot", [404])).json }));
    const isCd = (j: Json | null) => Array.isArray(j?.MediaTypes) && (j.MediaTypes as unknown[]).some((t) => t === "CD" || t === "DVD");
    const slot = slots.find((s) => isCd(s.json)) ?? slots.find((s) => s.json);
    if (!slot?.json) throw new BmcError("unsupported", this.address, `BMC ${this.address} has no virtual CD/DVD slot`);
    return { id: slot.id, json: slot.json };
  }

  /** The advertised action target, or null when the slot has no such action (older BMCs: PATCH the resource). */
  private mediaAction(vm: Json, name: "InsertMedia" | "EjectMedia"): string | null {
    return str(obj(obj(vm.Actions)?.[`#VirtualMedia.${name}`])?.target);
  }

  private async insertMedia(imageUrl: string, writeProtected: boolean): Promise<void> {
    let u: URL;
    try {
      u = new URL(imageUrl);
    } catch {
      throw new BmcError("invalid", this.address, `Image "${imageUrl}" is not a URL (e.g. https://images.example/install.iso)`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new BmcError("invalid", this.address, "Virtual media images are mounted from http:// or https:// URLs");
    const d = this.deadline();
    let slot = await this.mediaSlot(d);
    if (slot.json.Inserted === true && slot.json.Image === imageUrl) return;
    if (slot.json.Inserted === true || str(slot.json.Image)) {
      await this.changeMedia(slot, "EjectMedia", {}, d, "eject the current virtual media");
      slot = await this.mediaSlot(d);
    }
    const body: Json = { Image: imageUrl, Inserted: true, WriteProtected: writeProtected };
    const tpAllowed = obj(obj(slot.json.Actions)?.["#VirtualMedia.InsertMedia"])?.["TransferProtocolType@Redfish.AllowableValues"];
    const tp = u.protocol === "https:" ? "HTTPS" : "HTTP";
    if (Array.isArray(tpAllowed)) {
      if (!tpAllowed.includes(tp))
        throw new BmcError("unsupported", this.address, `BMC ${this.address} cannot mount images over ${tp} (it offers ${tpAllowed.join(", ")})`);
      body.TransferProtocolType = tp;
    } else if (!this.mediaAction(slot.json, "InsertMedia") && "TransferProtocolType" in slot.json) body.TransferProtocolType = tp;
    await this.changeMedia(slot, "InsertMedia", body, d, `insert virtual media ${imageUrl}`);
    const after = (await this.mediaSlot(d)).json;
    if (after.Inserted !== true || after.Image !== imageUrl)
      throw new BmcError(
        "bmc_error",
        this.address,
        `BMC ${this.address} accepted virtual media ${imageUrl} but shows ${after.Inserted === true ? `${String(after.Image)} inserted` : "nothing inserted"}`,
        { transient: false },
      );
  }

  private async ejectMedia(): Promise<void> {
    const d = this.deadline();
    const slot = await this.mediaSlot(d);
    if (slot.json.Inserted !== true && !str(slot.json.Image)) return;
    await this.changeMedia(slot, "EjectMedia", {}, d, "eject the virtual media");
  }

  /**
   * InsertMedia / EjectMedia through the advertised action, or — on a slot without the actions, as older BMCs and
   * DMTF's public-rackmount1 CD1 have — a PATCH of the VirtualMedia resource: {Image, Inserted: true,
   * WriteProtected} to mount, {Image: null, Inserted: false} to eject.
   */
  private async changeMedia(slot: { id: string; json: Json }, name: "InsertMedia" | "EjectMedia", body: Json, d: Deadline, what: string): Promise<void> {
    const target = this.mediaAction(slot.json, name);
    const res = target
      ? await this.transport.call("POST", target, { deadline: d, what, body, action: true })
      : await this.transport
          .call("PATCH", slot.id, {
            deadline: d,
            what: `${what} (PATCH of the VirtualMedia resource; it offers no VirtualMedia.${name} action)`,
            body: name === "InsertMedia" ? body : { Image: null, Inserted: false },
          })
          .catch((e: unknown) => {
            if (isBmcError(e) && e.code === "unsupported")
              throw new BmcError(
                "unsupported",
                this.address,
                `BMC ${this.address} offers neither a VirtualMedia.${name} action nor a writable VirtualMedia resource (${e.message})`,
                { transient: false },
              );
            throw e;
          });
    if (res.status === 202) await this.waitTask(res.headers.location ?? "", d, what);
  }

  /**
   * A vendor (OEM) action, the vendor-passthrough step: POSTs the body to an Actions/Oem target under this BMC's
   * /redfish/v1 and answers what the BMC answered (a task it started is followed to its end). Only such paths: the
   * operator names an action, never a URL, so the step cannot reach another host or change an arbitrary resource.
   */
  async oemAction(path: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    if (!isOemActionPath(path)) {
      throw new BmcError("invalid", this.address, `${path} is not a vendor action: use a path under /redfish/v1 ending in Actions/Oem/<Action>`, {
        transient: false,
      });
    }
    const d = this.deadline();
    const what = `the vendor action ${path}`;
    const res = await this.transport.call("POST", path, { deadline: d, what, body, action: true, retry: "unsent" });
    if (res.status === 202 && res.headers.location) await this.waitTask(res.headers.location, d, what);
    return { status: res.status, body: res.json };
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** What probeRedfish learned: enough to tell an operator "yes, that is the BMC, and the password works". */
export interface RedfishProbe {
  address: string;
  redfishVersion: string | null;
  vendor: string | null;
  product: string | null;
  /** Service root UUID (stable per BMC). */
  uuid: string | null;
  /** How the driver authenticates to this BMC. */
  auth: "session" | "basic";
  /** Number of ComputerSystems the credentials can see. */
  systems: number;
}

/**
 * Checks that a Redfish BMC answers at ep.address and accepts ep.credentials, in two requests plus the
 * login: GET /redfish/v1/ (unauthenticated) and GET the Systems collection. Throws BmcError with a
 * sentence for the operator: unreachable address, TLS certificate not trusted, wrong credentials, or
 * "answered but not Redfish" (bad_response) for an HTTP server that is something else.
 */
export async function probeRedfish(ep: BmcEndpoint, opts: RedfishDriverOptions = {}): Promise<RedfishProbe> {
  const driver = new RedfishDriver({ ...ep, driver: "redfish" }, opts);
  const t = driver.transport;
  const d = new Deadline(ep.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    let root: Json;
    try {
      root = await t.root(d);
    } catch (e) {
      if (isBmcError(e) && e.code === "bad_response") {
        throw new BmcError("bad_response", t.address, `${t.address} answers HTTP but is not a Redfish BMC: ${e.message}. Check the address and port.`, {
          detail: e.detail,
          transient: false,
        });
      }
      throw e;
    }
    const systemsRef = ref(root.Systems);
    let systems = 0;
    if (systemsRef) {
      const c = await t.call("GET", systemsRef, { deadline: d, what: "list the computer systems" });
      systems = Array.isArray(c.json?.Members) ? c.json.Members.length : 0;
    } else {
      // No Systems: still check the credentials on something that needs them.
      const sRef = ref(root.SessionService) ?? "/redfish/v1/SessionService";
      await t.call("GET", sRef, { deadline: d, what: "read the session service", allow: [404] });
    }
    const mode = t.authMode();
    return {
      address: t.address,
      redfishVersion: str(root.RedfishVersion),
      vendor: str(root.Vendor),
      product: str(root.Product),
      uuid: str(root.UUID)?.toLowerCase() ?? null,
      auth: mode === "session" ? "session" : "basic",
      systems,
    };
  } finally {
    await driver.close();
  }
}
