// The state of every simulated BMC and the rules that change it: power transitions (Reset semantics,
// host/DPU power coupling), the boot sequence (BootProgress, boot override, bootable disk), SEL and health.
// Kept deliberately small per BMC (plain fields, lazily created collections) so 20,000 BMCs fit in one
// process; timers exist only while a transition, a boot or an update runs.

import { dpuIdFor, fleetHost, type FleetHost, type HealthState, type PowerState } from "../fleet";
import type { SystemBackend, SystemBackendSink } from "./backend";
import { applyPendingBios } from "./bios";
import { type Dialect, LAB_DIALECT } from "./dialect";
import { RedfishError, Msg } from "./errors";

export type BmcKind = "host" | "dpu";
export type BootEnabled = "Disabled" | "Once" | "Continuous";
export type BootTarget = "None" | "Pxe" | "Hdd" | "Cd" | "UefiHttp";
export type BootMode = "UEFI" | "Legacy";
export type ResetType = "On" | "ForceOff" | "GracefulShutdown" | "GracefulRestart" | "ForceRestart" | "PowerCycle" | "Nmi";

export const RESET_TYPES: readonly ResetType[] = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "PowerCycle", "Nmi"];
export const BOOT_ENABLED: readonly BootEnabled[] = ["Disabled", "Once", "Continuous"];
export const BOOT_TARGETS: readonly BootTarget[] = ["None", "Pxe", "Hdd", "Cd", "UefiHttp"];
export const BOOT_MODES: readonly BootMode[] = ["UEFI", "Legacy"];

/** Where the boot of a powered-on machine is: none (off), running firmware/OS loader, OS up, or stuck without a boot device. */
export type BootPhase = "none" | "booting" | "os" | "noboot";
/** Where a person typing on the serial console is (only meaningful while the OS runs). */
export type TermStage = "login" | "password" | "shell";

export interface Faults {
  latencyMs: number;
  errorRate: number;
  timeout: boolean;
  stuckPower: boolean;
  unreachable: boolean;
  health?: HealthState;
}

export interface SelEntry {
  id: number;
  created: string;
  severity: HealthState;
  message: string;
  messageId: string;
  sensorType: string;
}

export interface SimConfig {
  powerTransitionMs: number;
  bootMs: number;
  updateMs: number;
  /** extra per-request delay [min,max] ms (the "realistic" profile), or null */
  requestLatency: [number, number] | null;
  allBootable: boolean;
  username: string;
  password: string;
  /** The DPU BMCs' own password (same user name); absent: the hosts' password. */
  dpuPassword?: string;
  idPrefix: string;
  dpuEvery: number;
}

/** Ids of the Redfish resources of one machine (different per kind and dialect so clients must discover them). */
export interface ResourceIds {
  system: string;
  chassis: string;
  manager: string;
  adapter: string;
  function: string;
  /** the virtual CD's id */
  media: string;
}
export const HOST_IDS: ResourceIds = {
  system: "System.Embedded.1",
  chassis: "Chassis.1",
  manager: "BMC.1",
  adapter: "Slot.1",
  function: "Slot.1-1",
  media: "CD",
};
export const DPU_IDS: ResourceIds = {
  system: "Bluefield",
  chassis: "Card1",
  manager: "Bluefield_BMC",
  adapter: "NvidiaNetworkAdapter",
  function: "eth0",
  media: "CD",
};
/** As in DMTF's public-smartnic / public-rackmount1 mockups. */
export const DMTF_HOST_IDS: ResourceIds = { system: "437XR1138R2", chassis: "1U", manager: "BMC", adapter: "Slot1", function: "SC1KP1F0", media: "CD1" };
export const DMTF_DPU_IDS: ResourceIds = { system: "Card1-SoC", chassis: "Card1", manager: "BMC", adapter: "Slot1", function: "SC2KP1F0", media: "CD1" };

/** The ids a machine gets in a dialect; `slot` is its 1-based place among the systems of a shared BMC. */
export function idsFor(dialect: Dialect, kind: BmcKind, slot: number): ResourceIds {
  if (dialect.ids === "dmtf") return kind === "host" ? DMTF_HOST_IDS : DMTF_DPU_IDS;
  if (dialect.ids === "numbered" && kind === "host") return { ...HOST_IDS, system: String(slot), chassis: String(slot), manager: "BMC" };
  return kind === "host" ? HOST_IDS : DPU_IDS;
}

