// The real lab's DPU: one emulated BlueField beside one QEMU host. It is
//   - a network namespace bound to a file (<dir>/netns): the DPU's data plane; nothing of it is in the host netns;
//   - its own Open vSwitch inside it (ovsdb-server + ovs-vswitchd with their own db, rundir, log and unixctl under
//     <dir>/ovs; bridges br-int and br-phy with datapath_type=netdev, no kernel module);
//   - the DPU agent (agent/main.ts, linux backend, `--emulation qemu`) in the host netns on 127.0.0.1:<port>: it
//     reaches OVS and QEMU by unix sockets and runs `ip` in the namespaces through nsenter. It presents disks, the
//     cidata seed and NICs by hot-plugging virtio devices into the host's QEMU (agent/backends/qemu-emulation.ts).
// Underlay: br-phy may carry an address (the DPU's VTEP) and a veth end; linkDpus() joins two DPUs that way, so
// VXLAN networks (--vxlan-local-ip) can span them. A DPU may also join the lab's provider network (provider.ts) with
// an uplink port on br-int, the agent's --uplink, where its routers' floating IPs and SNAT addresses are reached.
// stop() ends everything by pid, deletes the uplink's veth pair and removes the namespace.
// Needs root (namespaces), openvswitch-switch, iproute2 and util-linux (nsenter, unshare).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export interface StartDpuOptions {
  /** Folder for the namespace file, OVS's files and the agent's state; created if missing. */
  dir: string;
  /** The host QEMU's QMP socket. */
  qmpSocket: string;
  /** The host's free pcie-root-port ids this DPU may fill. */
  rootPorts: string[];
  /** Network namespace file QEMU runs in (where the host's taps are made); unset: the host netns. */
  qemuNetns?: string;
  /** Bearer token of the agent's API (passed by environment, not on the command line). */
  token: string;
  /** Agent port on 127.0.0.1; default 0 (any free). */
  port?: number;
  /** The DPU's underlay address on br-phy, with prefix (e.g. 10.98.0.1/24); also the agent's VXLAN local IP. */
  underlayAddress?: string;
  /** An interface already in this DPU's namespace to add to br-phy (e.g. a veth end toward another DPU). */
  underlayPort?: string;
  /** Prefix of the agent's QMP ids; default "anvil". */
  idPrefix?: string;
  /** ceph.conf for librbd inside QEMU (optional). */
  cephConf?: string;
  /**
   * A provider network to join (provider.ts): a veth pair, end "uplink" on br-int (the agent's --uplink, carrying only
   * the provider VLAN), end `peer` (at most 15 characters) in the provider's namespace, where `attach` plugs it in.
   */
  uplink?: { netns: string; peer: string; vlanId: number; attach(peer: string): Promise<void> };
}

export interface EmulatedDpu {
  dir: string;
  /** The DPU's network namespace file. */
  netns: string;
  /** OVS_RUNDIR of the DPU's switch (db.sock, br-int.mgmt, *.ctl). */
  ovsRunDir: string;
  /** The agent's base URL (http://127.0.0.1:<port>). */
  url: string;
  agentPid: number;
  /** Runs a command inside the DPU's namespace and returns stdout (throws with stderr). */
  exec(args: string[]): Promise<string>;
  /** ovs-vsctl against this DPU's switch. */
  vsctl(...args: string[]): Promise<string>;
  /** Stops the agent (its journal stays in <dir>/agent), OVS, and removes the namespace. */
  stop(): Promise<void>;
  /** Stops only the agent process (the data plane stays), e.g. to test a restart. */
  stopAgent(): Promise<void>;
  /** Starts the agent again on the same state (after stopAgent); returns its new URL. */
  restartAgent(): Promise<string>;
}

const REPO = resolve(import.meta.dirname, "..", "..");
const SBIN = "/usr/sbin:/sbin:/usr/bin:/bin";

function sh(args: string[], env?: Record<string, string>): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      args[0]!,
      args.slice(1),
      { env: { ...process.env, ...env, PATH: `${process.env.PATH ?? ""}:${SBIN}` }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) {
          const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
          rej(
            new Error(
              missing
                ? `${args[0]} is not installed (apt-get install -y openvswitch-switch iproute2 util-linux)`
                : `${args.join(" ")} failed: ${(stderr || err.message).trim().slice(0, 500)}`,
            ),
          );
        } else res(stdout);
      },
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
async function killPid(pid: number, graceMs = 5_000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let t = 0; t < graceMs && alive(pid); t += 50) await sleep(50);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Creates a network namespace bound to `file` with lo up. */
export async function createNetns(file: string): Promise<void> {
  if (!existsSync(file)) await sh(["touch", file]);
  await sh(["unshare", `--net=${file}`, "true"]);
  await sh(["nsenter", `--net=${file}`, "ip", "link", "set", "lo", "up"]);
}

