// The one BMC driver interface Anvil programs against. Redfish and IPMI drivers both implement
// BmcDriver; nothing above server/drivers/bmc knows which protocol a node's BMC speaks.
// Vocabulary is Anvil's, not either protocol's: each driver maps it (see the notes on each member
// for the Redfish ResetType / IPMI chassis-control equivalents).
import type { BiosSettings, BiosValue } from "@/domain/bios";
import { errorBrand, hasBrand, setBrand } from "../../lib/brand";

/** What the BMC reports about the server's power. Transitional states exist only in Redfish. */
export type PowerState = "on" | "off" | "powering_on" | "powering_off" | "unknown";

/**
 * A power request.
 * - on          Redfish On/ForceOn             IPMI chassis power on
 * - off         Redfish ForceOff               IPMI chassis power off (hard)
 * - soft_off    Redfish GracefulShutdown       IPMI chassis power soft (ACPI overtemp/button)
 * - reboot      Redfish ForceRestart           IPMI chassis power reset (hard)
 * - soft_reboot Redfish GracefulRestart        (no IPMI equivalent)
 * - power_cycle Redfish PowerCycle             IPMI chassis power cycle
 * - nmi         Redfish Nmi                    IPMI chassis power diag
 */
export type PowerAction = "on" | "off" | "soft_off" | "reboot" | "soft_reboot" | "power_cycle" | "nmi";

export const POWER_ACTIONS: readonly PowerAction[] = ["on", "off", "soft_off", "reboot", "soft_reboot", "power_cycle", "nmi"];

/** Boot override target. Redfish Hdd|Pxe|Cd|BiosSetup|UefiHttp; IPMI disk|pxe|cdrom|bios (no uefi_http). */
export type BootDevice = "disk" | "pxe" | "cdrom" | "bios" | "uefi_http";

export const BOOT_DEVICES: readonly BootDevice[] = ["disk", "pxe", "cdrom", "bios", "uefi_http"];

export interface BootOptions {
  /** true: every boot (Redfish Continuous, IPMI options=persistent); false: next boot only (Once). */
  persistent: boolean;
  /**
   * true: UEFI boot (Redfish BootSourceOverrideMode UEFI, IPMI options=efiboot); false: legacy/BIOS.
   * Absent: IPMI boots legacy (its boot flags have no "unchanged"); Redfish leaves the BMC's current mode as is.
   */
  uefi?: boolean;
}

/** The boot override a BMC holds after setBootDevice, as read back from it (not as requested). */
export interface AppliedBootOverride {
  device: BootDevice;
  /**
   * true: every boot; false: next boot only; null: the BMC does not say (IPMI: the boot-flags-valid bit reads back
   * clear although the device selector took — OpenIPMI's ipmi_sim and some older BMCs report only the device).
   */
  persistent: boolean | null;
}

export interface BmcCredentials {
  username: string;
  password: string;
}

export interface BmcEndpoint {
  driver: "redfish" | "ipmi";
  /** redfish: base URL (https://10.0.0.5 or http://127.0.0.1:8443); ipmi: host[:port] (port defaults to 623). */
  address: string;
  credentials: BmcCredentials;
  /** Redfish only: verify the BMC's TLS certificate (default true). */
  verifyTls?: boolean;
  /** Budget for one driver call including its retries, in ms (default 15000). */
  timeoutMs?: number;
  /** Retries after a transient failure (BMC busy, no answer); default 2. Auth/invalid errors never retry. */
  retries?: number;
}

export type Health = "ok" | "warning" | "critical" | "unknown";

export interface BmcHealth {
  health: Health;
  /** Why the health is not ok, phrased for an operator (e.g. "Main power fault; cooling/fan fault"). */
  reason?: string;
}

/** A network port the BMC knows about. */
export interface BmcNic {
  id: string;
  macAddress: string;
  linkUp?: boolean;
  speedMbps?: number;
}

/**
 * A DPU the BMC says is attached to this system: Redfish NetworkDeviceFunction Links.OffloadSystem, a chassis
 * the host's chassis Contains whose ComputerSystem has SystemType DPU, or a DPU system among the BMC's Systems.
 */