/**
 * The address to enroll a machine by: its BMC's base URL when that names it unambiguously (the BMC serves it
 * alone, or it is the only non-DPU system there), else the URL of its ComputerSystem on that BMC.
 */
export function enrollAddress(b: Bmc): string {
  const members = b.endpoint.members;
  const bare = members.length === 1 || (b.kind === "host" && members.filter((m) => m.kind === "host").length === 1);
  return bare ? b.url : `${b.url}${b.systemPath}`;
}

/** Id of the system's hardware log service in the BMC's dialect. */
export function logIdOf(bmc: Bmc): string {
  return bmc.dialect.logs === "dmtf" ? "Log1" : "SEL";
}

export const SEL_CAP = 500;
/** OEM message registry of the simulator's own SEL entries. */
export const SIM_REGISTRY = "AnvilSim.1.0";

/** The entry a log starts with: the BMC's note that logging began. */
function logStartEntry(id: number, created: string, message: string): SelEntry {
  return { id, created, severity: "OK", message, messageId: `${SIM_REGISTRY}.LogInitialized`, sensorType: "Event Logging Disabled" };
}

export class Bmc {
  power: PowerState = "Off";
  powerTimer: NodeJS.Timeout | undefined;
  /** when the current power-on reached On (ms epoch) */
  onSince = 0;
  bootPhase: BootPhase = "none";
  bootTimer: NodeJS.Timeout | undefined;
  /** what the current boot was told to boot from (for the console log) */
  bootFrom: BootTarget = "Hdd";
  /** decided when the firmware starts the boot: will it find an OS? */
  bootToOs = false;
  bootable: boolean;
  bootEnabled: BootEnabled = "Disabled";
  bootTarget: BootTarget = "None";
  bootMode: BootMode = "UEFI";
  termStage: TermStage = "login";
  termUser = "";
  health: HealthState = "OK";
  faults: Faults | undefined;
  sel: SelEntry[] | undefined;
  selSeq = 0;
  eventSeq = 0;
  /** VirtualMedia CD state, undefined = empty */
  media: { image: string; inserted: boolean; writeProtected: boolean; transferProtocolType: string } | undefined;
  /** firmware versions after an update (lazily copied from defaults) */
  firmware: Record<string, string> | undefined;
  /** BIOS attributes in effect (lazily from the registry's defaults), those waiting for the next POST, and when
   *  pending ones were last applied (bios.ts) */
  bios: Record<string, string | number | boolean> | undefined;
  biosPending: Record<string, string | number | boolean> | undefined;
  biosAppliedAt: string | undefined;
  agentUrl: string | null = null;
  assetTag = "";
  peer: Bmc | undefined;
  /** A DPU whose BMC is reached only through its host's BMC (cascade.ts), never at an address of its own. */
  cascaded = false;
  /** set by index.ts: public base URL (http[s]://addr:port) of the BMC serving this machine */
  url = "";
  /** The BMC (listener, sessions, event service, manager) serving this machine: itself, or the first system of a
   *  BMC that serves several (dialect systemsPerBmc > 1, or a DPU on its host's BMC). */
  endpoint: Bmc = this;
  /** On an endpoint: every machine it serves, itself first. */
  members: Bmc[] = [this];
  /** On an endpoint: its dialect (members read it through `dialect`). */
  ownDialect: Dialect = LAB_DIALECT;
  /** Manager "Log" entries (dialect logs "dmtf"), on the endpoint only. */
  mgrLog: SelEntry[] | undefined;
  mgrLogSeq = 0;
  /** A real machine behind this BMC (backend.ts); undefined = the in-memory model. */
  backend: SystemBackend | undefined;
  /** Backend machines: the firmware found no boot device in the current boot. */
  backendNoBoot = false;

  constructor(
    public readonly index: number,
    public readonly kind: BmcKind,
    /** index of the host in the fleet (same for a host and its DPU) */
    public readonly fleetIndex: number,
    public readonly id: string,
    public readonly dedicatedPower: boolean,
    bootable: boolean,
    public readonly ids: ResourceIds = kind === "host" ? HOST_IDS : DPU_IDS,
  ) {
    this.bootable = bootable;
  }

