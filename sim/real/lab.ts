// The whole real lab from one call: the cached Debian guest image, a single-node Ceph (its own netns), and per host
// a QEMU q35 machine (in Ceph's netns, so librbd reaches the monitor on 127.0.0.1 there) beside an emulated DPU
// (own netns, own userspace OVS, the agent with `--emulation qemu` hot-plugging virtio devices into that QEMU over
// the host's second QMP socket), all behind ONE Redfish BMC simulator whose host BMCs drive the QEMU machines and
// whose DPU BMCs point (Oem.Anvil.AgentUrl) at the real agents. It hands back the enrollment rows Anvil takes (the
// same LabHostRow as the sim lab) and the ANVIL_STORAGE=ceph environment for Anvil's Ceph StorageClient.
//
// IPMI hosts (`ipmiHosts`, after the Redfish ones): the same QEMU machine and DPU, but the host's BMC is OpenIPMI's
// ipmi_sim (ipmi-host.ts: IPMI over LAN on 127.0.0.1, power over QMP, SOL on ttyS0) and its row says driver "ipmi"
// with the "127.0.0.1:<udp port>" address Anvil's IPMI enrollment takes. Their DPU BMCs stay in the Redfish simulator
// as DPU-only entries (RedfishSimOptions.dpuOnly: no host BMC there, dedicated power — the simulator cannot see the
// IPMI host's power, and the emulated DPU and its agent run whatever that is), so the rows say dedicated_power true.
//
// Underlay: DPU i carries 10.98.0.<i+1>/24 on its br-phy. Two DPUs are joined by one veth pair (linkDpus); more
// form a chain (DPU i-1 ↔ DPU i): every br-phy is an OVS bridge with the NORMAL action, so the chain is one L2
// segment and any two VTEPs reach each other through the DPUs between them (no extra namespace to clean up).
// Provider network (provider.ts): its own namespace and switch with the provider gateway (203.0.113.1/24 on VLAN
// 300); every DPU joins it with an uplink port (veth), the agent's --uplink, so floating IPs and SNAT work end to end
// and a command run in that namespace is a machine outside the VPCs reaching a floating IP.
// close() stops everything it started, in reverse order and by pid, also after a partial start failure.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createCephStorageClient } from "../../server/drivers/storage/ceph";
import { rowsToCsv, type LabHostRow } from "../lab";
import { type RedfishSim, startRedfishSim } from "../redfish/index";
import { type CephLab, startCeph } from "./ceph";
import { type EmulatedDpu, linkDpus, startDpu } from "./dpu";
import { ensureGuestImage } from "./guest-image";
import { type IpmiHost, startIpmiHost } from "./ipmi-host";
import { type ProviderNetwork, type ProviderNetworkInfo, startProviderNetwork } from "./provider";
import { qemuSystemBackend } from "./qemu-backend";
import { QemuHost } from "./qemu-host";

export interface RealLabOptions {
  /** Folder for everything the lab runs (Ceph, host runtimes, DPUs); created. The guest image is cached elsewhere. */
  dir: string;
  /** Hosts behind the Redfish BMC (each with its DPU); default 2. With ipmiHosts at least 1 host in all, at most 16. */
  hosts?: number;
  /** Hosts behind ipmi_sim (each with its DPU), after the Redfish ones, named real-ipmi-0001…; default 0. */
  ipmiHosts?: number;
  /** Anvil pool name written in the IPMI hosts' rows; default "gpu". */
  ipmiHostPool?: string;
  /** The IPMI password of an IPMI host (by host id; 1-20 printable characters); default a random one each. */
  ipmiPassword?: (hostId: string) => string;
  /** Guest memory per host; default 1024 MiB. */
  memoryMiB?: number;
  /** The Ceph logical pool (RBD pool) created for Anvil; default "anvil". */
  pool?: string;
  /** Anvil pool name written in the enrollment rows; default "general". */
  hostPool?: string;
  /** No progress lines on stderr. */
  quiet?: boolean;
  /**
   * Host and DPU BMCs take consecutive ports from here, the agents the ports 100 above and the IPMI hosts the UDP
   * ports 200 above, so a restarted lab comes back at the addresses Anvil enrolled (default: any free ports).
   */
  portBase?: number;
  /** The agent token of a DPU (by its BMC id); default a random 32-byte hex token each. */
  agentToken?: (dpuId: string) => string;
}