export interface BmcDpuLink {
  /** The DPU's ComputerSystem @odata.id (an absolute URL on its own BMC, or a path on this one), or a vendor identifier. */
  systemId: string;
  /** NetworkDeviceFunction ids the DPU offloads (Redfish: their @odata.id). */
  networkDeviceFunctions: string[];
  /**
   * Where to reach the DPU — what enrolment/inspection connects to next (with the host's credentials when it is on
   * the same BMC): the base URL of the DPU's own BMC ("https://10.0.1.5"), or, for a DPU that is a system of this
   * same BMC (DMTF public-smartnic), that system's URL on it ("https://10.0.0.5/redfish/v1/Systems/Card1-SoC").
   */
  bmcUrl?: string;
  /**
   * "cascade": the DPU's BMC sits behind this BMC, which proxies its Redfish service under a path of its own (the
   * xFusion deck's BMC cascade); bmcUrl is that proxy path on this BMC, to be called with the DPU BMC's OWN credentials
   * (the DPU BMC checks them). Absent: the DPU's BMC has an address of its own, or is a system of this BMC.
   */
  via?: "cascade";
}

/** For a DPU: the host functions it offloads (Redfish Links.OffloadedNetworkDeviceFunctions). */
export interface BmcHostLink {
  /** Base URL of the host's BMC when the links are absolute URLs on it; null when they are local paths. */
  bmcUrl: string | null;
  /** The host's NetworkDeviceFunction @odata.ids. */
  networkDeviceFunctions: string[];
}

/**
 * What a BMC can tell about the hardware. A field is `null` when the protocol cannot say
 * (IPMI knows nothing of CPUs, memory, NICs or DPUs); an empty list means "known: none".
 */
export interface BmcInventory {
  /** "dpu" when the system is itself a DPU (Redfish SystemType "DPU"); IPMI cannot tell → "unknown". */
  systemType: "physical" | "dpu" | "unknown";
  manufacturer: string | null;
  model: string | null;
  serialNumber: string | null;
  partNumber: string | null;
  /** System UUID / GUID, lower-case canonical form. */
  uuid: string | null;
  bmc: {
    manufacturer: string | null;
    firmwareVersion: string | null;
    /** Protocol version spoken (Redfish "1.17.0", IPMI "2.0"). */
    protocolVersion: string | null;
  };
  cpu: { count: number; cores: number | null; model: string | null } | null;
  memoryGiB: number | null;
  nics: BmcNic[] | null;
  dpus: BmcDpuLink[] | null;
  /** Redfish only: a vendor hint naming the DPU BMC's base URL (lab: Oem.Anvil.DpuBmcUrl), used when no
   *  NetworkDeviceFunction links to the DPU; absent/null otherwise. */
  dpuBmcUrl?: string | null;
  /** Redfish only, for a DPU: the host functions it offloads; absent for hosts and for IPMI. */
  host?: BmcHostLink | null;
  /** Redfish only, for a DPU: where its Anvil agent listens, when the BMC advertises it (lab: Oem.Anvil.AgentUrl). */
  agentUrl?: string | null;
  /** The power actions this BMC accepts as far as the driver knows (supportedPowerActions() when the inventory was
   *  read); stored with the node so the UI can disable the others. Absent: the driver does not report them here. */
  powerActions?: PowerAction[];
  /** The parsed protocol data the fields came from, kept for the inventory page and debugging. */
  raw: Record<string, unknown>;
}

/** One System Event Log entry. */
export interface BmcEvent {
  /** Stable within one BMC's log (Redfish LogEntry Id, IPMI SEL record id in hex). */
  id: string;
  /** When the BMC logged it; null when the BMC had no clock yet (IPMI "Pre-Init" timestamps). */
  created: Date | null;
  severity: "ok" | "warning" | "critical";
  message: string;
  /** Redfish MessageId when present. */
  messageId?: string;
  /** IPMI sensor type / Redfish SensorType, e.g. "Temperature". */
  sensorType?: string;
  /** The sensor name or number the event is about. */
  sensor?: string;
  /** "asserted" / "deasserted" for IPMI sensor events. */
  direction?: "asserted" | "deasserted";
}