  get dialect(): Dialect {
    return this.endpoint.ownDialect;
  }
  get systemPath() {
    return `/redfish/v1/Systems/${this.ids.system}`;
  }
  get chassisPath() {
    return `/redfish/v1/Chassis/${this.ids.chassis}`;
  }
  get managerPath() {
    return `/redfish/v1/Managers/${this.ids.manager}`;
  }
  get host(): Bmc | undefined {
    return this.kind === "dpu" ? this.peer : undefined;
  }
  get dpu(): Bmc | undefined {
    return this.kind === "host" ? this.peer : undefined;
  }
}

/** Hooks the engine calls so console and event delivery stay in their own modules. */
export interface EngineHooks {
  /** a Redfish event (already shaped as an EventRecord) for SSE and subscriptions */
  event(bmc: Bmc, ev: EventInput): void;
  /** the machine reached On and starts booting (console starts its boot log) */
  bootStarted(bmc: Bmc): void;
  /** the boot finished (login prompt or "no bootable device") */
  bootFinished(bmc: Bmc): void;
  /** power went away: console output stops */
  poweredOff(bmc: Bmc): void;
  /** text a machine prints on its own (NMI, sysrq) */
  consoleText(bmc: Bmc, text: string): void;
}

export interface EventInput {
  messageId: string;
  message: string;
  severity: HealthState;
  origin: string;
  args?: string[];
  eventType?: string;
}

export class Engine {
  readonly bmcs: Bmc[] = [];
  readonly byId = new Map<string, Bmc>();
  /** transient timers (transitions, boots, updates) so close() can cancel them */
  readonly timers = new Set<NodeJS.Timeout>();
  readonly startedAt = new Date().toISOString();
  closed = false;

  constructor(
    public readonly config: SimConfig,
    public hooks: EngineHooks,
  ) {}

  fleetHost(bmc: Bmc): FleetHost {
    // A DPU BMC always describes a card (a DPU-only entry's fleet index need not be one dpuEvery gives a DPU).
    return fleetHost(bmc.fleetIndex, { idPrefix: this.config.idPrefix, dpuEvery: bmc.kind === "dpu" ? 1 : this.config.dpuEvery });
  }

  hostname(bmc: Bmc): string {
    // A DPU-only entry (no host in this simulator) was named after its host already.
    return bmc.kind === "dpu" && bmc.peer ? dpuIdFor(bmc.peer.id) : bmc.id;
  }

  later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // ---------------------------------------------------------------- SEL, health, events

  /** The SEL, created on first use with the entry a BMC writes when its log starts. */
  selOf(bmc: Bmc): SelEntry[] {
    if (!bmc.sel) {
      bmc.sel = [logStartEntry(++bmc.selSeq, this.startedAt, "Event log initialized.")];
    }
    return bmc.sel;
  }

  addSel(bmc: Bmc, e: { severity: HealthState; message: string; messageId: string; sensorType: string }, emit = true): SelEntry {
    const sel = this.selOf(bmc);
    const entry: SelEntry = { id: ++bmc.selSeq, created: new Date().toISOString(), ...e };
    sel.push(entry);
    if (sel.length > SEL_CAP) sel.shift();
    if (emit) {
      this.hooks.event(bmc, {
        messageId: e.messageId,
        message: e.message,
        severity: e.severity,
        origin: `${bmc.systemPath}/LogServices/${logIdOf(bmc)}/Entries/${entry.id}`,
        eventType: "Alert",
      });
    }
    // A critical or warning hardware entry degrades the system's health, as a BMC rolls SEL into Status.
    if (rank(e.severity) > rank(bmc.health)) this.setHealth(bmc, e.severity, false);
    return entry;
  }

  /** The Manager's "Log" (dialect logs "dmtf"): BMC-level Event entries, kept on the endpoint. */
  mgrLogOf(bmc: Bmc): SelEntry[] {
    const ep = bmc.endpoint;
    if (!ep.mgrLog) {
      ep.mgrLog = [logStartEntry(++ep.mgrLogSeq, this.startedAt, "Manager event log started.")];
    }
    return ep.mgrLog;
  }