export interface RealLabManifest {
  redfishAdminUrl: string;
  storageEnv: Record<string, string>;
  guestImage: { path: string; sizeBytes: number; format: "raw" };
  ceph: { monAddr: string; netns: string; conf: string };
  /** The provider network every DPU's uplink joins (for Anvil's provider network and for commands run "outside"). */
  provider: ProviderNetworkInfo;
  hosts: LabHostRow[];
}

export interface RealLab {
  dir: string;
  hosts: LabHostRow[];
  /** ANVIL_STORAGE=ceph and the ANVIL_CEPH_* variables (incl. the netns) for Anvil's Ceph StorageClient. */
  storageEnv: Record<string, string>;
  guestImage: { path: string; sizeBytes: number; format: "raw" };
  redfish: RedfishSim;
  ceph: CephLab;
  provider: ProviderNetwork;
  dpus: EmulatedDpu[];
  /** The Redfish hosts' machines (hosts[0..]). */
  qemuHosts: QemuHost[];
  /** The IPMI hosts (the rows after the Redfish ones). */
  ipmiHosts: IpmiHost[];
  /** The Ceph logical pool id for Anvil's volumes and images. */
  poolId: string;
  csv(): string;
  manifest(): RealLabManifest;
  close(): Promise<void>;
}

const MAX_HOSTS = 16;

function checkOptions(o: RealLabOptions): void {
  const bad = (m: string): never => {
    throw new Error(`startRealLab: ${m}`);
  };
  if (typeof o.dir !== "string" || !o.dir) bad("dir is required");
  const n = o.hosts ?? 2;
  const m = o.ipmiHosts ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > MAX_HOSTS) bad(`hosts must be an integer 0..${MAX_HOSTS}, got ${o.hosts}`);
  if (!Number.isInteger(m) || m < 0 || m > MAX_HOSTS) bad(`ipmiHosts must be an integer 0..${MAX_HOSTS}, got ${o.ipmiHosts}`);
  if (n + m < 1 || n + m > MAX_HOSTS) bad(`hosts + ipmiHosts must be 1..${MAX_HOSTS}, got ${n} + ${m}`);
  if (o.memoryMiB !== undefined && (!Number.isInteger(o.memoryMiB) || o.memoryMiB < 256 || o.memoryMiB > 16384))
    bad(`memoryMiB must be an integer 256..16384, got ${o.memoryMiB}`);
  if (o.pool !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(o.pool)) bad(`pool '${o.pool}' must be 1-63 letters, digits, . _ -`);
}

function need(tool: string, pkg: string): void {
  const dirs = `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`.split(":");
  if (!dirs.some((d) => d && fs.existsSync(path.join(d, tool))))
    throw new Error(`startRealLab: ${tool} is missing: apt-get install -y ${pkg} (scripts/system-deps.sh installs everything the real lab needs)`);
}

/** The Debian tools the real lab runs (ipmi_sim and ipmitool for IPMI hosts); throws naming the package of the first one missing. */
export function checkRealLabTools(opts: { ipmi?: boolean } = {}): void {
  for (const [tool, pkg] of [
    ["qemu-system-x86_64", "qemu-system-x86"],
    ["qemu-img", "qemu-utils"],
    ["ceph-mon", "ceph-mon"],
    ["ceph-mgr", "ceph-mgr"],
    ["ceph-osd", "ceph-osd"],
    ["rbd", "ceph-common"],
    ["ovs-vswitchd", "openvswitch-switch"],
    ["genisoimage", "genisoimage"],
    ["mmdebstrap", "mmdebstrap"],
    ["sfdisk", "fdisk"],
    ["nsenter", "util-linux"],
    ...(opts.ipmi
      ? [
          ["ipmi_sim", "openipmi"],
          ["ipmitool", "ipmitool"],
        ]
      : []),
  ])
    need(tool, pkg);
  if (!fs.existsSync("/usr/lib/x86_64-linux-gnu/qemu/block-rbd.so"))
    throw new Error("startRealLab: QEMU's rbd block driver is missing: apt-get install -y qemu-block-extra");
}

