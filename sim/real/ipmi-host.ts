// One real lab host behind OpenIPMI's ipmi_sim instead of the Redfish BMC: IPMI over LAN (RMCP+, 127.0.0.1:<free UDP
// port>) drives a real QEMU q35 machine; `ipmitool … sol activate` is the guest's ttyS0.
//
// How the pieces are wired (what was found to work with ipmi_sim 1.0.13 / OpenIPMI 2.0.33 and QEMU 7.2):
//  - QEMU runs for the host's whole life, started paused (-S) like QemuHost, with -no-shutdown: while "off" the
//    process stays, so the PCIe devices a DPU hot-plugged survive a power-off and the DPU's QMP socket stays open.
//  - ipmi_sim's `chassis_control` hook (a small python3 script written into dir) is the power and boot hardware: it
//    talks QMP to the machine on its own socket (qmp-bmc.sock). Power is QEMU's run state, read on every request, so
//    `chassis power status` is the truth — a guest that powered itself off (ACPI, -no-shutdown → "shutdown") reads
//    Off. on = system_reset + cont; off = stop + system_reset (hard); reset = system_reset; soft = system_powerdown
//    (the ACPI power button). `chassis power cycle` is ipmi_sim's own off, then on once the hook reads Off.
//    ipmi_sim's alternative, `startcmd`, makes power = "the process exists": a power-off kills QEMU (the DPU's
//    devices and QMP connection go with it) and a guest poweroff under -no-shutdown would still read On.
//  - Boot device: ipmi_sim hands the hook the boot flags' device selector ("pxe", "default", "cdrom", "bios", "none";
//    not the persistent bit). The hook applies it at the next power-on or reset and then clears it (next-boot-only):
//    pxe/cdrom take every disk out of SeaBIOS's boot order (bootindex -1 via qom-set, remembered in boot-saved.json)
//    so the firmware tries only the onboard NIC, which has no boot ROM (no PXE server in the lab) → "No bootable
//    device"; the next boot without an override puts the disks' boot indexes back. default/bios/none = disk order.
//  - QEMU's external-BMC interface is connected too: `-device ipmi-bmc-extern` + `isa-ipmi-kcs` over a chardev to
//    ipmi_sim's `serial 15 … codec VM` listener, so the guest has a KCS system interface to this BMC (Linux ipmi_si).
//  - SOL: the guest's ttyS0 is a QEMU pty chardev (with a console.log), and ipmi_sim's `sol "/dev/pts/N"` opens it
//    (a pty crosses network namespaces, unlike TCP). Typing in `sol activate` reaches the guest's getty.
//  - netns: QEMU runs in the namespace (its disks may be on the lab's Ceph there); ipmi_sim stays in the caller's
//    namespace on 127.0.0.1. The VM interface then goes through a unix socket that this process relays to
//    ipmi_sim's TCP listener (ipmi_sim only listens on TCP for it).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { accessSync, appendFileSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { QmpClient } from "../../agent/backends/qmp";
import { claimPort } from "../port-claims";
import { accelArgs, QEMU_BINARY, pickAccel } from "./qemu-host";

export interface IpmiHostOptions {
  /** runtime folder: lan.conf, the emulator file, the chassis hook, QMP sockets, console.log (created; removed by stop()) */
  dir: string;
  name: string;
  memoryMiB?: number;
  cpus?: number;
  accel?: "kvm" | "tcg";
  /** a network-namespace file (unshare --net=FILE) to run QEMU in; ipmi_sim stays on this namespace's 127.0.0.1 */
  netns?: string;
  /** a disk image presented at start as the boot disk (virtio-blk on the first root port, bootindex 1; qcow2 by extension) */
  image?: string;
  /** pcie-root-ports for hot-plug; default 6 */
  rootPorts?: number;
  /** IPMI user; default "admin" */
  username?: string;
  /** IPMI password, at most 20 characters; default random */
  password?: string;
  /** UDP port of IPMI over LAN on 127.0.0.1 (a restarted lab keeps its address); default any free port */
  port?: number;
  /** how long to wait for ipmi_sim to answer, ms; default 15000 */
  startTimeoutMs?: number;
}

