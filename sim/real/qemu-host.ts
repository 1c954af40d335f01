// One real lab host: a QEMU q35 machine that boots through its firmware (SeaBIOS) from whatever disk is presented.
// It starts paused (-S) and stays alive while "off", so the PCIe devices a DPU has plugged survive a power-off
// (the DPU keeps its own power when the host is off). Power on = system_reset + cont; hard off = stop +
// system_reset; graceful off = ACPI system_powerdown, after which the guest halts and -no-shutdown keeps QEMU
// alive (SHUTDOWN/STOP events → Off). BootProgress comes from what really happens on ttyS0 (SeaBIOS, GRUB,
// kernel, `login:`), never from a timer. Disks are hot-plugged as virtio-blk on free pcie-root-ports via QMP
// (blockdev-add + device_add; device_del + DEVICE_DELETED + blockdev-del), the same calls the DPU agent makes.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { deviceDel, QmpClient, type QmpEvent } from "../../agent/backends/qmp";
import { SerialHub } from "./serial-hub";

export const QEMU_BINARY = "/usr/bin/qemu-system-x86_64";

/**
 * The accelerator and CPU model: KVM with the host's CPU where /dev/kvm works, else TCG with a plain x86-64 CPU
 * (qemu64). Not `-cpu max`: its SVM, AES-NI and AVX2 flags make udev load kvm and the crypto drivers at boot and
 * glibc pick AVX2 paths TCG emulates slowly; a lab guest reached login: about 20% sooner on qemu64 (docs/real-lab.md).
 */
export function accelArgs(accel: "kvm" | "tcg"): string[] {
  return accel === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,tb-size=256", "-cpu", "qemu64"];
}

export type HostPower = "On" | "Off";
/** Redfish BootProgress.LastState values this host reports. */
export type BootProgressState = "None" | "PrimaryProcessorInitializationStarted" | "SystemHardwareInitializationComplete" | "OSBootStarted" | "OSRunning";
export type BootSource = "Hdd" | "Cd" | "Pxe" | "None";

/**
 * KVM when /dev/kvm opens read-write AND the CPU advertises hardware virtualization (vmx/svm); some sandboxes
 * expose a /dev/kvm whose guests triple-fault as soon as Linux starts. ANVIL_QEMU_ACCEL=kvm|tcg overrides.
 */
export function pickAccel(): "kvm" | "tcg" {
  const forced = process.env.ANVIL_QEMU_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced;
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return /\b(vmx|svm)\b/.test(readFileSync("/proc/cpuinfo", "utf8")) ? "kvm" : "tcg";
  } catch {
    return "tcg";
  }
}

export interface QemuHostOptions {
  name: string;
  /** runtime folder for the QMP/serial sockets, the console log and the pid file (created; removed by stop()) */
  dir: string;
  memoryMiB?: number;
  cpus?: number;
  accel?: "kvm" | "tcg";
  /** a network-namespace file (unshare --net=FILE) to run QEMU in, e.g. the lab's Ceph namespace */
  netns?: string;
  /** pcie-root-ports for hot-plug (disks, NICs, cidata); default 6 */
  rootPorts?: number;
  /** extra QEMU arguments (NICs, etc.) */
  extraArgs?: string[];
}

export interface DiskSpec {
  /** device id; also names the block nodes (`<id>-fmt`, `<id>-file`) */
  id: string;
  /** a file to present (shorthand for blockdev { driver: "file", filename }) */
  file?: string;
  /** the protocol node's blockdev-add options, e.g. { driver: "rbd", pool, image, conf, user } */
  blockdev?: Record<string, unknown>;
  format?: "raw" | "qcow2";
  readOnly?: boolean;
  /** firmware boot priority (lower first); omitted = not a boot device unless an override picks disks */
  bootIndex?: number;
  serial?: string;
}

interface Attached {
  spec: DiskSpec;
  port: string;
}

/** A boot-capable device QEMU has (ours or plugged by the DPU agent). */
interface BootDevice {
  id: string;
  kind: "disk" | "nic" | "cd" | "other";
  /** its bootindex now (-1 = not a boot device) */
  current: number;
  /** its own index: the one it was plugged with (-1 = none) */
  own: number;
}