export interface ListEventsOptions {
  /** Only entries created at or after this instant (entries without a timestamp are excluded). */
  since?: Date;
  /** At most this many entries, the newest ones. */
  limit?: number;
}

export interface BmcDriver {
  /** The driver's protocol, for logs and the inventory page. */
  readonly protocol: "redfish" | "ipmi";
  getPowerState(): Promise<PowerState>;
  /**
   * Requests a power action and returns once the BMC accepted it (not when the server reached the
   * state: poll getPowerState). Throws BmcError "unsupported" when the BMC cannot do that action.
   */
  setPower(action: PowerAction): Promise<void>;
  /** Actions this BMC accepts, as far as the protocol can tell (Redfish AllowableValues; IPMI: the
   *  chassis-control set, minus actions this BMC has rejected). */
  supportedPowerActions(): Promise<PowerAction[]>;
  /**
   * Sets the boot override. Throws BmcError "unsupported" for a device the protocol cannot select, and a BmcError when
   * the BMC refused or did not apply it. A driver that reads the override back resolves with what the BMC holds
   * ({applied}); one that does not resolves with nothing.
   */
  setBootDevice(dev: BootDevice, opts: BootOptions): Promise<{ applied: AppliedBootOverride } | void>;
  getInventory(): Promise<BmcInventory>;
  getHealth(): Promise<BmcHealth>;
  /** The System Event Log, oldest first. */
  listEvents(opts?: ListEventsOptions): Promise<BmcEvent[]>;
  /** Releases sessions/sockets (Redfish: DELETEs its session). The driver must not be used afterwards. */
  close(): Promise<void>;

  // ---- Optional capabilities. A driver leaves a member undefined when its protocol has no such thing
  // (IPMI has none of them); callers test for presence (`if (d.firmware) ...`), never for the protocol.

  /** Remote ISO/image mounted as the server's CD (Redfish VirtualMedia InsertMedia/EjectMedia). */
  virtualMedia?: BmcVirtualMedia;
  /** Firmware inventory and updates (Redfish UpdateService: FirmwareInventory, SimpleUpdate + Task). */
  firmware?: BmcFirmware;
  /** Live hardware events (Redfish EventService SSE, or polling where the BMC offers no stream). */
  events?: BmcEventStream;
  /** Push subscriptions (Redfish EventService Subscriptions, EventDestination): the BMC POSTs its events to a URL. */
  eventPush?: BmcEventPush;
  /** BIOS attributes (Redfish Bios, its pending Settings and the attribute registry); IPMI has no such thing. */
  bios?: BmcBios;
  /** A raw IPMI request (ipmitool raw: netfn, cmd, data bytes), answered with the response bytes after the completion
   *  code; a non-zero completion code is a BmcError naming it. IPMI only. */
  rawIpmi?(req: RawIpmiRequest): Promise<{ response: number[] }>;
  /** A vendor (OEM) action: a POST to an Actions/Oem target under the BMC's /redfish/v1 (domain/passthrough.ts); the BMC's
   *  4xx is a BmcError carrying its message. Redfish only. */
  oemAction?(path: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }>;
  /** Where the server's serial console can be reached (Redfish SerialConsole.WebSocket.ConsoleURI); null: none offered. */
  consoleUri?(): Promise<BmcConsoleUri | null>;
  /**
   * Every serial console the BMC advertises, in the order Anvil tries them (WebSocket, SSH, IPMI SOL), from the
   * system's SerialConsole and then its manager's SerialConsole / CommandShell; `none` explains an empty list.
   */
  consoleOptions?(): Promise<BmcConsoleOptions>;
  /**
   * Power state and how far the boot got (Redfish ComputerSystem BootProgress.LastState, e.g. "OSRunning");
   * bootState null when the BMC does not report boot progress.
   */
  bootProgress?(): Promise<{ power: PowerState; bootState: string | null }>;
  /**
   * Removes any boot override, so the next boot follows the BIOS order, in a form the BMC accepts (Redfish:
   * BootSourceOverrideEnabled Disabled, else BootSourceOverrideTarget None, else both) — checked by reading it back.
   */
  clearBootOverride?(): Promise<void>;
}