export interface IpmiHost {
  name: string;
  /** "127.0.0.1:<udp port>", a BmcEndpoint address for the IPMI driver */
  address: string;
  username: string;
  password: string;
  accel: "kvm" | "tcg";
  /** QMP for the host's DPU agent (hot-plug disks and NICs on rootPorts) */
  dpuQmpSocket: string;
  /** the root ports free for a DPU (the first one holds `image` when given) */
  rootPorts: string[];
  /** everything the guest wrote on ttyS0 */
  consoleLog: string;
  qemuPid: number | undefined;
  ipmiSimPid: number | undefined;
  /** QEMU's run state (QMP query-status): "prelaunch" (reset and stopped) or "paused" = off by the BMC, "shutdown" = the guest powered off */
  status(): Promise<string>;
  /** the console log so far, as text */
  consoleText(): string;
  /** the chassis hook's requests so far, e.g. ["get power", "set power 1"] */
  hookLog(): string[];
  /** the chassis hook's failures so far ("get power: QMP closed during query-status"); ipmi_sim answered those with an error */
  hookErrors(): string[];
  /** ends ipmi_sim and QEMU (by pid), the relay, and removes dir */
  stop(): Promise<void>;
}

/** ipmi_sim's chassis_control hook: `hook get power boot` / `hook set power 1 boot pxe …`, one QMP session per call. */
const HOOK = String.raw`
import fcntl, json, os, socket, sys
d = os.path.dirname(os.path.abspath(__file__))
# A QMP socket serves one client at a time, and ipmi_sim runs a hook per request: concurrent requests (the power
# sync's status poll beside an enrollment probe) would collide on qmp-bmc.sock. One hook at a time.
lock = open(os.path.join(d, "hook.lock"), "w")
fcntl.flock(lock, fcntl.LOCK_EX)
ON = {"running", "guest-panicked", "internal-error", "io-error", "debug", "suspended", "watchdog"}
DISK = ("virtio-blk", "-hd", "nvme", "-cd")

class Qmp:
    def __init__(self):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(os.path.join(d, "qmp-bmc.sock"))
        self.f = s.makefile("rwb")
        json.loads(self.f.readline())
        self.call("qmp_capabilities")
    def call(self, cmd, args=None):
        m = {"execute": cmd}
        if args is not None:
            m["arguments"] = args
        self.f.write(json.dumps(m).encode() + b"\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP closed during " + cmd)
            r = json.loads(line)
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(cmd + ": " + r["error"]["desc"])

def path(n):
    return os.path.join(d, n)

def read(n, default):
    try:
        with open(path(n)) as f:
            return f.read().strip() or default
    except FileNotFoundError:
        return default

def write(n, v):
    with open(path(n) + ".tmp", "w") as f:
        f.write(v)
    os.replace(path(n) + ".tmp", path(n))

def apply_boot(q):
    """The pending boot device takes effect at this power-on/reset, once."""
    dev = read("boot", "none")
    write("boot", "none\n")
    saved = json.loads(read("boot-saved.json", "{}"))
    if dev in ("pxe", "cdrom"):
        for c in q.call("qom-list", {"path": "/machine/peripheral"}):
            t = c["type"]
            if not t.startswith("child<") or not any(k in t for k in DISK):
                continue
            p = "/machine/peripheral/" + c["name"]
            idx = q.call("qom-get", {"path": p, "property": "bootindex"})
            if idx >= 0:
                saved.setdefault(c["name"], idx)
                q.call("qom-set", {"path": p, "property": "bootindex", "value": -1})
        write("boot-saved.json", json.dumps(saved))
    elif saved:
        for name, idx in saved.items():
            try:
                q.call("qom-set", {"path": "/machine/peripheral/" + name, "property": "bootindex", "value": idx})
            except RuntimeError:
                pass  # the DPU took that disk away meanwhile
        os.remove(path("boot-saved.json"))
    with open(path("boot.log"), "a") as f:
        f.write(dev + "\n")

with open(path("hook.log"), "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\n")

def main(op, args):
    if op == "get":
        q = Qmp()
        for k in args:
            if k == "power":
                print("power:%d" % (1 if q.call("query-status")["status"] in ON else 0))
            elif k == "boot":
                print("boot:" + read("boot", "none"))
            else:
                print(k + ":0")
        return
    if op != "set":
        raise RuntimeError("unknown operation " + op)
    q = None
    while len(args) >= 2:
        k, v = args[0], args[1]
        args = args[2:]
        if k == "boot":
            write("boot", v + "\n")
            continue
        if k == "identify":
            continue
        q = q or Qmp()
        on = q.call("query-status")["status"] in ON
        if k == "power" and v == "1" and not on:
            apply_boot(q)
            q.call("system_reset")
            q.call("cont")
        elif k == "power" and v == "0" and on:
            q.call("stop")
            q.call("system_reset")
        elif k == "reset" and v == "1" and on:
            apply_boot(q)
            q.call("system_reset")
        elif k == "shutdown" and v == "1" and on:
            q.call("system_powerdown")

try:
    main(sys.argv[1], sys.argv[2:])
except Exception as e:
    # ipmi_sim answers the IPMI request with an error; the reason stays in hook-errors.log
    with open(path("hook-errors.log"), "a") as f:
        f.write("%s: %s\n" % (" ".join(sys.argv[1:]), e))
    sys.exit(1)
`;