/** Serial markers, in the order a boot passes them, and the BootProgress each one means. */
const MARKERS: Array<[RegExp, BootProgressState | "noboot"]> = [
  [/SeaBIOS \(version/, "PrimaryProcessorInitializationStarted"],
  [/Booting from (Hard Disk|DVD\/CD|ROM|Floppy)|iPXE/, "SystemHardwareInitializationComplete"],
  [/No bootable device/, "noboot"],
  [/GNU GRUB|Linux version \d/, "OSBootStarted"],
  [/ login: /, "OSRunning"],
];

type Listener = (what: "power" | "bootProgress") => void;

export class QemuHost {
  power: HostPower = "Off";
  bootProgress: BootProgressState = "None";
  /** true after SeaBIOS said "No bootable device" in the current boot */
  noBootDevice = false;
  readonly serial: SerialHub;
  readonly accel: "kvm" | "tcg";
  private qmp!: QmpClient;
  private proc!: ChildProcess;
  private exited!: Promise<void>;
  private readonly disks = new Map<string, Attached>();
  private readonly ports: string[];
  private readonly listeners = new Set<Listener>();
  private tail = "";
  /** the onboard NIC: no boot ROM, no backend (the lab's host NICs are the DPU's, hot-plugged) */
  private readonly lom = { spec: { id: "lom0" } };
  /** per device id: its own boot index (as plugged) and the one we last wrote, to tell a replugged device */
  private readonly bootIndexes = new Map<string, { own: number; written: number }>();
  /** set while we stop/reset the machine ourselves, so our own STOP events are not read as a guest power-off */
  private selfInitiated = 0;
  startedAt = 0;

  private constructor(readonly opts: QemuHostOptions) {
    this.accel = opts.accel ?? pickAccel();
    this.ports = Array.from({ length: opts.rootPorts ?? 6 }, (_, i) => `rp${i + 1}`);
    this.serial = new SerialHub(join(opts.dir, "serial.sock"));
  }

  get qmpSocket(): string {
    return join(this.opts.dir, "qmp.sock");
  }
  /** A second QMP socket for the host's DPU agent (a QMP socket serves one client at a time; the first is ours). */
  get dpuQmpSocket(): string {
    return join(this.opts.dir, "qmp-dpu.sock");
  }
  /** The hot-plug root ports, for the DPU that fills them. */
  get rootPorts(): string[] {
    return [...this.ports];
  }
  get consoleLog(): string {
    return join(this.opts.dir, "console.log");
  }

  /** Starts QEMU paused (powered off), connects QMP and the serial hub. */
  static async start(opts: QemuHostOptions): Promise<QemuHost> {
    accessSync(QEMU_BINARY, constants.X_OK);
    const h = new QemuHost(opts);
    rmSync(opts.dir, { recursive: true, force: true });
    mkdirSync(opts.dir, { recursive: true });
    const args = [
      ...["-name", opts.name, "-machine", "q35,graphics=off", "-nodefaults", "-display", "none", "-vga", "none"],
      ...accelArgs(h.accel),
      ...["-m", String(opts.memoryMiB ?? 1024), "-smp", String(opts.cpus ?? 1), "-S", "-no-shutdown", "-boot", "strict=on"],
      ...["-device", "virtio-net-pci,id=lom0,romfile=,bootindex=1000"],
      ...h.ports.flatMap((p, i) => ["-device", `pcie-root-port,id=${p},chassis=${i + 1},slot=${i + 1}`]),
      ...["-chardev", `socket,id=ser0,path=${join(opts.dir, "serial.sock")},server=on,wait=off,logfile=${h.consoleLog}`, "-serial", "chardev:ser0"],
      ...["-qmp", `unix:${h.qmpSocket},server=on,wait=off`, "-qmp", `unix:${h.dpuQmpSocket},server=on,wait=off`, "-pidfile", join(opts.dir, "qemu.pid")],
      ...(opts.extraArgs ?? []),
    ];
    const [cmd, argv] = opts.netns ? ["nsenter", [`--net=${opts.netns}`, QEMU_BINARY, ...args]] : [QEMU_BINARY, args];
    h.proc = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    h.proc.stderr?.on("data", (d) => {
      stderr = (stderr + String(d)).slice(-4000);
    });
    h.exited = new Promise((r) => h.proc.once("exit", () => r()));
    const died = h.exited.then(() => {
      throw new Error(`QEMU for ${opts.name} exited at start: ${stderr.trim() || "no message"}`);
    });
    try {
      h.qmp = await Promise.race([QmpClient.connect(h.qmpSocket, { connectTimeoutMs: 15_000 }), died]);
      await Promise.race([h.serial.start(), died]);
    } catch (err) {
      await h.stop();
      throw err;
    }
    died.catch(() => {});
    h.serial.subscribe((chunk) => h.scan(chunk));
    h.qmp.onEvent((ev) => h.onQmpEvent(ev));
    return h;
  }

  /** Subscribes to power and boot-progress changes; returns an unsubscribe function. */
  onChange(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(what: "power" | "bootProgress"): void {
    for (const l of [...this.listeners]) l(what);
  }

  private setProgress(p: BootProgressState): void {
    if (this.bootProgress === p) return;
    this.bootProgress = p;
    this.emit("bootProgress");
  }

  private setPower(p: HostPower): void {
    if (this.power === p) return;
    this.power = p;
    if (p === "Off") {
      this.noBootDevice = false;
      this.tail = "";
      this.setProgress("None");
    }
    this.emit("power");
  }

  /** Reads boot markers from the serial stream (a marker may straddle two chunks: keep a short tail). */
  private scan(chunk: Buffer): void {
    if (this.power !== "On") return;
    const text = this.tail + chunk.toString("latin1");
    this.tail = text.slice(-128);
    let last = -1;
    let state: BootProgressState | "noboot" | undefined;
    for (const [rx, s] of MARKERS) {
      const m = rx.exec(text);
      if (!m) continue;
      // "SeaBIOS" again after later markers = the machine rebooted: the latest marker in the text wins.
      const at = text.lastIndexOf(m[0]);
      if (at >= last) {
        last = at;
        state = s;
      }
    }
    if (state === undefined) return;
    if (state === "PrimaryProcessorInitializationStarted") this.noBootDevice = false;
    if (state === "noboot") {
      const first = !this.noBootDevice;
      this.noBootDevice = true;
      if (this.bootProgress !== "SystemHardwareInitializationComplete") this.setProgress("SystemHardwareInitializationComplete");
      else if (first) this.emit("bootProgress");
      return;
    }
    // an OS marker only counts in a boot that found a device
    if (this.noBootDevice && (state === "OSBootStarted" || state === "OSRunning")) return;
    this.setProgress(state);
  }

  private onQmpEvent(ev: QmpEvent): void {
    if (ev.event === "SHUTDOWN" && ev.data?.guest === true) {
      // the guest powered itself off (ACPI poweroff): with -no-shutdown QEMU stops; that is Off
      this.setPower("Off");
    } else if (ev.event === "RESET" && ev.data?.guest === true && this.power === "On") {
      this.noBootDevice = false;
      this.setProgress("PrimaryProcessorInitializationStarted");
    } else if (ev.event === "STOP" && this.selfInitiated === 0 && this.power === "On") {
      // stopped by something other than us (e.g. a guest panic with -no-shutdown)
      void this.status().then((s) => {
        if (s === "shutdown" || s === "guest-panicked") this.setPower("Off");
      });
    }
  }

  /** QEMU's process id (for measuring its memory) */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  async status(): Promise<string> {
    return (await this.qmp.execute<{ status: string }>("query-status")).status;
  }

  private async own<T>(fn: () => Promise<T>): Promise<T> {
    this.selfInitiated++;
    try {
      return await fn();
    } finally {
      this.selfInitiated--;
    }
  }

  /** Power on (from Off): apply the boot order for `bootFrom`, reset, run. */
  async powerOn(bootFrom: BootSource = "None"): Promise<void> {
    if (this.power === "On") return;
    await this.own(async () => {
      await this.applyBootOrder(bootFrom);
      await this.qmp.execute("system_reset");
      this.noBootDevice = false;
      this.tail = "";
      this.startedAt = Date.now();
      this.power = "On";
      this.setProgress("PrimaryProcessorInitializationStarted");
      await this.qmp.execute("cont");
    });
    this.emit("power");
  }

  /** Hard power off: the CPU stops at once; the machine (and its plugged devices) stays, reset, ready to power on. */
  async powerOff(): Promise<void> {
    await this.own(async () => {
      const s = await this.status();
      if (s === "running") await this.qmp.execute("stop");
      await this.qmp.execute("system_reset");
    });
    this.setPower("Off");
  }

  /** ACPI power button. Resolves when the guest has powered off, or after `timeoutMs` with a hard off. */
  async gracefulShutdown(timeoutMs = 120_000): Promise<"graceful" | "forced"> {
    if (this.power === "Off") return "graceful";
    const off = new Promise<void>((resolve) => {
      const unsub = this.onChange((w) => {
        if (w === "power" && this.power === "Off") {
          unsub();
          resolve();
        }
      });
    });
    await this.qmp.execute("system_powerdown");
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([off.then(() => "graceful" as const), new Promise<"forced">((r) => (timer = setTimeout(() => r("forced"), timeoutMs)))]);
    clearTimeout(timer);
    if (outcome === "forced") await this.powerOff();
    return outcome;
  }

  /** Reset button (warm): the firmware runs again with the same devices. */
  async reset(bootFrom: BootSource = "None"): Promise<void> {
    if (this.power === "Off") return this.powerOn(bootFrom);
    await this.own(async () => {
      await this.applyBootOrder(bootFrom);
      this.noBootDevice = false;
      this.tail = "";
      this.startedAt = Date.now();
      this.setProgress("PrimaryProcessorInitializationStarted");
      await this.qmp.execute("system_reset");
    });
  }

  async nmi(): Promise<void> {
    await this.qmp.execute("inject-nmi");
  }

  /**
   * Sets the bootindex of every boot-capable device QEMU has for the next firmware run — the disks this class
   * attached AND the ones someone else plugged (the DPU agent plugs its boot disk with bootindex 1 over its own QMP
   * socket), found with qom-list /machine/peripheral + qom-get bootindex. Override Hdd: every disk first (in their
   * own order), the onboard NIC after them. Pxe/Cd: the onboard NIC (lom0) only — it has no boot ROM and there is
   * no PXE server or CD drive in the lab, so they find nothing, like a server whose PXE boot times out. No override:
   * the devices' own order (the index each had when plugged), lom0 last. lom0 always holds a boot index, so
   * SeaBIOS's boot order is never empty and `-boot strict=on` keeps it to that list (an empty list would let
   * SeaBIOS try every disk).
   */
  private async applyBootOrder(bootFrom: BootSource): Promise<void> {
    const devices = await this.bootDevices();
    const network = bootFrom === "Pxe" || bootFrom === "Cd";
    const own = (d: BootDevice) => (d.own < 0 ? Number.MAX_SAFE_INTEGER : d.own);
    const ordered = devices.filter((d) => d.id !== this.lom.spec.id).sort((a, b) => own(a) - own(b) || a.id.localeCompare(b.id));
    const wanted = new Map<string, number>();
    let n = network ? 2 : 1;
    for (const d of ordered) {
      const boots = !network && (bootFrom === "Hdd" ? d.kind === "disk" : d.own >= 0);
      wanted.set(d.id, boots ? n++ : -1);
    }
    wanted.set(this.lom.spec.id, network ? 1 : n);
    // QEMU refuses an index another device holds (even the one being moved), so clear the changed ones first.
    const changed = devices.filter((d) => d.current !== wanted.get(d.id));
    for (const d of changed) await this.setBootIndex(d.id, -1);
    for (const d of changed) {
      const idx = wanted.get(d.id) ?? -1;
      if (idx !== -1) await this.setBootIndex(d.id, idx);
    }
  }

  /**
   * Every device under /machine/peripheral with a bootindex property, with the index it has now and its own one:
   * the index it had when plugged, remembered until it is replugged (its index is then no longer the one we wrote).
   */
  private async bootDevices(): Promise<BootDevice[]> {
    const children = await this.qmp.execute<{ name: string; type: string }[]>("qom-list", { path: "/machine/peripheral" });
    const out: BootDevice[] = [];
    const seen = new Set<string>();
    for (const c of children) {
      const type = /^child<(.+)>$/.exec(c.type)?.[1];
      if (!type || /root-port|bridge|serial|virtio-serial/.test(type)) continue;
      let current: number;
      try {
        current = await this.qmp.execute<number>("qom-get", { path: `/machine/peripheral/${c.name}`, property: "bootindex" });
      } catch {
        continue; // no bootindex property: not a boot device
      }
      seen.add(c.name);
      const known = this.bootIndexes.get(c.name);
      const ownIdx = known && known.written === current ? known.own : current;
      this.bootIndexes.set(c.name, { own: ownIdx, written: current });
      const kind = /-cd$|cdrom/.test(type) ? "cd" : /blk|scsi-hd|ide-hd|nvme/.test(type) ? "disk" : /net|e1000|rtl8139/.test(type) ? "nic" : "other";
      out.push({ id: c.name, kind, current, own: ownIdx });
    }
    for (const id of [...this.bootIndexes.keys()]) if (!seen.has(id)) this.bootIndexes.delete(id);
    return out;
  }

  private async setBootIndex(id: string, idx: number): Promise<void> {
    await this.qmp.execute("qom-set", { path: `/machine/peripheral/${id}`, property: "bootindex", value: idx });
    const known = this.bootIndexes.get(id);
    if (known) known.written = idx;
  }

  /** Presents a disk on a free pcie-root-port (hot-plug while On; while Off the firmware sees it at power-on). */
  async attachDisk(spec: DiskSpec): Promise<void> {
    if (this.disks.has(spec.id)) throw new Error(`attachDisk: ${this.opts.name} already has a disk '${spec.id}'`);
    if (!spec.file === !spec.blockdev) throw new Error("attachDisk: give exactly one of file or blockdev");
    const used = new Set([...this.disks.values()].map((d) => d.port));
    const port = this.ports.find((p) => !used.has(p));
    if (!port) throw new Error(`attachDisk: ${this.opts.name} has no free pcie-root-port (${this.ports.length} in use)`);
    const protocol = spec.file ? { driver: "file", filename: spec.file } : spec.blockdev!;
    const ro = spec.readOnly ?? false;
    await this.qmp.execute("blockdev-add", {
      driver: spec.format ?? "raw",
      "node-name": `${spec.id}-fmt`,
      "read-only": ro,
      file: { ...protocol, "node-name": `${spec.id}-file`, "read-only": ro },
    });
    try {
      await this.qmp.execute("device_add", {
        driver: "virtio-blk-pci",
        id: spec.id,
        drive: `${spec.id}-fmt`,
        bus: port,
        serial: spec.serial ?? spec.id.slice(0, 20),
        ...(spec.bootIndex !== undefined ? { bootindex: spec.bootIndex } : {}),
      });
    } catch (err) {
      await this.qmp.execute("blockdev-del", { "node-name": `${spec.id}-fmt` }).catch(() => {});
      throw err;
    }
    this.disks.set(spec.id, { spec, port });
    // our own order for this disk: the spec's index, or "not a boot device" when it has none
    this.bootIndexes.set(spec.id, { own: spec.bootIndex ?? -1, written: spec.bootIndex ?? -1 });
  }

  /** Removes a presented disk: device_del, wait for DEVICE_DELETED, then blockdev-del. */
  async detachDisk(id: string, timeoutMs = 30_000): Promise<void> {
    if (!this.disks.has(id)) throw new Error(`detachDisk: ${this.opts.name} has no disk '${id}'`);
    const ac = new AbortController();
    const gone = this.qmp.waitEvent("DEVICE_DELETED", (d) => d.device === id, timeoutMs, ac.signal);
    try {
      await deviceDel(this.qmp, id);
    } catch (err) {
      ac.abort();
      await gone.catch(() => {});
      throw err;
    }
    // A powered-off machine has no OS to acknowledge the PCIe unplug request: a reset of the (stopped) machine
    // completes it, as the slot's power is cut.
    if (this.power === "Off") await this.own(() => this.qmp.execute("system_reset"));
    await gone;
    await this.qmp.execute("blockdev-del", { "node-name": `${id}-fmt` });
    this.disks.delete(id);
  }

  diskIds(): string[] {
    return [...this.disks.keys()];
  }

  /** Quits QEMU (SIGKILL if it does not go within 5 s), closes sockets, removes the runtime folder. */
  async stop(): Promise<void> {
    this.serial.close();
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      if (this.qmp && !this.qmp.closed) await this.qmp.execute("quit", undefined, { timeoutMs: 2000 }).catch(() => {});
      const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(t);
    }
    this.qmp?.close();
    rmSync(this.opts.dir, { recursive: true, force: true });
  }
}