/** A raw IPMI request: network function, command and data bytes (each 0–255). */
export interface RawIpmiRequest {
  netfn: number;
  cmd: number;
  data: number[];
}

export interface VirtualMediaOptions {
  /** Default true: the server cannot write to the image. */
  writeProtected?: boolean;
}

export interface VirtualMediaStatus {
  inserted: boolean;
  /** The image URL the BMC has mounted, null when none. */
  image: string | null;
}

export interface BmcVirtualMedia {
  /** Mounts the image at imageUrl (http/https) as a CD. Media already inserted is ejected first; the same
   *  image already inserted is a no-op. */
  insert(imageUrl: string, opts?: VirtualMediaOptions): Promise<void>;
  /** Ejects the CD; nothing inserted is a no-op. */
  eject(): Promise<void>;
  status(): Promise<VirtualMediaStatus>;
}

/** One component of the BMC's firmware inventory (Redfish SoftwareInventory). */
export interface FirmwareComponent {
  /** Redfish SoftwareInventory Id, e.g. "BMC_Firmware", "DPU_OS". */
  id: string;
  name: string;
  version: string;
}

export interface FirmwareTaskStatus {
  state: "running" | "completed" | "failed";
  /** PercentComplete when the BMC reports it. */
  percent: number | null;
  /** The task's messages (Redfish Task.Messages[].Message), oldest first. */
  messages: string[];
}

export interface BmcFirmware {
  inventory(): Promise<FirmwareComponent[]>;
  /**
   * Starts an update from imageUri (the BMC downloads it). targets: FirmwareInventory ids ("DPU_OS") or
   * @odata.ids; absent: the BMC picks. Resolves once the BMC accepted it, with the task to follow.
   */
  simpleUpdate(imageUri: string, targets?: string[]): Promise<{ taskUrl: string }>;
  /** One look at a task returned by simpleUpdate. */
  taskStatus(taskUrl: string): Promise<FirmwareTaskStatus>;
}

export interface BmcBios {
  /** The attributes in effect, those pending until the next reboot, and the BMC's attribute registry. */
  get(): Promise<BiosSettings>;
  /**
   * Stores attrs as pending settings, applied by the BMC at the next reboot or power-on. Checked against the BMC's
   * attribute registry first: a refused attribute throws BmcError "invalid" and nothing is sent.
   */
  set(attrs: Record<string, BiosValue>): Promise<void>;
}

/** A hardware event as it happens (not from the stored log). */
export interface BmcLiveEvent {
  /** The BMC's event id (SSE id / EventId), or a driver-made id for polled events. */
  id: string;
  at: Date | null;
  /** power: powerState says the new state; health: health says the new health; log: a new SEL entry. */
  kind: "power" | "health" | "log" | "other";
  severity: "ok" | "warning" | "critical";
  message: string;
  messageId?: string;
  /** The resource the event is about (Redfish OriginOfCondition @odata.id). */
  origin?: string;
  powerState?: PowerState;
  health?: Health;
  /** "stream": pushed by the BMC; "poll": the driver noticed a change by polling. */
  source: "stream" | "poll";
}

export interface SubscribeOptions {
  /** Stops the subscription; subscribe() then resolves. */
  signal?: AbortSignal;
  /** Polling period when the BMC offers no event stream (default 10000 ms). */
  pollIntervalMs?: number;
  /**
   * What to do when the BMC offers no event stream: "poll" (the default) polls every pollIntervalMs; "none" resolves
   * at once, for a caller that polls by other means (Anvil's BMC sync) and only wants a stream where there is one.
   */
  fallback?: "poll" | "none";
  /** Told about each transient failure before the driver reconnects (for logs). */
  onError?: (e: BmcError) => void;
  /** Told each time the event stream is open (the first time and after every reconnect): what happened while it was
   *  down is not replayed by every BMC (Last-Event-ID is optional), so a caller may read the state again then. */
  onConnect?: () => void;
}