/** A free UDP port on 127.0.0.1 (for ipmi_sim's LAN; test/ipmi-sim.ts uses it too), one no BMC of this test run had. */
export async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(0, "127.0.0.1", () => resolve());
    });
    const { port } = sock.address();
    await new Promise<void>((r) => sock.close(() => r()));
    if (claimPort("udp-127.0.0.1", port) || attempt >= 50) return port;
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function requireBinary(bin: string, pkg: string): void {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${bin} not found on PATH: install with \`apt-get install -y ${pkg}\``);
}

/** One ipmitool call against the host's BMC; resolves true when it exits 0. The password travels in the environment. */
function ipmitoolOk(port: number, username: string, password: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      "ipmitool",
      ["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(port), "-U", username, "-E", "-N", "1", "-R", "1", ...args],
      { env: { ...process.env, IPMI_PASSWORD: password }, timeout: 5000 },
      (err) => resolve(!err),
    );
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Ends a child we started: SIGTERM, then SIGKILL after `ms`. */
async function end(child: ChildProcess | undefined, ms = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (!(await waitExit(child, ms))) {
    child.kill("SIGKILL");
    await waitExit(child, 5000);
  }
}

/** Pipes QEMU's VM-interface unix socket to ipmi_sim's TCP listener (netns hosts); reconnects until closed. */
class VmRelay {
  private closed = false;
  private pair: [net.Socket, net.Socket] | null = null;
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly unixPath: string,
    private readonly tcpPort: number,
  ) {}
  start(): void {
    if (this.closed) return;
    const a = net.createConnection(this.unixPath);
    const b = net.createConnection(this.tcpPort, "127.0.0.1");
    this.pair = [a, b];
    let down = false;
    const drop = () => {
      if (down) return;
      down = true;
      a.destroy();
      b.destroy();
      this.pair = null;
      if (!this.closed) this.timer = setTimeout(() => this.start(), 500);
    };
    for (const s of [a, b]) {
      s.on("error", drop);
      s.on("close", drop);
    }
    a.pipe(b);
    b.pipe(a);
  }
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.pair ?? []) s.destroy();
  }
}

function qemuArgs(o: IpmiHostOptions, accel: "kvm" | "tcg", ports: string[], vmChardev: string): string[] {
  const d = o.dir;
  const image = o.image
    ? [
        ...["-blockdev", `driver=file,node-name=boot-file,filename=${o.image}`],
        ...["-blockdev", `driver=${o.image.endsWith(".qcow2") ? "qcow2" : "raw"},node-name=boot-fmt,file=boot-file`],
        ...["-device", `virtio-blk-pci,id=boot,drive=boot-fmt,bus=${ports[0]},serial=boot,bootindex=1`],
      ]
    : [];
  return [
    ...["-name", o.name, "-machine", "q35,graphics=off", "-nodefaults", "-display", "none", "-vga", "none"],
    ...accelArgs(accel),
    ...["-m", String(o.memoryMiB ?? 1024), "-smp", String(o.cpus ?? 1), "-S", "-no-shutdown", "-boot", "strict=on"],
    // the onboard NIC: no boot ROM, no backend; its boot index keeps SeaBIOS's list non-empty (see QemuHost)
    ...["-device", "virtio-net-pci,id=lom0,romfile=,bootindex=1000"],
    ...ports.flatMap((p, i) => ["-device", `pcie-root-port,id=${p},chassis=${i + 1},slot=${i + 1}`]),
    // q35's ACPI hot-plug stays on, as in QemuHost: the DPU agent completes an unplug from a powered-off host by resetting
    // the stopped machine (with native PCIe hot-plug such an unplug never completes once a guest ran).
    // ttyS0: a pty that ipmi_sim's SOL opens; everything the guest prints also goes to console.log
    ...["-chardev", `pty,id=ser0,logfile=${join(d, "console.log")}`, "-serial", "chardev:ser0"],
    // the external BMC: KCS in the guest, the VM protocol to ipmi_sim
    ...["-chardev", vmChardev, "-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0", "-device", "isa-ipmi-kcs,bmc=bmc0"],
    ...["-qmp", `unix:${join(d, "qmp.sock")},server=on,wait=off`],
    ...["-qmp", `unix:${join(d, "qmp-dpu.sock")},server=on,wait=off`],
    ...["-qmp", `unix:${join(d, "qmp-bmc.sock")},server=on,wait=off`],
    ...["-pidfile", join(d, "qemu.pid")],
    ...image,
  ];
}