export async function startRealLab(opts: RealLabOptions): Promise<RealLab> {
  checkOptions(opts);
  checkRealLabTools({ ipmi: (opts.ipmiHosts ?? 0) > 0 });
  const n = opts.hosts ?? 2;
  const m = opts.ipmiHosts ?? 0;
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const t0 = performance.now();
  const progress = (m: string) => {
    if (!opts.quiet) process.stderr.write(`real lab: ${m} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  };

  const started: { ceph?: CephLab; provider?: ProviderNetwork; hosts: QemuHost[]; ipmi: IpmiHost[]; dpus: EmulatedDpu[]; redfish?: RedfishSim } = {
    hosts: [],
    ipmi: [],
    dpus: [],
  };
  const closeAll = async () => {
    const errors: unknown[] = [];
    const attempt = async (p: Promise<unknown> | undefined) => {
      try {
        await p;
      } catch (e) {
        errors.push(e);
      }
    };
    await attempt(started.redfish?.close());
    started.redfish = undefined;
    // DPUs first (the agent's taps live in their namespaces; their uplinks go with them), then the provider network,
    // then QEMU (it holds Ceph's netns), then Ceph.
    await Promise.all(started.dpus.splice(0).map((d) => attempt(d.stop())));
    await attempt(started.provider?.stop());
    started.provider = undefined;
    await Promise.all([...started.hosts.splice(0), ...started.ipmi.splice(0)].map((h) => attempt(h?.stop())));
    await attempt(started.ceph?.stop());
    started.ceph = undefined;
    if (errors.length > 0) throw new Error(`real lab: stopping failed: ${errors.map((e) => (e as Error).message).join("; ")}`);
  };

  try {
    // The image build (cold: minutes) and Ceph (~15 s) are independent.
    const [image, ceph] = await Promise.all([
      ensureGuestImage({ log: (l) => progress(l) }).then((img) => {
        progress(`guest image ${img.cached ? "cached" : "built"}: ${img.path}`);
        return img;
      }),
      startCeph({ dir: path.join(dir, "ceph") }).then((c) => {
        started.ceph = c;
        progress(`ceph HEALTH_OK, mon ${c.monAddr} in netns ${c.netns}`);
        return c;
      }),
    ]);
    const pool = opts.pool ?? "anvil";
    const storage = createCephStorageClient({ mon: ceph.monAddr, user: "admin", keyring: ceph.adminKeyring, netns: ceph.netns });
    const diskPoolId = (await storage.listDiskPools()).items[0]?.id;
    if (!diskPoolId) throw new Error("startRealLab: Ceph shows no disk pool (CRUSH root)");
    const poolId = (await storage.createLogicalPool({ name: pool, diskPoolId, redundancy: { type: "replica", copies: 1 } })).id;
    await storage.close();
    progress(`RBD pool ${poolId}`);

    // Hosts: QEMU paused (= powered off) in Ceph's netns; the IPMI hosts' ipmi_sim on 127.0.0.1 here.
    const redfishIds = Array.from({ length: n }, (_, i) => `real-${String(i + 1).padStart(4, "0")}`);
    const ipmiIds = Array.from({ length: m }, (_, j) => `real-ipmi-${String(j + 1).padStart(4, "0")}`);
    const ids = [...redfishIds, ...ipmiIds];
    await Promise.all([
      ...redfishIds.map(async (id, i) => {
        const h = await QemuHost.start({ name: id, dir: path.join(dir, `host-${i + 1}`), netns: ceph.netns, memoryMiB: opts.memoryMiB });
        started.hosts[i] = h;
      }),
      ...ipmiIds.map(async (id, j) => {
        const h = await startIpmiHost({
          name: id,
          dir: path.join(dir, `ipmi-host-${j + 1}`),
          netns: ceph.netns,
          memoryMiB: opts.memoryMiB,
          ...(opts.ipmiPassword ? { password: opts.ipmiPassword(id) } : {}),
          ...(opts.portBase ? { port: opts.portBase + 200 + j } : {}),
          // beside Ceph, the other hosts and the DPUs all starting at once, ipmi_sim can take a while to answer
          startTimeoutMs: 60_000,
        });
        started.ipmi[j] = h;
      }),
    ]);
    const machines: { dpuQmpSocket: string; rootPorts: string[] }[] = [...started.hosts, ...started.ipmi];
    progress(`${n} QEMU host(s) behind Redfish, ${m} behind ipmi_sim up, powered off (${started.hosts[0]?.accel ?? started.ipmi[0]?.accel})`);

    const provider = await startProviderNetwork({ dir: path.join(dir, "provider") });
    started.provider = provider;
    // DPUs, one per host, each with its own netns + OVS + agent on 127.0.0.1, each with an uplink to the provider.
    const tokens = ids.map((id) => opts.agentToken?.(`${id}-dpu`) ?? randomBytes(32).toString("hex"));
    await Promise.all(
      ids.map(async (_id, i) => {
        const h = machines[i]!;
        const d = await startDpu({
          dir: path.join(dir, `dpu-${i + 1}`),
          qmpSocket: h.dpuQmpSocket,
          rootPorts: h.rootPorts,
          qemuNetns: ceph.netns,
          token: tokens[i]!,
          underlayAddress: `10.98.0.${i + 1}/24`,
          uplink: { netns: provider.netns, peer: `pu${i + 1}`, vlanId: provider.vlanId, attach: provider.attach },
          ...(opts.portBase ? { port: opts.portBase + 100 + i } : {}),
        });
        started.dpus[i] = d;
      }),
    );
    for (let i = 1; i < ids.length; i++) await linkDpus(started.dpus[i - 1]!, started.dpus[i]!, [`ul${i}a`, `ul${i}b`]);
    progress(
      `${ids.length} DPU(s) up (agents ${started.dpus.map((d) => d.url).join(", ")}), underlay 10.98.0.0/24${ids.length > 2 ? " (chain)" : ""}, provider ${provider.cidr} VLAN ${provider.vlanId}`,
    );

    const hosts = started.hosts;
    const redfish = await startRedfishSim({
      hosts: n,
      dpuEvery: 1,
      idPrefix: "real",
      dpuOnly: ipmiIds,
      systemBackend: (i) => qemuSystemBackend(hosts[i]!),
      ...(opts.portBase ? { portBase: opts.portBase } : {}),
    });
    started.redfish = redfish;
    const rows: LabHostRow[] = ids.map((id, i) => {
      const ipmi = i >= n ? started.ipmi[i - n] : undefined;
      const bmc = ipmi ? { url: ipmi.address, username: ipmi.username, password: ipmi.password } : redfish.byId(id);
      const dpuBmc = redfish.byId(`${id}-dpu`);
      if (!bmc || dpuBmc?.kind !== "dpu") throw new Error(`startRealLab: the simulator has no ${ipmi ? "DPU BMC" : "BMC pair"} for ${id}`);
      redfish.setAgentUrl(dpuBmc.id, started.dpus[i]!.url);
      return {
        name: id,
        pool: ipmi ? (opts.ipmiHostPool ?? "gpu") : (opts.hostPool ?? "general"),
        driver: ipmi ? "ipmi" : "redfish",
        bmc_address: bmc.url,
        bmc_username: bmc.username,
        bmc_password: bmc.password,
        verify_tls: false,
        dpu_bmc_address: dpuBmc.url,
        dpu_bmc_username: dpuBmc.username,
        dpu_bmc_password: dpuBmc.password,
        agent_url: started.dpus[i]!.url,
        agent_token: tokens[i]!,
        dedicated_power: Boolean(ipmi),
      };
    });
    progress(`Redfish BMCs up (${redfish.bmcs.length}), admin ${redfish.adminUrl}`);

    const storageEnv = {
      ANVIL_STORAGE: "ceph",
      ANVIL_CEPH_MON: ceph.monAddr,
      ANVIL_CEPH_USER: "admin",
      ANVIL_CEPH_KEYRING: ceph.adminKeyring,
      ANVIL_CEPH_NETNS: ceph.netns,
      ANVIL_CEPH_POOL: poolId,
    };
    const guestImage = { path: image.path, sizeBytes: image.sizeBytes, format: "raw" as const };
    let closing: Promise<void> | undefined;
    return {
      dir,
      hosts: rows,
      storageEnv,
      guestImage,
      redfish,
      ceph,
      provider,
      dpus: [...started.dpus],
      qemuHosts: [...started.hosts],
      ipmiHosts: [...started.ipmi],
      poolId,
      csv: () => rowsToCsv(rows),
      manifest: () => ({
        redfishAdminUrl: redfish.adminUrl,
        storageEnv,
        guestImage,
        ceph: { monAddr: ceph.monAddr, netns: ceph.netns, conf: ceph.conf },
        provider: { netns: provider.netns, cidr: provider.cidr, gateway: provider.gateway, gatewayMac: provider.gatewayMac, vlanId: provider.vlanId },
        hosts: rows,
      }),
      close: () => {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll().catch((e: Error) => process.stderr.write(`real lab: ${e.message}\n`));
    throw err;
  }
}

/** Resident memory (bytes) of a process and its children, from /proc; 0 when it is gone. */
export function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return Number(kb ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** The pids of processes whose command line mentions `needle` (e.g. the lab's folder), to check nothing is left. */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, "utf8");
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Mount points under `dir` (namespace files stay mounted until unmounted). */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => Boolean(m) && (m === dir || m.startsWith(`${dir}/`)));
}
