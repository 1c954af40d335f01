// Shared description of a lab fleet: node ids, hardware classes and MAC addresses, all derived
// deterministically from a host's index so every lab process (Redfish simulator, DPU agents, storage,
// enrolment scripts) agrees on the same fleet without talking to each other.

export type HealthState = "OK" | "Warning" | "Critical";
export type PowerState = "On" | "Off" | "PoweringOn" | "PoweringOff";

/** One hardware class of the lab. Hosts of one class are interchangeable (a pool's flavor). */
export interface HardwareProfile {
  /** short class name, usable as a pool / resource-class name */
  className: string;
  manufacturer: string;
  model: string;
  cpuModel: string;
  /** number of sockets */
  cpuCount: number;
  /** cores per socket */
  coresPerCpu: number;
  memoryGiB: number;
}

/** A host of the fleet and (optionally) the DPU in it. */
export interface FleetHost {
  /** 0-based position in the fleet */
  index: number;
  id: string;
  hostname: string;
  serialNumber: string;
  hardware: HardwareProfile;
  /** MACs of the host's own NICs as the host OS sees them (virtio-net functions the DPU presents) */
  macs: string[];
  dpu?: FleetDpu;
}

export interface FleetDpu {
  id: string;
  hostname: string;
  serialNumber: string;
  model: string;
  /** MAC of the DPU's out-of-band management port (oob_net0) */
  oobMac: string;
  /** true when the card has its own power supply, so host power-off does not take it down */
  dedicatedPower: boolean;
}

export interface FleetOptions {
  hosts: number;
  /** 1 = every host has a DPU (default), n = every n-th host, 0 = none */
  dpuEvery?: number;
  /** default "node" -> node-0001 ... */
  idPrefix?: string;
  dedicatedDpuPower?: boolean | ((hostIndex: number) => boolean);
}

/** The hardware classes hosts are spread over; several so list filters have something to bite. */
export const HARDWARE_PROFILES: readonly HardwareProfile[] = [
  {
    className: "compute-small",
    manufacturer: "Anvil Lab",
    model: "AL-1100",
    cpuModel: "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz",
    cpuCount: 1,
    coresPerCpu: 16,
    memoryGiB: 128,
  },
  {
    className: "compute-medium",
    manufacturer: "Anvil Lab",
    model: "AL-2200",
    cpuModel: "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
    cpuCount: 2,
    coresPerCpu: 32,
    memoryGiB: 256,
  },
  {
    className: "compute-large",
    manufacturer: "Anvil Lab",
    model: "AL-2400A",
    cpuModel: "AMD EPYC 7763 64-Core Processor",
    cpuCount: 2,
    coresPerCpu: 64,
    memoryGiB: 512,
  },
  {
    className: "memory-large",
    manufacturer: "Anvil Lab",
    model: "AL-2800M",
    cpuModel: "Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz",
    cpuCount: 2,
    coresPerCpu: 28,
    memoryGiB: 1024,
  },
];

export const DPU_MODEL = "NVIDIA BlueField-3 B3220 P-Series DPU";

/** Small integer hash (xorshift-multiply) so neighbouring indexes land on different classes. */
function mix(n: number): number {
  let x = (n + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Host id for a 0-based index: node-0001, node-0002, ... (at least 4 digits). */
export function hostIdFor(index: number, idPrefix = "node"): string {
  return `${idPrefix}-${String(index + 1).padStart(4, "0")}`;
}

export function dpuIdFor(hostId: string): string {
  return `${hostId}-dpu`;
}

export function hardwareFor(index: number): HardwareProfile {
  // Weighted: half the fleet is compute-medium, the rest spread over the other classes.
  const r = mix(index) % 8;
  const pick = r < 4 ? 1 : r < 6 ? 0 : r < 7 ? 2 : 3;
  return HARDWARE_PROFILES[pick];
}

/**
 * Locally administered unicast MAC (first byte 0x02) unique per (role, index): byte 1 says which NIC,
 * bytes 2..5 are the host index. role 0x00.. = host NICs, 0x10 = DPU oob.
 */
export function macFor(index: number, role: number): string {
  const bytes = [0x02, role & 0xff, (index >>> 24) & 0xff, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export function hasDpu(index: number, dpuEvery = 1): boolean {
  return dpuEvery > 0 && index % dpuEvery === 0;
}

/** Describe host number `index` of a fleet. */
export function fleetHost(index: number, opts: Omit<FleetOptions, "hosts"> = {}): FleetHost {
  const id = hostIdFor(index, opts.idPrefix ?? "node");
  const host: FleetHost = {
    index,
    id,
    hostname: id,
    serialNumber: `ANV${(mix(index) % 1_000_000).toString().padStart(6, "0")}${index.toString(36).toUpperCase()}`,
    hardware: hardwareFor(index),
    macs: [macFor(index, 0x00), macFor(index, 0x01)],
  };
  if (hasDpu(index, opts.dpuEvery ?? 1)) {
    const ded = opts.dedicatedDpuPower;
    const dpuId = dpuIdFor(id);
    host.dpu = {
      id: dpuId,
      hostname: dpuId,
      serialNumber: `MT${(mix(index + 7919) % 100_000_000).toString().padStart(8, "0")}`,
      model: DPU_MODEL,
      oobMac: macFor(index, 0x10),
      dedicatedPower: typeof ded === "function" ? ded(index) : Boolean(ded),
    };
  }
  return host;
}

/** All hosts of a fleet, in index order. */
export function fleetHosts(opts: FleetOptions): FleetHost[] {
  if (!Number.isInteger(opts.hosts) || opts.hosts < 0) throw new Error(`fleet: hosts must be a non-negative integer, got ${opts.hosts}`);
  const out: FleetHost[] = [];
  for (let i = 0; i < opts.hosts; i++) out.push(fleetHost(i, opts));
  return out;
}