  /** An Event entry in the Manager's log. Like the SEL, a warning/critical entry raises the machine's health. */
  addManagerLog(bmc: Bmc, e: { severity: HealthState; message: string; messageId: string; sensorType: string }): SelEntry {
    const log = this.mgrLogOf(bmc);
    const ep = bmc.endpoint;
    const entry: SelEntry = { id: ++ep.mgrLogSeq, created: new Date().toISOString(), ...e };
    log.push(entry);
    if (log.length > SEL_CAP) log.shift();
    this.hooks.event(bmc, {
      messageId: e.messageId,
      message: e.message,
      severity: e.severity,
      origin: `${ep.managerPath}/LogServices/Log/Entries/${entry.id}`,
      eventType: "Alert",
    });
    if (rank(e.severity) > rank(bmc.health)) this.setHealth(bmc, e.severity, false);
    return entry;
  }

  /** Effective health: a health fault overrides what the SEL rolled up. */
  healthOf(bmc: Bmc): HealthState {
    return bmc.faults?.health ?? bmc.health;
  }

  setHealth(bmc: Bmc, health: HealthState, withSel: boolean): void {
    const before = this.healthOf(bmc);
    bmc.health = health;
    const after = this.healthOf(bmc);
    if (before !== after) this.healthChanged(bmc, before, after, withSel);
  }

  healthChanged(bmc: Bmc, before: HealthState, after: HealthState, withSel: boolean): void {
    if (withSel) {
      this.addSel(
        bmc,
        {
          severity: after,
          message: `System health changed from ${before} to ${after}.`,
          messageId: `${SIM_REGISTRY}.HealthChange`,
          sensorType: "Management Subsystem Health",
        },
        false,
      );
    }
    this.hooks.event(bmc, {
      messageId: `ResourceEvent.1.3.ResourceStatusChanged${after}`,
      message: `The health of resource '${bmc.systemPath}' has changed to ${after}.`,
      severity: after,
      origin: bmc.systemPath,
      args: [bmc.systemPath],
    });
  }

  private powerEvent(bmc: Bmc): void {
    const what: Record<PowerState, string> = {
      On: "ResourcePoweredOn",
      Off: "ResourcePoweredOff",
      PoweringOn: "ResourcePoweringOn",
      PoweringOff: "ResourcePoweringOff",
    };
    this.hooks.event(bmc, {
      messageId: `ResourceEvent.1.3.${what[bmc.power]}`,
      message: `The resource '${bmc.systemPath}' has changed power state to ${bmc.power}.`,
      severity: "OK",
      origin: bmc.systemPath,
      args: [bmc.systemPath],
    });
  }

  // ---------------------------------------------------------------- power

  /**
   * ComputerSystem.Reset. Throws RedfishError(409) for a request the current state does not allow.
   * Restarts (GracefulRestart, ForceRestart) are warm: the host goes Off->On but a DPU keeps its slot power;
   * ForceOff, GracefulShutdown and PowerCycle cut power and take an undedicated DPU down with the host.
   */
  reset(bmc: Bmc, type: ResetType): void {
    const off = bmc.power === "Off";
    if ((type === "GracefulRestart" || type === "ForceRestart") && off)
      throw new RedfishError(409, [Msg.operationNotAllowed(`${type} is not allowed while the system is powered off; use On.`)]);
    if (type === "Nmi" && bmc.power !== "On")
      throw new RedfishError(409, [Msg.operationNotAllowed(`Nmi is only allowed while the system is On (it is ${bmc.power}).`)]);
    // Stuck power: the BMC acknowledges the request but the hardware never moves.
    if (bmc.faults?.stuckPower) return;
    if (bmc.backend) {
      this.backendReset(bmc, bmc.backend, type);
      return;
    }
    switch (type) {
      case "On":
        if (bmc.power === "Off" || bmc.power === "PoweringOff") this.powerOn(bmc);
        return;
      case "ForceOff":
        if (!off) this.powerOff(bmc, true);
        return;
      case "GracefulShutdown":
        if (bmc.power === "On" || bmc.power === "PoweringOn") this.shutdown(bmc, () => {});
        return;
      case "GracefulRestart":
        this.shutdown(bmc, () => this.powerOn(bmc), true);
        return;
      case "ForceRestart":
        this.powerOff(bmc, false);
        this.powerOn(bmc);
        return;
      case "PowerCycle": {
        const dpu = bmc.dpu;
        const dpuFollows = dpu && !dpu.dedicatedPower && dpu.power !== "Off" && !dpu.faults?.stuckPower;
        if (!off) this.powerOff(bmc, true);
        this.powerOn(bmc);
        // Power comes back to the slot: the card boots again with the host.
        if (dpuFollows && dpu.power === "Off") this.powerOn(dpu);
        return;
      }
      case "Nmi":
        this.addSel(bmc, {
          severity: "Warning",
          message: "NMI button pressed / diagnostic interrupt issued.",
          messageId: `${SIM_REGISTRY}.NmiAsserted`,
          sensorType: "Critical Interrupt",
        });
        this.hooks.consoleText(
          bmc,
          "\r\n[ 1234.567890] Uhhuh. NMI received for unknown reason 3d on CPU 0.\r\n[ 1234.567901] Dazed and confused, but trying to continue\r\n",
        );
        return;
    }
  }

