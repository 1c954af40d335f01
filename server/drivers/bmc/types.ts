// The one BMC driver interface Anvil programs against. Redfish and IPMI drivers both implement
// BmcDriver; nothing above server/drivers/bmc knows which protocol a node's BMC speaks.
// Vocabulary is Anvil's, not either protocol's: each driver maps it (see the notes on each member
// for the Redfish ResetType / IPMI chassis-control equivalents).

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

export const POWER_ACTIONS: readonly PowerAction[] = [
  "on",
  "off",
  "soft_off",
  "reboot",
  "soft_reboot",
  "power_cycle",
  "nmi",
];

/** Boot override target. Redfish Hdd|Pxe|Cd|BiosSetup|UefiHttp; IPMI disk|pxe|cdrom|bios (no uefi_http). */
export type BootDevice = "disk" | "pxe" | "cdrom" | "bios" | "uefi_http";

export const BOOT_DEVICES: readonly BootDevice[] = ["disk", "pxe", "cdrom", "bios", "uefi_http"];

export interface BootOptions {
  /** true: every boot (Redfish Continuous, IPMI options=persistent); false: next boot only (Once). */
  persistent: boolean;
  /** true: UEFI boot (Redfish BootSourceOverrideMode UEFI, IPMI options=efiboot); false/absent: legacy/BIOS default. */
  uefi?: boolean;
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

/** A DPU the BMC says is attached to this system (Redfish Links.OffloadedNetworkDeviceFunctions → OffloadSystem). */
export interface BmcDpuLink {
  /** The DPU's ComputerSystem @odata.id on its own BMC, or a vendor identifier. */
  systemId: string;
  /** NetworkDeviceFunction ids of the host that the DPU offloads. */
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
  /** Sets the boot override. Throws BmcError "unsupported" for a device the protocol cannot select. */
  setBootDevice(dev: BootDevice, opts: BootOptions): Promise<void>;
  getInventory(): Promise<BmcInventory>;
  getHealth(): Promise<BmcHealth>;
  /** The System Event Log, oldest first. */
  listEvents(opts?: ListEventsOptions): Promise<BmcEvent[]>;
  /** Releases sessions/sockets. The driver must not be used afterwards. */
  close(): Promise<void>;
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
 */
export type BmcErrorCode = "unreachable" | "auth" | "timeout" | "unsupported" | "invalid" | "bmc_error" | "bad_response";

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
  }
}

export function isBmcError(e: unknown): e is BmcError {
  return e instanceof BmcError;
}
