// Test helper: a private userspace Open vSwitch (ovsdb-server + ovs-vswitchd --enable-dummy, netdev datapath, bridge
// br-int with a dummy "uplink" port) in a fresh temporary folder, the DPU agent's linux backend serving on it, and
// ofproto/trace read as the datapath ports a packet reaches. Shared by the agent's backend test and the rule
// compiler's data-plane test. A missing tool fails with the Debian package to install.
// With `guests`, NIC ports are real Linux interfaces instead of dummies: ovs-vswitchd runs in a network namespace of
// its own (so the ports' names never meet the host's or another lab's), and attachGuest makes a "guest" — a network
// namespace with a real IP stack — whose eth0 is the peer of a veth end of that name there (the userspace datapath
// reads and writes it with a packet socket, as OVS's own system-userspace tests do). With `underlay` too, the VXLAN
// tunnels are real: cableUnderlay wires two labs' br-phy bridges, whose own ports hold the VTEP addresses.
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import { createLinuxBackend } from "../agent/backends/linux";
import { type AgentServer, createAgentServer } from "../agent/server";

/** The Open vSwitch tools the lab runs, with their package. */
export const OVS_TOOLS: [tool: string, pkg: string][] = ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"].map((t) => [
  t,
  "openvswitch-switch",
]);