  /** Start powering on (PoweringOn, then On after powerTransitionMs). A DPU needs its host's power. */
  powerOn(bmc: Bmc): void {
    const host = bmc.host;
    if (host && !bmc.dedicatedPower && (host.power === "Off" || host.power === "PoweringOff") && !host.faults?.stuckPower) {
      // Ironic's rule, and the physics: the card has no power while its host is off.
      this.powerOn(host);
    }
    this.cancel(bmc.powerTimer);
    bmc.power = "PoweringOn";
    this.powerEvent(bmc);
    bmc.powerTimer = this.later(this.config.powerTransitionMs, () => {
      bmc.powerTimer = undefined;
      this.reachOn(bmc);
    });
  }

  private reachOn(bmc: Bmc): void {
    bmc.power = "On";
    bmc.onSince = Date.now();
    this.addSel(bmc, { severity: "OK", message: "System power on.", messageId: `${SIM_REGISTRY}.PowerOn`, sensorType: "System ACPI PowerState" }, false);
    this.powerEvent(bmc);
    this.startBoot(bmc);
  }

  /** GracefulShutdown: PoweringOff, then Off after powerTransitionMs, then `after` (restart). */
  private shutdown(bmc: Bmc, after: () => void, warm = false): void {
    this.cancel(bmc.powerTimer);
    this.cancel(bmc.bootTimer);
    bmc.bootTimer = undefined;
    bmc.power = "PoweringOff";
    bmc.bootPhase = "none";
    this.hooks.poweredOff(bmc);
    this.powerEvent(bmc);
    bmc.powerTimer = this.later(this.config.powerTransitionMs, () => {
      bmc.powerTimer = undefined;
      this.powerOff(bmc, !warm);
      after();
    });
  }

  /** Immediate Off. `cold` = power is really cut, so an undedicated DPU loses power too. */
  powerOff(bmc: Bmc, cold: boolean): void {
    this.cancel(bmc.powerTimer);
    this.cancel(bmc.bootTimer);
    bmc.powerTimer = undefined;
    bmc.bootTimer = undefined;
    const was = bmc.power;
    bmc.power = "Off";
    bmc.bootPhase = "none";
    bmc.termStage = "login";
    bmc.termUser = "";
    this.hooks.poweredOff(bmc);
    if (was !== "Off") {
      this.addSel(bmc, { severity: "OK", message: "System power off.", messageId: `${SIM_REGISTRY}.PowerOff`, sensorType: "System ACPI PowerState" }, false);
      this.powerEvent(bmc);
    }
    const dpu = bmc.dpu;
    if (cold && dpu && !dpu.dedicatedPower && dpu.power !== "Off" && !dpu.faults?.stuckPower) {
      this.addSel(
        dpu,
        {
          severity: "Warning",
          message: "Host power lost: DPU powered off with its host.",
          messageId: `${SIM_REGISTRY}.HostPowerLost`,
          sensorType: "Add-in Card",
        },
        false,
      );
      this.powerOff(dpu, true);
    }
  }

  // ---------------------------------------------------------------- boot

  /** The source the boot starting now uses; a one-time override is consumed by it (DSP2046 "Once"). */
  private takeBootSource(bmc: Bmc, fallback: BootTarget): BootTarget {
    let from = fallback;
    if (bmc.bootEnabled !== "Disabled" && bmc.bootTarget !== "None") from = bmc.bootTarget;
    if (bmc.bootEnabled === "Once") bmc.bootEnabled = "Disabled";
    return from;
  }