function readHookErrors(d: string): string[] {
  try {
    return readFileSync(join(d, "hook-errors.log"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Starts QEMU (paused = powered off) and ipmi_sim in front of it; resolves once IPMI over LAN and its power read answer. */
export async function startIpmiHost(o: IpmiHostOptions): Promise<IpmiHost> {
  accessSync(QEMU_BINARY, constants.X_OK);
  requireBinary("ipmi_sim", "openipmi");
  requireBinary("ipmitool", "ipmitool");
  requireBinary("python3", "python3");
  const username = o.username ?? "admin";
  const password = o.password ?? randomBytes(8).toString("hex");
  // ipmi_sim takes passwords of at most 16 characters (IPMI 1.5's user password); a longer one leaves every
  // session refused, which would look like a BMC that never answers.
  if (!/^[\x21-\x7e]{1,16}$/.test(password) || password.includes('"'))
    throw new Error(`startIpmiHost: the password must be 1–16 printable characters without '"' (ipmi_sim's limit), got ${password.length}`);
  if (!/^[\x21-\x7e]{1,20}$/.test(password) || /["\\]/.test(password)) {
    throw new Error("IPMI password: 1 to 20 printable characters without spaces, quotes or backslashes");
  }
  if (!/^[A-Za-z0-9._-]{1,16}$/.test(username)) throw new Error("IPMI user name: 1 to 16 letters, digits, '.', '_' or '-'");
  if (o.image && /[,\s]/.test(o.image)) throw new Error(`image path ${o.image} must not contain commas or spaces (QEMU option syntax)`);
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) throw new Error(`IPMI port must be 1-65535, got ${o.port}`);
  const accel = o.accel ?? pickAccel();
  const ports = Array.from({ length: o.rootPorts ?? 6 }, (_, i) => `rp${i + 1}`);
  const d = o.dir;
  rmSync(d, { recursive: true, force: true });
  mkdirSync(join(d, "state"), { recursive: true, mode: 0o700 });
  writeFileSync(join(d, "chassis-hook.py"), HOOK, { mode: 0o644 });
  writeFileSync(join(d, "boot"), "none\n");
  writeFileSync(
    join(d, "cmd.emu"),
    [
      "# Generated by sim/real/ipmi-host.ts",
      "mc_setbmc 0x20",
      "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02",
      "sel_enable 0x20 1000 0x0a",
      "mc_enable 0x20",
      "",
    ].join("\n"),
  );

  let qemu: ChildProcess | undefined;
  let sim: ChildProcess | undefined;
  let qmp: QmpClient | undefined;
  let relay: VmRelay | undefined;
  let lanPort = 0;
  const cleanup = async () => {
    relay?.close();
    await end(sim);
    if (qmp && !qmp.closed) await qmp.execute("quit", undefined, { timeoutMs: 2000 }).catch(() => {});
    qmp?.close();
    await end(qemu);
  };

  try {
    const vmPort = await freeTcpPort();
    const vmChardev = o.netns ? `socket,id=ipmi0,path=${join(d, "vm.sock")},server=on,wait=off` : `socket,id=ipmi0,host=127.0.0.1,port=${vmPort},reconnect=1`;
    const args = qemuArgs(o, accel, ports, vmChardev);
    const [cmd, argv] = o.netns ? ["nsenter", [`--net=${o.netns}`, QEMU_BINARY, ...args]] : [QEMU_BINARY, args];
    qemu = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
    let qemuErr = "";
    qemu.stderr?.on("data", (c) => {
      qemuErr = (qemuErr + String(c)).slice(-4000);
    });
    const qemuDied = new Promise<never>((_, reject) =>
      qemu?.once("exit", () => reject(new Error(`QEMU for ${o.name} exited at start: ${qemuErr.trim() || "no message"}`))),
    );
    qemuDied.catch(() => {});
    qmp = await Promise.race([QmpClient.connect(join(d, "qmp.sock"), { connectTimeoutMs: 15_000 }), qemuDied]);
    const chardevs = await qmp.execute<Array<{ label: string; filename: string }>>("query-chardev");
    const pty = chardevs.find((c) => c.label === "ser0")?.filename.replace(/^pty:/, "");
    if (!pty?.startsWith("/dev/pts/")) throw new Error(`QEMU for ${o.name} did not report the serial pty (${JSON.stringify(chardevs)})`);

    let lastError = "";
    // A free port found here may be taken before ipmi_sim binds it: another try with another one. A given port: once.
    for (let tries = 0; tries < (o.port ? 1 : 3) && !lanPort; tries++) {
      const port = o.port ?? (await freeUdpPort());
      const lan = [
        "# Generated by sim/real/ipmi-host.ts",
        `name "${o.name.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
        "set_working_mc 0x20",
        "  startlan 1",
        `    addr 127.0.0.1 ${port}`,
        "    priv_limit admin",
        "    allowed_auths_callback none md2 md5 straight",
        "    allowed_auths_user none md2 md5 straight",
        "    allowed_auths_operator none md2 md5 straight",
        "    allowed_auths_admin none md2 md5 straight",
        `    guid ${randomBytes(16).toString("hex")}`,
        "  endlan",
        `  serial 15 127.0.0.1 ${vmPort} codec VM`,
        `  chassis_control "/usr/bin/env python3 ${join(d, "chassis-hook.py")}"`,
        `  sol "${pty}" 115200`,
        `  user 2 true "${username}" "${password}" admin 10 none md2 md5 straight`,
        "",
      ].join("\n");
      writeFileSync(join(d, "lan.conf"), lan, { mode: 0o600 }); // holds the password
      const child = spawn("ipmi_sim", ["-c", "lan.conf", "-f", "cmd.emu", "-n", "-s", join(d, "state")], { cwd: d, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      const keep = (c: Buffer) => {
        out = (out + String(c)).slice(-4000);
        try {
          appendFileSync(join(d, "ipmi_sim.log"), c);
        } catch {
          // dir removed by stop()
        }
      };
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      const deadline = Date.now() + (o.startTimeoutMs ?? 15_000);
      let ready = false;
      while (child.exitCode === null && Date.now() < deadline) {
        if (await ipmitoolOk(port, username, password, ["mc", "info"])) {
          ready = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      if (ready) {
        sim = child;
        lanPort = port;
      } else {
        await end(child, 2000);
        lastError = child.exitCode !== null ? `ipmi_sim exited during start: ${out.trim() || "(no output)"}` : "ipmi_sim did not answer mc info in time";
      }
    }
    if (!sim) throw new Error(`ipmi_sim for ${o.name}: ${lastError}`);
    if (o.netns) {
      relay = new VmRelay(join(d, "vm.sock"), vmPort);
      relay.start();
    }
    // The VM interface is up once QEMU's side of ipmi0 is connected (QEMU retries every second).
    const until = Date.now() + 10_000;
    for (;;) {
      const c = (await qmp.execute<Array<{ label: string; filename: string }>>("query-chardev")).find((x) => x.label === "ipmi0");
      if (c && !c.filename.startsWith("disconnected")) break;
      if (Date.now() > until) throw new Error(`QEMU for ${o.name} did not connect its external BMC to ipmi_sim (${c?.filename})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Ready when a power read goes all the way through the chassis hook to QEMU (the first hook run is the slowest:
    // python3 starting cold on a loaded machine), so the first client's probe does not meet a cold hook.
    const hookBy = Date.now() + (o.startTimeoutMs ?? 15_000) * 2;
    while (!(await ipmitoolOk(lanPort, username, password, ["chassis", "power", "status"]))) {
      if (Date.now() > hookBy)
        throw new Error(`ipmi_sim for ${o.name}: the chassis hook did not answer a power read (${readHookErrors(d).at(-1) ?? "no error logged"})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (err) {
    await cleanup();
    rmSync(d, { recursive: true, force: true });
    throw err;
  }

  const q = qmp;
  let stopped = false;
  return {
    name: o.name,
    address: `127.0.0.1:${lanPort}`,
    username,
    password,
    accel,
    dpuQmpSocket: join(d, "qmp-dpu.sock"),
    rootPorts: o.image ? ports.slice(1) : [...ports],
    consoleLog: join(d, "console.log"),
    qemuPid: qemu?.pid,
    ipmiSimPid: sim?.pid,
    status: async () => (await q.execute<{ status: string }>("query-status")).status,
    consoleText: () => {
      try {
        return readFileSync(join(d, "console.log"), "latin1");
      } catch {
        return "";
      }
    },
    hookLog: () => {
      try {
        return readFileSync(join(d, "hook.log"), "utf8").split("\n").filter(Boolean);
      } catch {
        return [];
      }
    },
    hookErrors: () => readHookErrors(d),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await cleanup();
      rmSync(d, { recursive: true, force: true });
    },
  };
}