/** Unmounts and removes a namespace file; fine when it is not there. */
export async function removeNetns(file: string): Promise<void> {
  if (!existsSync(file)) return;
  await sh(["umount", file]).catch(() => undefined);
  rmSync(file, { force: true });
}

const ovsEnvOf = (ovs: string) => ({ OVS_RUNDIR: ovs, OVS_DBDIR: ovs, OVS_LOGDIR: ovs, OVS_SYSCONFDIR: ovs });

/** ovs-vsctl against the switch whose files are under `ovs`. */
export const vsctlOf =
  (ovs: string) =>
  (...args: string[]): Promise<string> =>
    sh(["ovs-vsctl", `--db=unix:${join(ovs, "db.sock")}`, "--timeout=20", ...args], ovsEnvOf(ovs));

/** Starts a userspace Open vSwitch (ovsdb-server + ovs-vswitchd, no kernel module) inside `netns`, its files under `ovs`. */
export async function startOvs(netns: string, ovs: string): Promise<void> {
  const ovsEnv = ovsEnvOf(ovs);
  const inNs = (args: string[]) => sh(["nsenter", `--net=${netns}`, ...args], ovsEnv);
  mkdirSync(ovs, { recursive: true });
  await sh(["ovsdb-tool", "create", join(ovs, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"], ovsEnv).catch(async (err: Error) => {
    if (!/exists/i.test(err.message)) throw err;
  });
  await inNs([
    "ovsdb-server",
    join(ovs, "conf.db"),
    `--remote=punix:${join(ovs, "db.sock")}`,
    `--pidfile=${join(ovs, "ovsdb-server.pid")}`,
    `--unixctl=${join(ovs, "ovsdb-server.ctl")}`,
    `--log-file=${join(ovs, "ovsdb-server.log")}`,
    "--detach",
  ]);
  await vsctlOf(ovs)("--no-wait", "init");
  await inNs([
    "ovs-vswitchd",
    `unix:${join(ovs, "db.sock")}`,
    `--pidfile=${join(ovs, "ovs-vswitchd.pid")}`,
    `--unixctl=${join(ovs, "ovs-vswitchd.ctl")}`,
    `--log-file=${join(ovs, "ovs-vswitchd.log")}`,
    "--detach",
  ]);
}

/** Stops the switch startOvs started under `ovs` (politely, then by pid); fine when it is not running. */
export async function stopOvs(ovs: string): Promise<void> {
  const ovsEnv = ovsEnvOf(ovs);
  for (const [ctl, args] of [
    ["ovs-vswitchd.ctl", ["exit", "--cleanup"]],
    ["ovsdb-server.ctl", ["exit"]],
  ] as const) {
    if (existsSync(join(ovs, ctl))) await sh(["ovs-appctl", "-t", join(ovs, ctl), ...args], ovsEnv).catch(() => undefined);
  }
  for (const name of ["ovs-vswitchd", "ovsdb-server"]) {
    const pidFile = join(ovs, `${name}.pid`);
    if (existsSync(pidFile)) await killPid(Number(readFileSync(pidFile, "utf8").trim()));
  }
}

export async function startDpu(opts: StartDpuOptions): Promise<EmulatedDpu> {
  const dir = resolve(opts.dir);
  const netns = join(dir, "netns");
  const ovs = join(dir, "ovs");
  const stateDir = join(dir, "agent");
  const ovsEnv = ovsEnvOf(ovs);
  const inNs = (args: string[]) => sh(["nsenter", `--net=${netns}`, ...args], ovsEnv);
  const vsctl = vsctlOf(ovs);
  let agent: ChildProcess | undefined;
  let url = "";

  const stopAgent = async () => {
    const pid = agent?.pid;
    agent = undefined;
    if (pid) await killPid(pid);
  };
  const stop = async () => {
    await stopAgent();
    await stopOvs(ovs);
    // The uplink's veth pair goes now: a namespace's devices are destroyed by the kernel some time after its last
    // reference is gone, and until then the provider would still show (and flood to) the far end.
    if (opts.uplink && existsSync(netns)) await sh(["nsenter", `--net=${netns}`, "ip", "link", "del", "uplink"]).catch(() => undefined);
    await removeNetns(netns);
  };

  const startAgent = async (): Promise<string> => {
    const args = [
      "--import",
      "tsx",
      join(REPO, "agent", "main.ts"),
      "--backend",
      "linux",
      "--emulation",
      "qemu",
      "--port",
      String(opts.port ?? 0),
      "--host",
      "127.0.0.1",
      "--state-dir",
      stateDir,
      "--ovs-rundir",
      ovs,
      "--qmp-socket",
      opts.qmpSocket,
      "--dpu-netns",
      netns,
      "--root-ports",
      opts.rootPorts.join(","),
      ...(opts.qemuNetns ? ["--qemu-netns", opts.qemuNetns] : []),
      ...(opts.underlayAddress ? ["--vxlan-local-ip", opts.underlayAddress.split("/")[0]!] : []),
      ...(opts.idPrefix ? ["--id-prefix", opts.idPrefix] : []),
      ...(opts.cephConf ? ["--ceph-conf", opts.cephConf] : []),
      ...(opts.uplink ? ["--uplink", "uplink"] : []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, ...ovsEnv, PATH: `${process.env.PATH ?? ""}:${SBIN}`, ANVIL_AGENT_TOKEN: opts.token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    agent = child;
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout! });
    const got = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`the DPU agent did not start within 60 s: ${stderr.trim()}`)), 60_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        rej(new Error(`the DPU agent exited (${code}) before listening: ${stderr.trim()}`));
      });
      lines.once("line", (line) => {
        clearTimeout(timer);
        try {
          res((JSON.parse(line) as { url: string }).url);
        } catch {
          rej(new Error(`the DPU agent printed ${line.slice(0, 200)} instead of {"url"}`));
        }
      });
    });
    lines.close();
    child.stdout?.resume();
    return got;
  };

  try {
    if (existsSync(netns) || existsSync(join(ovs, "ovs-vswitchd.pid"))) await stop();
    mkdirSync(dir, { recursive: true });
    await createNetns(netns);
    await startOvs(netns, ovs);
    for (const br of ["br-int", "br-phy"]) await vsctl("--may-exist", "add-br", br, "--", "set", "Bridge", br, "datapath_type=netdev");
    if (opts.underlayPort) {
      await inNs(["ip", "link", "set", "dev", opts.underlayPort, "up"]);
      await vsctl("--may-exist", "add-port", "br-phy", opts.underlayPort);
    }
    if (opts.uplink) await joinProvider(netns, opts.uplink, vsctl);
    if (opts.underlayAddress) {
      await inNs(["ip", "addr", "replace", opts.underlayAddress, "dev", "br-phy"]);
      await inNs(["ip", "link", "set", "dev", "br-phy", "up"]);
    }
    url = await startAgent();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    dir,
    netns,
    ovsRunDir: ovs,
    get url() {
      return url;
    },
    get agentPid() {
      return agent?.pid ?? 0;
    },
    exec: inNs,
    vsctl,
    stop,
    stopAgent,
    async restartAgent() {
      await stopAgent();
      url = await startAgent();
      return url;
    },
  };
}