  private startBoot(bmc: Bmc): void {
    this.applyBios(bmc);
    const from = this.takeBootSource(bmc, "Hdd");
    bmc.bootFrom = from;
    bmc.bootToOs = this.bootsToOs(bmc);
    bmc.bootPhase = "booting";
    bmc.termStage = "login";
    this.hooks.bootStarted(bmc);
    this.cancel(bmc.bootTimer);
    bmc.bootTimer = this.later(this.config.bootMs, () => {
      bmc.bootTimer = undefined;
      this.finishBoot(bmc);
    });
  }

  /** The firmware reads its pending BIOS settings at POST: they become current, with a SEL entry saying which. */
  private applyBios(bmc: Bmc): void {
    const applied = applyPendingBios(bmc);
    if (!applied.length) return;
    this.addSel(
      bmc,
      {
        severity: "OK",
        message: `BIOS settings applied: ${applied.join(", ")}.`,
        messageId: `${SIM_REGISTRY}.BiosSettingsApplied`,
        sensorType: "System Firmware Progress",
      },
      false,
    );
  }

  /** Would this boot find an OS? Decided when the boot starts: set the disk bootable before powering on. */
  private bootsToOs(bmc: Bmc): boolean {
    if (bmc.kind === "dpu") return true; // the card boots its own OS from eMMC
    switch (bmc.bootFrom) {
      case "Hdd":
      case "None":
        return bmc.bootable || this.config.allBootable;
      case "Cd":
        // An image named *corrupt* mounts but holds nothing bootable (like a corrupt firmware image in tasks.ts).
        return bmc.media?.inserted === true && !/corrupt/i.test(bmc.media.image);
      default:
        return false; // no PXE / HTTP boot server in the lab
    }
  }

  private finishBoot(bmc: Bmc): void {
    const os = bmc.bootToOs;
    bmc.bootPhase = os ? "os" : "noboot";
    if (!os) {
      this.addSel(bmc, {
        severity: "Warning",
        message: `No bootable device found (boot source ${bmc.bootFrom}).`,
        messageId: `${SIM_REGISTRY}.BootDeviceNotFound`,
        sensorType: "Boot Error",
      });
    } else {
      this.hooks.event(bmc, {
        messageId: "ResourceEvent.1.3.ResourceChanged",
        message: `BootProgress of '${bmc.systemPath}' changed to OSRunning.`,
        severity: "OK",
        origin: bmc.systemPath,
        args: [bmc.systemPath],
      });
    }
    this.hooks.bootFinished(bmc);
  }

  /** "Press any key to retry" on a machine stuck without a boot device: a warm reboot. */
  retryBoot(bmc: Bmc): void {
    if (bmc.power !== "On" || bmc.bootPhase !== "noboot") return;
    this.powerOff(bmc, false);
    this.powerOn(bmc);
  }

  /** BootProgress.LastState, derived from time since On so no per-BMC timer is needed for it. */
  bootProgress(bmc: Bmc): string {
    if (bmc.power !== "On") return "None";
    if (bmc.backend) return bmc.backend.bootProgress();
    if (bmc.bootPhase === "os") return "OSRunning";
    if (bmc.bootPhase === "noboot") return "SystemHardwareInitializationComplete";
    const f = (Date.now() - bmc.onSince) / Math.max(1, this.config.bootMs);
    if (f < 0.1) return "PrimaryProcessorInitializationStarted";
    if (f < 0.2) return "MemoryInitializationStarted";
    if (f < 0.3) return "PCIResourceConfigStarted";
    if (f < 0.4 || !bmc.bootToOs) return "SystemHardwareInitializationComplete";
    return "OSBootStarted";
  }

  // ---------------------------------------------------------------- a real machine behind the BMC (backend.ts)