/** Throws, naming the packages to install, when any of the tools is not on PATH (or in /usr/sbin, /sbin). */
export function requireTools(tools: [tool: string, pkg: string][]): void {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"];
  const missing = tools.filter(
    ([tool]) =>
      !dirs.some((d) => {
        try {
          accessSync(join(d, tool), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(" ");
    throw new Error(`missing tools ${missing.map(([t]) => t).join(", ")}: install them with apt-get install -y ${pkgs}`);
  }
}

/** The tools a lab with guests needs besides OVS_TOOLS, with their package. */
export const GUEST_TOOLS: [tool: string, pkg: string][] = [
  ["ip", "iproute2"],
  ["ping", "iputils-ping"],
];

/** A guest of the lab: a network namespace whose eth0 is cabled to a NIC port of the switch. */
export interface Guest {
  ns: string;
  /** Runs a command inside the guest's namespace; never throws for a non-zero exit. */
  run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface OvsLab {
  /** The switch's network namespace (labs with `guests`). */
  netns?: string;
  /** The lab's folder: OVS's run, database and log files, the agent's state (agent/) and SPDK socket (spdk.sock). */
  dir: string;
  agent: AgentServer;
  url: string;
  /** Runs a tool with the lab's OVS environment; never throws for a non-zero exit. */
  sh(cmd: string, args: string[], opts?: { cwd?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs a tool with the lab's OVS environment and returns its output; a non-zero exit throws with its stderr. */
  must(cmd: string, args: string[], opts?: { cwd?: string }): Promise<string>;
  appctl(...args: string[]): Promise<string>;
  /** Datapath port number by port name (dpctl/show). */
  datapathPorts(): Promise<Record<string, number>>;
  /** ofproto/trace of a flow on br-int (one `--ct-next` per entry): the datapath ports of the last recirculation stage. */
  trace(flow: string, ctNext?: string[]): Promise<{ out: number[]; text: string }>;
  /**
   * (Labs with `guests`.) A new guest whose eth0 (MAC `mac`, up, IPv6 DAD on) is cabled to `port`, the name the agent
   * will give a NIC port (pf<pf>vf<vf>); call it before the NIC's PUT, so the switch finds the interface.
   */
  attachGuest(port: string, mac: string): Promise<Guest>;
  /** Stops the agent and starts a new one on the same state folder and switch (an agent restart); `url` changes. */
  restartAgent(): Promise<void>;
  close(): Promise<void>;
}

/** The datapath port numbers in the actions of the trace's last recirculation stage. */
function outputs(text: string): number[] {
  const last = text
    .split("\n")
    .filter((l) => l.startsWith("Datapath actions:"))
    .at(-1);
  if (last === undefined) throw new Error(`ofproto/trace printed no datapath actions:\n${text}`);
  const out: number[] = [];
  let depth = 0;
  let token = "";
  for (const ch of `${last.slice("Datapath actions:".length).trim()},`) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      if (/^\d+$/.test(token.trim())) out.push(Number(token.trim()));
      token = "";
    } else token += ch;
  }
  return out;
}

/**
 * Starts the lab in a new folder named after `prefix`, then the agent (bearer `token`) on the linux backend with
 * dummy NIC ports. `beforeAgent` runs once the switch is up, before the backend is made (e.g. a fake SPDK on
 * `<dir>/spdk.sock`).
 */
export async function startOvsLab(opts: {
  prefix: string;
  token: string;
  beforeAgent?: (dir: string) => Promise<void>;
  /** The agent's VTEP address (LinuxBackendOptions.vxlanLocalIp). */
  vxlanLocalIp?: string;
  /** NIC ports are Linux interfaces in the switch's own namespace (see the header and attachGuest). */
  guests?: boolean;
  /**
   * (With `guests` and `vxlanLocalIp`.) A real underlay for the VXLAN tunnels: bridge br-phy whose own port holds
   * vxlanLocalIp/24 in the switch's namespace (OVS's userspace tunneling encapsulates out of it and decapsulates what
   * comes in for it); cableUnderlay connects two such labs.
   */
  underlay?: boolean;
}): Promise<OvsLab> {
  const dir = await mkdtemp(join(tmpdir(), opts.prefix));
  // The switch's namespace and its guests' are named after the folder, which mkdtemp made unique.
  const switchNs = opts.guests ? basename(dir) : undefined;
  const guestNs: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir };
  const sh: OvsLab["sh"] = (cmd, args, o = {}) =>
    new Promise((resolve) => {
      execFile(cmd, args, { env: { ...env, PATH: `${env.PATH}:/usr/sbin:/sbin` }, cwd: o.cwd, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const must: OvsLab["must"] = async (cmd, args, o = {}) => {
    const r = await sh(cmd, args, o);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const appctl = (...args: string[]) => must("ovs-appctl", ["-t", join(dir, "ovs-vswitchd.ctl"), ...args]);
  const inSwitchNs = (cmd: string, args: string[]): [string, string[]] => (switchNs ? ["ip", ["netns", "exec", switchNs, cmd, ...args]] : [cmd, args]);
  let agent: AgentServer | undefined;
  const close = async () => {
    await agent?.close();
    for (const name of ["ovs-vswitchd", "ovsdb-server"]) {
      const pidFile = join(dir, `${name}.pid`);
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        continue;
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 20));
        } catch {
          break;
        }
      }
    }
    // Deleting a namespace deletes its end of each veth, and so the pair.
    for (const ns of [...guestNs, ...(switchNs ? [switchNs] : [])]) await sh("ip", ["netns", "del", ns]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await must("ovsdb-tool", ["create", join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
    await must("ovsdb-server", [
      join(dir, "conf.db"),
      `--remote=punix:${join(dir, "db.sock")}`,
      `--pidfile=${join(dir, "ovsdb-server.pid")}`,
      `--unixctl=${join(dir, "ovsdb-server.ctl")}`,
      `--log-file=${join(dir, "ovsdb-server.log")}`,
      "--detach",
    ]);
    await must("ovs-vsctl", ["--no-wait", "init"]);
    if (switchNs) await must("ip", ["netns", "add", switchNs]);
    await must(
      ...inSwitchNs("ovs-vswitchd", [
        "--enable-dummy",
        "--disable-system",
        `--pidfile=${join(dir, "ovs-vswitchd.pid")}`,
        `--unixctl=${join(dir, "ovs-vswitchd.ctl")}`,
        `--log-file=${join(dir, "ovs-vswitchd.log")}`,
        "--detach",
        `unix:${join(dir, "db.sock")}`,
      ]),
    );
    await must("ovs-vsctl", [
      "add-br",
      "br-int",
      "--",
      "set",
      "Bridge",
      "br-int",
      "datapath_type=netdev",
      "--",
      "add-port",
      "br-int",
      "uplink",
      "--",
      "set",
      "Interface",
      "uplink",
      "type=dummy",
    ]);
    if (opts.underlay) {
      if (!switchNs || !opts.vxlanLocalIp) throw new Error("an underlay needs guests: true and vxlanLocalIp");
      await must("ovs-vsctl", ["add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev"]);
      await must("ip", ["-n", switchNs, "addr", "add", `${opts.vxlanLocalIp}/24`, "dev", "br-phy"]);
      await must("ip", ["-n", switchNs, "link", "set", "br-phy", "up"]);
    }
    await opts.beforeAgent?.(dir);
    const startAgent = async () => {
      const backend = await createLinuxBackend({
        stateDir: join(dir, "agent"),
        spdkSocket: join(dir, "spdk.sock"),
        ovsRunDir: dir,
        uplinkPort: "uplink",
        ...(opts.guests ? {} : { nicPortType: "dummy" }),
        vxlanLocalIp: opts.vxlanLocalIp,
      });
      const a = createAgentServer({ token: opts.token, backend });
      agent = a;
      return { agent: a, url: (await a.listen(0)).url };
    };
    const first = await startAgent();
    const lab: OvsLab = {
      ...(switchNs ? { netns: switchNs } : {}),
      dir,
      agent: first.agent,
      url: first.url,
      async restartAgent() {
        await agent?.close();
        agent = undefined;
        const next = await startAgent();
        lab.agent = next.agent;
        lab.url = next.url;
      },
      sh,
      must,
      appctl,
      async attachGuest(port, mac) {
        if (!switchNs) throw new Error("attachGuest needs a lab started with guests: true");
        const ns = `${switchNs}-${port}`;
        await must("ip", ["netns", "add", ns]);
        guestNs.push(ns);
        await must("ip", ["link", "add", port, "netns", switchNs, "type", "veth", "peer", "name", "eth0", "netns", ns]);
        await must("ip", ["-n", switchNs, "link", "set", port, "up"]);
        await must("ip", ["-n", ns, "link", "set", "eth0", "address", mac]);
        await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
        await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
        return { ns, run: (cmd, args) => sh("ip", ["netns", "exec", ns, cmd, ...args]) };
      },
      async datapathPorts() {
        const show = await appctl("dpctl/show");
        return Object.fromEntries([...show.matchAll(/port (\d+): (\S+)/g)].map((m) => [m[2]!, Number(m[1])]));
      },
      async trace(flow, ctNext = []) {
        const text = await appctl("ofproto/trace", "br-int", flow, ...ctNext.flatMap((c) => ["--ct-next", c]));
        return { out: outputs(text), text };
      },
      close,
    };
    return lab;
  } catch (e) {
    await close();
    throw e;
  }
}

/** Cables the underlays (br-phy) of two labs started with `underlay` with a veth pair, as a wire between two DPUs. */
export async function cableUnderlay(a: OvsLab, b: OvsLab): Promise<void> {
  if (!a.netns || !b.netns) throw new Error("cableUnderlay needs two labs started with guests and underlay");
  await a.must("ip", ["link", "add", "wire", "netns", a.netns, "type", "veth", "peer", "name", "wire", "netns", b.netns]);
  for (const lab of [a, b]) {
    await lab.must("ip", ["-n", lab.netns!, "link", "set", "wire", "up"]);
    await lab.must("ovs-vsctl", ["add-port", "br-phy", "wire"]);
  }
}