/**
 * The DPU's uplink to a provider network. On br-int it is a trunk of the provider VLAN only: NORMAL never floods the
 * local VLANs of the DPU's networks out to the provider segment (where the other DPUs' uplinks would take them back
 * in, around the VXLAN tunnels).
 */
export async function joinProvider(netns: string, up: NonNullable<StartDpuOptions["uplink"]>, vsctl: (...args: string[]) => Promise<string>): Promise<void> {
  await sh(["nsenter", `--net=${netns}`, "ip", "link", "add", "uplink", "type", "veth", "peer", "name", up.peer, "netns", up.netns]);
  await up.attach(up.peer);
  await sh(["nsenter", `--net=${netns}`, "ip", "link", "set", "uplink", "up"]);
  await vsctl("--may-exist", "add-port", "br-int", "uplink", "--", "set", "Port", "uplink", `trunks=${up.vlanId}`);
}

/** Joins two DPUs' underlays with a veth pair (MTU 9000), one end on each br-phy. Names are at most 15 characters. */
export async function linkDpus(a: EmulatedDpu, b: EmulatedDpu, names: [string, string]): Promise<void> {
  await sh([
    "nsenter",
    `--net=${a.netns}`,
    "ip",
    "link",
    "add",
    names[0],
    "mtu",
    "9000",
    "type",
    "veth",
    "peer",
    "name",
    names[1],
    "mtu",
    "9000",
    "netns",
    b.netns,
  ]);
  for (const [dpu, name] of [
    [a, names[0]],
    [b, names[1]],
  ] as const) {
    await dpu.exec(["ip", "link", "set", "dev", name, "up"]);
    await dpu.vsctl("--may-exist", "add-port", "br-phy", name);
  }
}