  /** A validated Reset for a backend machine: the BMC shows the transition, the machine reports where it ends. */
  private backendReset(bmc: Bmc, backend: SystemBackend, type: ResetType): void {
    const boots = type === "On" || type === "ForceRestart" || type === "GracefulRestart" || type === "PowerCycle";
    // "None" = no override: the machine's own boot order (the disks its DPU presents).
    const from = boots ? this.takeBootSource(bmc, "None") : bmc.bootFrom;
    if (boots) bmc.bootFrom = from;
    if (type === "Nmi") {
      this.addSel(bmc, {
        severity: "Warning",
        message: "NMI button pressed / diagnostic interrupt issued.",
        messageId: `${SIM_REGISTRY}.NmiAsserted`,
        sensorType: "Critical Interrupt",
      });
    } else if (type === "On" && bmc.power === "Off") {
      bmc.power = "PoweringOn";
      this.powerEvent(bmc);
    } else if ((type === "ForceOff" || type === "GracefulShutdown") && bmc.power === "On") {
      bmc.power = "PoweringOff";
      this.powerEvent(bmc);
    }
    backend.reset(type, from).catch((err: Error) => {
      this.addSel(bmc, {
        severity: "Critical",
        message: `${type} failed: ${err.message}`,
        messageId: `${SIM_REGISTRY}.ResetFailed`,
        sensorType: "System Firmware Progress",
      });
    });
  }

  /** What a backend reports flows into the BMC's state, SEL and events like the model's own transitions. */
  backendSink(bmc: Bmc): SystemBackendSink {
    return {
      power: (state) => {
        if (this.closed) return;
        if (state === "On") {
          const was = bmc.power;
          bmc.power = "On";
          bmc.onSince = Date.now();
          bmc.bootPhase = "booting";
          bmc.backendNoBoot = false;
          if (was !== "On") {
            this.addSel(
              bmc,
              { severity: "OK", message: "System power on.", messageId: `${SIM_REGISTRY}.PowerOn`, sensorType: "System ACPI PowerState" },
              false,
            );
            this.powerEvent(bmc);
          }
        } else this.powerOff(bmc, false);
      },
      bootProgress: (state, info) => {
        if (this.closed || bmc.power !== "On") return;
        if (info?.noBootDevice && !bmc.backendNoBoot) {
          bmc.backendNoBoot = true;
          bmc.bootPhase = "noboot";
          this.addSel(bmc, {
            severity: "Warning",
            message: `No bootable device found (boot source ${bmc.bootFrom}).`,
            messageId: `${SIM_REGISTRY}.BootDeviceNotFound`,
            sensorType: "Boot Error",
          });
        } else if (state === "OSRunning" && bmc.bootPhase !== "os") {
          bmc.bootPhase = "os";
          this.hooks.event(bmc, {
            messageId: "ResourceEvent.1.3.ResourceChanged",
            message: `BootProgress of '${bmc.systemPath}' changed to OSRunning.`,
            severity: "OK",
            origin: bmc.systemPath,
            args: [bmc.systemPath],
          });
        } else if (state === "PrimaryProcessorInitializationStarted") {
          // The machine's firmware starts (any power-on or reboot): it reads the pending BIOS settings.
          this.applyBios(bmc);
          bmc.bootPhase = "booting";
          bmc.backendNoBoot = false;
        }
      },
    };
  }

  /** Bring a BMC up already On with its OS running (lab option initialPower "On"). */
  startOn(bmc: Bmc): void {
    if (bmc.backend) return; // a real machine is as it is
    bmc.power = "On";
    bmc.onSince = Date.now() - this.config.bootMs;
    bmc.bootPhase = bmc.kind === "dpu" || bmc.bootable || this.config.allBootable ? "os" : "noboot";
  }
}

/** Firmware inventory a BMC starts with (FirmwareInventory ids as on a BlueField BMC). */
export function defaultFirmware(kind: BmcKind): Record<string, string> {
  return kind === "dpu"
    ? {
        BMC_Firmware: "BF-24.10-17",
        DPU_ATF: "4.9.0-25-g5ae2b2c",
        DPU_NIC: "32.43.1014",
        DPU_OS: "DOCA_2.9.1_BSP_4.9.0_Ubuntu_22.04-6.24-10",
        DPU_BSP: "4.9.0.13357",
      }
    : { BMC_Firmware: "2.14.3", BIOS: "2.19.1", NIC_Slot_1: "22.41.1000" };
}

export function firmwareOf(bmc: Bmc): Record<string, string> {
  return bmc.firmware ?? defaultFirmware(bmc.kind);
}

export function rank(h: HealthState): number {
  return h === "OK" ? 0 : h === "Warning" ? 1 : 2;
}
