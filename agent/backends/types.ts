// The one interface every agent backend implements. The core (agent/core.ts) owns names, idempotency, PCIe
// function numbering and validation; a backend only realizes a decision on its data plane (memory for `sim`,
// SPDK + genisoimage + Open vSwitch for `linux`) and undoes it. Backends may throw AgentError/BackendError.
import type { CidataSpec, DiskSpec, NicSpec, OverlaySpec } from "../schemas";

export type FunctionKind = "virtio-blk" | "virtio-net";

/** A host-visible PCIe function emulated by the DPU: physical function `pf`, virtual function `vf`. */
export interface PcieFunction {
  pf: number;
  vf: number;
  kind: FunctionKind;
}

export type BoundTo = { type: "disk"; name: string } | { type: "cidata"; name: string } | { type: "nic"; name: string };

/** What the host sees on its PCIe bus; passed to onHostDevicesChanged so a lab BMC knows whether the host can boot. */
export interface HostDevice {
  function: PcieFunction;
  boundTo: BoundTo;
  /** A virtio-blk function backed by a disk with role "boot" that is fully attached. */
  bootable: boolean;
  readOnly?: boolean;
  mac?: string;
}

/** The three NoCloud files, already rendered (user-data verbatim, meta-data and network-config as YAML). */
export interface CidataFiles {
  "user-data": Buffer;
  "meta-data": Buffer;
  "network-config"?: Buffer;
}

export interface DiskAttachment {
  /** Block device name in the DPU's storage stack (SPDK bdev). */
  bdev: string;
  /** The emulated virtio-blk endpoint / controller name. */
  endpoint: string;
}

export interface CidataAttachment {
  bdev: string;
  endpoint: string;
}

export interface NicAttachment {
  /** OVS port on br-int standing for the virtio-net function (its representor). */
  port: string;
}

export type BackendOp =
  | "attachDisk"
  | "detachDisk"
  | "publishCidata"
  | "removeCidata"
  | "createNic"
  | "updateNicRules"
  | "deleteNic"
  | "putOverlay"
  | "deleteOverlay";

export interface AgentBackend {
  readonly kind: "sim" | "linux";
  /** Operating system of the DPU as reported in health/inventory. */
  readonly dpuOs: string;
  /** This DPU's underlay address (its VTEP), reported in health so the BFF records it at inspect; unset when unknown. */
  readonly underlayIp?: string;
  attachDisk(name: string, spec: DiskSpec, fn: PcieFunction): Promise<DiskAttachment>;
  detachDisk(name: string, spec: DiskSpec, fn: PcieFunction): Promise<void>;
  publishCidata(name: string, spec: CidataSpec, files: CidataFiles, fn: PcieFunction, createdAt: Date): Promise<CidataAttachment>;
  /** The seed image bytes exactly as presented to the host. */
  cidataImage(name: string, files: CidataFiles, createdAt: Date): Promise<Buffer>;
  removeCidata(name: string, fn: PcieFunction): Promise<void>;
  createNic(name: string, spec: NicSpec, fn: PcieFunction): Promise<NicAttachment>;
  /** Replaces the NIC's security flows; must be atomic (never a window with neither or both rule sets). */
  updateNicRules(name: string, spec: NicSpec, fn: PcieFunction): Promise<void>;
  deleteNic(name: string, spec: NicSpec, fn: PcieFunction): Promise<void>;
  /** Replaces a VNI's remote VTEPs and ARP table (tunnel ports and responder flows); NICs are not touched. */
  putOverlay(vni: number, spec: OverlaySpec): Promise<void>;
  deleteOverlay(vni: number): Promise<void>;
  /** Overlays a previous run of the agent left in place (journaled), so the core reports them after a restart. */
  restoredOverlays?(): Record<number, OverlaySpec>;
  /** Removes everything this agent ever created on the data plane, including leftovers from a previous run. */
  reset(): Promise<void>;
  /** Called after every change to the set of host-visible functions. */
  hostDevicesChanged?(devices: HostDevice[]): void;
  /** Fault-injection admin surface (sim only); exposed at /admin/faults when the agent runs with admin: true. */
  readonly admin?: {
    getFaults(): unknown;
    setFaults(input: unknown): unknown;
  };
  close?(): Promise<void>;
}