export interface BmcEventStream {
  /**
   * Delivers events to onEvent until opts.signal aborts (then resolves). Reconnects by itself after
   * transient failures (with backoff); rejects only on errors a retry cannot fix (auth, unsupported).
   */
  subscribe(onEvent: (e: BmcLiveEvent) => void, opts?: SubscribeOptions): Promise<void>;
}

/** An EventDestination a BMC holds: where it POSTs events, and the Context it echoes in each. */
export interface BmcPushSubscription {
  /** Its @odata.id at the BMC (what get and remove take). */
  uri: string;
  destination: string;
  context: string | null;
}

export interface BmcEventPush {
  /** Whether the BMC takes push subscriptions (an enabled EventService with a Subscriptions collection). */
  supported(): Promise<boolean>;
  /** Creates a subscription for every event (Protocol Redfish, EventFormatType Event); returns its @odata.id. */
  create(destination: string, context: string): Promise<string>;
  /** The subscription at uri, or null when the BMC no longer has it. */
  get(uri: string): Promise<BmcPushSubscription | null>;
  /** Every subscription the BMC holds (to find ones a replica left behind). */
  list(): Promise<BmcPushSubscription[]>;
  /** Deletes it; one already gone counts as deleted. */
  remove(uri: string): Promise<void>;
}

/** One way to the server's serial console that a BMC advertises. */
export type BmcConsoleOption =
  | { kind: "websocket"; url: string; interactive: boolean; source: string }
  | { kind: "ssh"; host: string; port: number; source: string }
  | { kind: "ipmi"; host: string; port: number; source: string };

export interface BmcConsoleOptions {
  /** In the order to try them; `source` says where each was advertised (e.g. "the system's SerialConsole.SSH"). */
  options: BmcConsoleOption[];
  /** When options is empty: what the BMC showed, for the "no serial console" message. */
  none?: string;
}

export interface BmcConsoleUri {
  /** ws:// or wss:// URL of the console (authenticate with the BMC credentials or session token). */
  url: string;
  /** Whether the console accepts keystrokes. */
  interactive: boolean;
}

/**
 * What went wrong, for callers to decide (retry later, mark the node faulted, ask an operator to
 * fix credentials):
 * - unreachable  no answer from the address (wrong address, BMC down, network)
 * - auth         the BMC refused the credentials or the user lacks the privilege
 * - timeout      the BMC answered but the call did not finish within the budget
 * - unsupported  the BMC cannot do this (action, boot device, command)
 * - invalid      the request itself is wrong (bad endpoint address, bad argument) — a caller bug
 * - bmc_error    the BMC answered with an error
 * - bad_response the BMC answered with something the driver cannot understand
 * - tls          the BMC's TLS certificate is not trusted (self-signed, expired, wrong name): trust it or
 *                turn certificate verification off for that node
 */
/** "forbidden": the address is outside the management-network policy (ANVIL_MGMT_ALLOW / ANVIL_MGMT_DENY); nothing was sent. */
export type BmcErrorCode = "unreachable" | "auth" | "timeout" | "unsupported" | "invalid" | "bmc_error" | "bad_response" | "tls" | "forbidden";

export class BmcError extends Error {
  readonly code: BmcErrorCode;
  /** The BMC address the error is about (host:port or base URL). */
  readonly address: string;
  /** Whether retrying the same call later may succeed. */
  readonly transient: boolean;
  /** Protocol detail (ipmitool stderr, Redfish error body), for logs — not for end users. */
  readonly detail?: string;

  constructor(code: BmcErrorCode, address: string, message: string, opts: { detail?: string; transient?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "BmcError";
    this.code = code;
    this.address = address;
    this.detail = opts.detail;
    this.transient = opts.transient ?? (code === "unreachable" || code === "timeout");
    setBrand(this, BMC_ERROR);
  }
}

const BMC_ERROR = errorBrand("BmcError");
/** Whether `e` is a BmcError from any copy of this module (see server/lib/brand.ts). */
export function isBmcError(e: unknown): e is BmcError {
  return hasBrand(e, BMC_ERROR);
}
