// The lab launcher: starts a whole simulated fleet in ONE process — the Redfish BMC simulator (host + DPU BMCs),
// the storage service, and one DPU agent (sim backend) per DPU — and wires them so they behave like one machine
// room: each DPU's Redfish Oem.Anvil.AgentUrl points at its agent, each agent attaches disks through the storage
// service's connect endpoint (refused unless the target is exported to the initiator it presents), and attaching
// a bootable disk through a DPU makes its host boot an OS. It hands back the enrollment rows (CSV / JSON manifest)
// Anvil needs to manage the fleet. Anvil's dev command, the tests and the benchmarks call startLab(); run as a
// script (`npm run lab -- --hosts 16`) it is the CLI and stays up until Ctrl-C.

import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createSimBackend } from "../agent/backends/sim";
import { type AgentLogger, type AgentServer, createAgentServer } from "../agent/server";
import { CSV_COLUMNS } from "../domain/enroll-csv";
import { isEntryScript } from "./entry";
import { fleetHost } from "./fleet";
import { ephemeralLow, softFileLimit } from "./os-limits";
import { type DialectName, EPHEMERAL_MAX, type RedfishSim, type RedfishSimOptions, startRedfishSim } from "./redfish/index";
import { type StorageService, startStorageService } from "./storage/index";

export type { RedfishSim } from "./redfish/index";

export interface LabOptions {
  /** number of hosts (default 16) */
  hosts: number;
  /** pool names the hosts are split over evenly, round-robin by index (default ["general", "gpu"]) */
  pools?: string[];
  /**
   * passes through to the simulator, storage and agents. "realistic": clone 1 s, attach 0.5 s, power-on 2 s,
   * boot 20 s (plus 20-80 ms per Redfish request) — the figures Anvil's provisioning benchmark uses.
   */
  latency?: "zero" | "realistic";
  /** 1 = every host has a DPU (default), n = every n-th host, 0 = none */
  dpuEvery?: number;
  /** token of each agent; default: a random 32-byte hex token per agent */
  agentToken?: (dpuId: string) => string;
  /**
   * "ports" (default): every BMC and agent its own port on 127.0.0.1.
   * "loopback": every BMC its own 127.10.y.z and every agent its own 127.20.y.z, each group on one shared port.
   * "netns": like loopback, but the BMCs share ONE wildcard listener (one file descriptor for all of them); only
   * allowed inside a private network namespace (`unshare -n`), for fleets beyond the open-file limit.
   */
  address?: "ports" | "loopback" | "netns";
  /**
   * "ports" mode: BMCs take consecutive ports from here, agents the ports right after the last BMC (ports in use are
   * skipped), so a restarted lab comes back at the same addresses. "loopback"/"netns": the agents' shared port.
   */
  portBase?: number;
  /** DPU cards with their own power supply (host power-off does not take them down); default false */
  dedicatedDpuPower?: boolean | ((hostIndex: number) => boolean);
  /** no progress lines on stderr (internal errors of the services are still reported) */
  quiet?: boolean;
  /**
   * Redfish dialect of the hosts' BMCs (sim/redfish/dialect.ts): a preset name ("lab" default, "multi-node",
   * "dmtf-smartnic", "sticky-boot", …), preset + overrides, or one per host index. Enrollment rows then carry the
   * address each machine is enrolled by (a system URL where a BMC serves several).
   */
  dialect?: RedfishSimOptions["dialect"];
  /**
   * The last `cascade` hosts carry their DPU's BMC behind their own (a BMC cascade, sim/redfish/cascade.ts): the DPU
   * has no BMC address of its own, so its row has none (dpu_bmc_address empty) but keeps the DPU BMC's own credentials;
   * Anvil finds it through the host's BMC. Default 0: every DPU BMC at its own address.
   */
  cascade?: number;
}

/** One enrollment row per host — exactly the CSV columns, in CSV_HEADER order. */
export interface LabHostRow {
  name: string;
  pool: string;
  driver: "redfish" | "ipmi";
  bmc_address: string;
  bmc_username: string;
  bmc_password: string;
  verify_tls: boolean;
  dpu_bmc_address: string | null;
  dpu_bmc_username: string | null;
  dpu_bmc_password: string | null;
  agent_url: string | null;
  agent_token: string | null;
  dedicated_power: boolean;
  /** The DPU BMC's protocol; absent or null: Redfish (every lab DPU BMC is the Redfish simulator's). */
  dpu_bmc_driver?: "redfish" | "ipmi" | null;
  /** The host's traits, space- or semicolon-separated; absent or null: none (the lab's hosts have none). */
  traits?: string | null;
}

export interface LabAgent {
  url: string;
  token: string;
}

export interface Lab {
  redfish: RedfishSim;
  storage: { url: string; token: string };
  /** by DPU id (node-0001-dpu) */
  agents: Map<string, LabAgent>;
  /** Stops one DPU's agent (as if its process died): its address refuses connections until startAgent. */
  stopAgent(dpuId: string): Promise<void>;
  /** Starts a fresh agent for the DPU at the same address and token, with empty state (an agent restart). */
  startAgent(dpuId: string): Promise<void>;
  hosts: LabHostRow[];
  /** header line + one line per host, RFC 4180 quoting, CRLF line ends */
  csv(): string;
  /** { redfishAdminUrl, storage: { url, token }, hosts: LabHostRow[] } */
  manifest(): LabManifest;
  close(): Promise<void>;
}

export interface LabManifest {
  redfishAdminUrl: string;
  storage: { url: string; token: string };
  hosts: LabHostRow[];
}

/** The enrollment CSV's columns (domain/enroll-csv.ts), which a LabHostRow has exactly. */
export const CSV_HEADER = CSV_COLUMNS satisfies readonly (keyof LabHostRow)[];

/** Agents started at once; bounds the burst of listen() calls and the memory of half-started agents. */
const AGENT_START_CONCURRENCY = 256;
/** Second octet of the agents' loopback addresses in "loopback"/"netns" mode (the BMCs use 127.10.*). */
const AGENT_LOOPBACK_NET = 20;
/** Descriptors beyond the listeners: storage, admin API, stdio, client connections of a small test. */
const FD_HEADROOM = 256;

// ---- CSV --------------------------------------------------------------------------------------------------

/** RFC 4180: quote a field that holds a comma, quote, CR or LF (or edge spaces, which readers may trim); double quotes. */
export function csvField(v: string | boolean | null | undefined): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function rowsToCsv(rows: readonly LabHostRow[]): string {
  const lines = [CSV_HEADER.join(",")];
  for (const r of rows) lines.push(CSV_HEADER.map((c) => csvField(r[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** Points Anvil's storage driver (getStorage() in this process) at a lab storage service. */
export function pointStorageAtLab(storage: { url: string; token: string }): void {
  process.env.ANVIL_STORAGE_URL = storage.url;
  process.env.ANVIL_STORAGE_TOKEN = storage.token;
}

// ---- helpers ----------------------------------------------------------------------------------------------

/** 127.<net>.y.z for agent number i: 254 addresses per /24 (no .0/.255). */
function agentAddress(i: number): string {
  const perB = 254 * 256;
  const b = AGENT_LOOPBACK_NET + Math.floor(i / perB);
  const r = i % perB;
  return `127.${b}.${Math.floor(r / 254)}.${(r % 254) + 1}`;
}

/** Runs fn over items with at most `limit` in flight; stops starting new ones after the first failure. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const bad = results.find((r) => r.status === "rejected");
  if (bad) throw (bad as PromiseRejectedResult).reason;
}

function checkOptions(o: LabOptions): void {
  const bad = (m: string): never => {
    throw new Error(`startLab: ${m}`);
  };
  const hosts = o.hosts ?? 16;
  if (!Number.isInteger(hosts) || hosts < 1) bad(`hosts must be a positive integer, got ${o.hosts}`);
  if (o.pools !== undefined) {
    if (!Array.isArray(o.pools) || o.pools.length === 0) bad("pools must be a non-empty list of names");
    for (const p of o.pools)
      if (typeof p !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(p)) bad(`pool name '${p}' must be 1-63 letters, digits, . _ -`);
    if (new Set(o.pools).size !== o.pools.length) bad(`pool names must be distinct, got ${o.pools.join(",")}`);
  }
  if (o.latency !== undefined && o.latency !== "zero" && o.latency !== "realistic") bad(`latency must be "zero" or "realistic", got ${o.latency}`);
  if (o.dpuEvery !== undefined && (!Number.isInteger(o.dpuEvery) || o.dpuEvery < 0)) bad(`dpuEvery must be a non-negative integer, got ${o.dpuEvery}`);
  if (o.address !== undefined && !["ports", "loopback", "netns"].includes(o.address)) bad(`address must be "ports", "loopback" or "netns", got ${o.address}`);
  if (o.portBase !== undefined && (!Number.isInteger(o.portBase) || o.portBase < 1024 || o.portBase > 65535))
    bad(`portBase must be 1024..65535, got ${o.portBase}`);
  if (o.cascade !== undefined && (!Number.isInteger(o.cascade) || o.cascade < 0 || o.cascade > hosts))
    bad(`cascade must be a number of hosts from 0 to ${hosts}, got ${o.cascade}`);
}

type Listening = { agent: AgentServer; url: string; port: number };

/** Listen a fresh agent on host:port; on EADDRINUSE/EACCES the half-made agent is closed and null returned. */
async function tryListen(make: () => AgentServer, port: number, host: string): Promise<Listening | null> {
  const agent = make();
  try {
    const { url, port: p } = await agent.listen(port, host);
    return { agent, url, port: p };
  } catch (err) {
    await agent.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES") return null;
    throw err;
  }
}

// ---- the lab ----------------------------------------------------------------------------------------------

export async function startLab(opts: LabOptions): Promise<Lab> {
  checkOptions(opts);
  const hosts = opts.hosts ?? 16;
  const pools = opts.pools ?? ["general", "gpu"];
  const latency = opts.latency ?? "zero";
  const dpuEvery = opts.dpuEvery ?? 1;
  const mode = opts.address ?? "ports";
  const tokenOf = opts.agentToken ?? (() => randomBytes(32).toString("hex"));
  const progress = (m: string) => {
    if (!opts.quiet) process.stderr.write(`lab: ${m}\n`);
  };
  const errorLog = (m: string) => process.stderr.write(`lab: ${m}\n`);

  const fleet = Array.from({ length: hosts }, (_, i) => fleetHost(i, { dpuEvery, dedicatedDpuPower: opts.dedicatedDpuPower }));
  const withDpu = fleet.filter((h) => h.dpu);
  const bmcCount = hosts + withDpu.length;

  // Every agent is one listening socket, every BMC one too (except in netns mode): refuse up front with the remedy
  // instead of dying half-way with EMFILE.
  const limit = softFileLimit();
  const needed = (mode === "netns" ? 1 : bmcCount) + withDpu.length + FD_HEADROOM;
  if (limit !== undefined && needed > limit) {
    throw new Error(
      `startLab: ${bmcCount} BMCs + ${withDpu.length} agents need about ${needed} file descriptors but the open-file limit is ${limit}; ` +
        `raise it (ulimit -n ${needed}) or, above the hard limit, run under \`unshare -n\` with address "netns" (BMCs then share one listener)`,
    );
  }

  const started: { storage?: StorageService; redfish?: RedfishSim; agents: AgentServer[] } = { agents: [] };
  const closeAll = async () => {
    const agents = started.agents.splice(0);
    await eachLimited(agents, AGENT_START_CONCURRENCY, (a) => a.close());
    await Promise.all([started.redfish?.close(), started.storage?.close()]);
  };

  try {
    const t0 = performance.now();
    const cascadeFrom = hosts - (opts.cascade ?? 0);
    const simOpts: RedfishSimOptions = {
      hosts,
      dpuEvery,
      latency,
      address: mode,
      dedicatedDpuPower: opts.dedicatedDpuPower,
      dialect: opts.dialect,
      ...(opts.cascade ? { cascade: (i: number) => i >= cascadeFrom } : {}),
    };
    if (mode === "ports" && opts.portBase !== undefined) simOpts.portBase = opts.portBase;
    [started.storage, started.redfish] = await Promise.all([
      startStorageService({ latency, defaultPools: true, spareDisks: 2, log: (m) => errorLog(`storage: ${m}`) }),
      startRedfishSim(simOpts),
    ]);
    const storage = started.storage;
    const redfish = started.redfish;
    progress(`redfish simulator: ${redfish.bmcs.length} BMCs in ${Math.round(performance.now() - t0)} ms; storage at ${storage.url}`);

    // ---- where the agents listen
    let nextPort: { port: number } | undefined; // "ports" mode with a range
    let sharedPort = 0; // "loopback"/"netns": 0 until the first agent picked one
    if (mode === "ports") {
      const bmcPorts = redfish.bmcs.map((b) => Number(new URL(b.baseUrl).port));
      const usedRange = opts.portBase !== undefined || redfish.bmcs.length > EPHEMERAL_MAX;
      if (opts.portBase !== undefined) nextPort = { port: Math.max(...bmcPorts) + 1 };
      else if (usedRange) {
        // Below the simulator's run of ports, which itself sits just below the kernel's ephemeral range: binding
        // thousands of port-0 sockets is slow and would starve outgoing connections of source ports.
        const low = Math.min(...bmcPorts, ephemeralLow()) - Math.ceil(withDpu.length * 1.05) - 64;
        if (low < 1024)
          throw new Error(
            `startLab: no room below port ${Math.min(...bmcPorts)} for ${withDpu.length} agent ports; use address "loopback" (own 127.20.y.z per agent) or "netns"`,
          );
        nextPort = { port: low };
      }
    } else if (opts.portBase !== undefined) sharedPort = opts.portBase;

    const byIndex: (LabAgent & { dpuId: string })[] = [];
    const agentLog = (dpuId: string): AgentLogger => ({
      info() {},
      warn: (o, m) => errorLog(`agent ${dpuId}: ${m ?? ""} ${JSON.stringify(o)}`),
      error: (o, m) => errorLog(`agent ${dpuId}: ${m ?? ""} ${JSON.stringify(o, (_k, v) => (v instanceof Error ? v.stack : v))}`),
    });

    // Each simulated DPU's VTEP: one address per DPU in 100.64.0.0/10 (the underlay of a lab), from its index.
    const dpuIndex = new Map(withDpu.map((h, i) => [h.dpu?.id as string, i]));
    const underlayOf = (dpuId: string) => {
      const n = (dpuIndex.get(dpuId) ?? 0) + 1;
      return `100.${64 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
    };
    const makeAgent = (hostId: string, dpuId: string, token: string) => () =>
      createAgentServer({
        token,
        admin: true,
        log: agentLog(dpuId),
        backend: createSimBackend({
          latency,
          underlayIp: underlayOf(dpuId),
          storageUrl: storage.url,
          storageToken: storage.token,
          // The host sees its DPU's virtio-blk functions as disks; with a bootable one attached it finds an OS.
          onHostDevicesChanged: (devices) =>
            redfish.setBootable(
              hostId,
              devices.some((d) => d.bootable),
            ),
        }),
      });
    const listening = new Map<string, { agent: AgentServer | null; make: () => AgentServer; host: string; port: number }>();
    const startAgent = async (i: number) => {
      const h = withDpu[i];
      const dpuId = h.dpu?.id as string;
      const token = tokenOf(dpuId);
      const make = makeAgent(h.id, dpuId, token);
      let got: Listening | null = null;
      if (mode !== "ports") {
        got = await tryListen(make, sharedPort, agentAddress(i));
        if (!got) throw new Error(`startLab: agent port ${sharedPort} is taken on ${agentAddress(i)}; pick another portBase`);
        sharedPort = got.port; // the first agent fixes the shared port (ephemeral unless portBase)
      } else if (nextPort) {
        while (!got) {
          const port = nextPort.port++;
          if (port > 65535) throw new Error("startLab: ran out of ports for agents");
          got = await tryListen(make, port, "127.0.0.1");
        }
      } else {
        got = await tryListen(make, 0, "127.0.0.1");
        if (!got) throw new Error(`startLab: agent for ${dpuId} could not listen`);
      }
      started.agents.push(got.agent);
      byIndex[i] = { dpuId, url: got.url, token };
      listening.set(dpuId, { agent: got.agent, make, host: new URL(got.url).hostname, port: got.port });
      redfish.setAgentUrl(dpuId, got.url);
    };

    const t1 = performance.now();
    const indexes = withDpu.map((_, i) => i);
    // In "loopback"/"netns" mode the first agent picks the port every other agent shares, so it goes alone first.
    const first = mode === "ports" ? 0 : Math.min(1, indexes.length);
    for (const i of indexes.slice(0, first)) await startAgent(i);
    await eachLimited(indexes.slice(first), AGENT_START_CONCURRENCY, (i) => startAgent(i));
    const agents = new Map<string, LabAgent>(byIndex.map((a) => [a.dpuId, { url: a.url, token: a.token }]));
    progress(`${agents.size} DPU agents in ${Math.round(performance.now() - t1)} ms`);

    // ---- enrollment rows
    const rows: LabHostRow[] = fleet.map((h) => {
      const bmc = redfish.byId(h.id);
      if (!bmc) throw new Error(`startLab: the simulator has no BMC for ${h.id}`);
      const dpuBmc = h.dpu ? redfish.byId(h.dpu.id) : undefined;
      const agent = h.dpu ? agents.get(h.dpu.id) : undefined;
      return {
        name: h.id,
        pool: pools[h.index % pools.length],
        driver: "redfish",
        bmc_address: bmc.url,
        bmc_username: bmc.username,
        bmc_password: bmc.password,
        // Plain http on loopback: there is no certificate to verify.
        verify_tls: false,
        // A DPU behind its host's BMC (cascade) has no address of its own: Anvil finds it through the host's BMC.
        dpu_bmc_address: dpuBmc && dpuBmc.via !== "cascade" ? dpuBmc.url : null,
        dpu_bmc_username: dpuBmc?.username ?? null,
        dpu_bmc_password: dpuBmc?.password ?? null,
        agent_url: agent?.url ?? null,
        agent_token: agent?.token ?? null,
        dedicated_power: h.dpu?.dedicatedPower ?? false,
      };
    });

    const stopAgent = async (dpuId: string) => {
      const l = listening.get(dpuId);
      if (!l) throw new Error(`stopAgent: the lab has no agent for ${dpuId}`);
      if (!l.agent) return;
      const a = l.agent;
      l.agent = null;
      started.agents.splice(started.agents.indexOf(a), 1);
      await a.close();
    };
    let closing: Promise<void> | undefined;
    const manifest = (): LabManifest => ({ redfishAdminUrl: redfish.adminUrl, storage: { url: storage.url, token: storage.token }, hosts: rows });
    return {
      redfish,
      storage: { url: storage.url, token: storage.token },
      agents,
      stopAgent,
      async startAgent(dpuId) {
        const l = listening.get(dpuId);
        if (!l) throw new Error(`startAgent: the lab has no agent for ${dpuId}`);
        if (l.agent) await stopAgent(dpuId);
        const got = await tryListen(l.make, l.port, l.host);
        if (!got) throw new Error(`startAgent: ${l.host}:${l.port} is taken; the agent for ${dpuId} cannot come back`);
        l.agent = got.agent;
        started.agents.push(got.agent);
      },
      hosts: rows,
      csv: () => rowsToCsv(rows),
      manifest,
      close: () => {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll().catch(() => {});
    throw err;
  }
}

// ---- CLI --------------------------------------------------------------------------------------------------

const USAGE = `usage: npm run lab -- [--hosts 16] [--pools general,gpu] [--latency zero|realistic] [--dpu-every 1]
                      [--address ports|loopback|netns] [--port-base P] [--dialect lab|multi-node|dmtf-smartnic|…]
                      [--cascade N] [--csv lab.csv] [--manifest lab.json] [--quiet]
  Starts the Redfish BMC simulator, the storage service and one DPU agent per DPU in this process, writes the
  enrollment CSV and JSON manifest (default: a private temp dir), and runs until Ctrl-C. --cascade N: the last N
  hosts' DPU BMCs sit behind their host's BMC (BMC cascade; no DPU BMC address in their rows).
       npm run lab -- --real [--hosts 2] [--ipmi-hosts 1] [--dir D] [--memory-mib 1024] [--manifest F] [--port-base P] [--quiet]
  The real lab (docs/real-lab.md): Ceph, QEMU hosts, emulated DPUs and their Redfish BMCs; --ipmi-hosts more QEMU
  hosts behind OpenIPMI's ipmi_sim (enrollment driver "ipmi", pool "gpu"); needs root.`;

function writePrivate(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // The files carry BMC passwords and agent tokens.
  fs.writeFileSync(file, text, { mode: 0o600 });
}

export async function runLabCli(argv: string[]): Promise<void> {
  if (argv.includes("--real")) return runRealLabCli(argv.filter((a) => a !== "--real"));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        hosts: { type: "string", default: "16" },
        pools: { type: "string", default: "general,gpu" },
        latency: { type: "string", default: "zero" },
        "dpu-every": { type: "string", default: "1" },
        address: { type: "string", default: "ports" },
        "port-base": { type: "string" },
        dialect: { type: "string" },
        cascade: { type: "string" },
        csv: { type: "string" },
        manifest: { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`lab: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const int = (name: string): number | undefined => {
    const v = values[name] as string | undefined;
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) {
      process.stderr.write(`lab: --${name} must be a non-negative integer, got '${v}'\n`);
      process.exit(2);
    }
    return Number(v);
  };
  const opts: LabOptions = {
    hosts: int("hosts") as number,
    pools: String(values.pools)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    latency: values.latency as LabOptions["latency"],
    dpuEvery: int("dpu-every"),
    address: values.address as LabOptions["address"],
    portBase: int("port-base"),
    cascade: int("cascade"),
    quiet: Boolean(values.quiet),
    ...(values.dialect ? { dialect: values.dialect as DialectName } : {}),
  };

  let lab: Lab;
  try {
    lab = await startLab(opts);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const dir = values.csv && values.manifest ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "anvil-lab-"));
  const csvPath = path.resolve((values.csv as string | undefined) ?? path.join(dir as string, "lab.csv"));
  const manifestPath = path.resolve((values.manifest as string | undefined) ?? path.join(dir as string, "lab.json"));
  writePrivate(csvPath, lab.csv());
  writePrivate(manifestPath, `${JSON.stringify(lab.manifest(), null, 2)}\n`);

  const hostBmcs = lab.redfish.bmcs.filter((b) => b.kind === "host").length;
  const out = [
    `Anvil lab up (${opts.latency} latency, address mode ${opts.address})`,
    `  Redfish admin API  ${lab.redfish.adminUrl}`,
    `  storage service    ${lab.storage.url}  (token in the manifest)`,
    `  BMCs               ${lab.redfish.bmcs.length} (${hostBmcs} hosts + ${lab.redfish.bmcs.length - hostBmcs} DPUs), user ${lab.hosts[0]?.bmc_username} / ${lab.hosts[0]?.bmc_password}`,
    `  DPU agents         ${lab.agents.size}`,
    `  pools              ${(opts.pools ?? []).map((p) => `${p}: ${lab.hosts.filter((h) => h.pool === p).length}`).join(", ")}`,
    "  sample rows:",
    ...lab.hosts
      .slice(0, 3)
      .map(
        (h) =>
          `    ${h.name}  ${h.pool}  bmc ${h.bmc_address}  dpu ${h.dpu_bmc_address ?? "-"}  agent ${h.agent_url ?? "-"} token ${h.agent_token ? `${h.agent_token.slice(0, 8)}…` : "-"}`,
      ),
    `  enrollment CSV     ${csvPath}`,
    `  manifest (JSON)    ${manifestPath}`,
    "Ctrl-C to stop.",
  ];
  process.stdout.write(`${out.join("\n")}\n`);

  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`lab: ${sig}, shutting down\n`);
    lab.close().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`lab: shutdown failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  // \`on\`, not \`once\`: a second signal while stopping (a supervisor repeating itself) must not end the process
  // half-way through its cleanup (stop() ignores repeats).
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** `--real`: installs missing Debian packages like `npm test` does, then starts sim/real/lab.ts until Ctrl-C/SIGTERM. */
async function runRealLabCli(argv: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        hosts: { type: "string", default: "2" },
        "ipmi-hosts": { type: "string", default: "1" },
        dir: { type: "string" },
        "memory-mib": { type: "string" },
        manifest: { type: "string" },
        "port-base": { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`lab: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  for (const name of ["hosts", "ipmi-hosts", "memory-mib", "port-base"]) {
    const v = values[name];
    if (v !== undefined && !/^\d+$/.test(String(v))) {
      process.stderr.write(`lab: --${name} must be a non-negative integer, got '${v}'\n`);
      process.exit(2);
    }
  }
  const t0 = performance.now();
  // The same installer `npm test` runs (scripts/system-deps.sh): Ceph, QEMU, OVS, mmdebstrap, genisoimage…
  const deps = spawnSync("bash", [path.join(import.meta.dirname, "..", "scripts", "system-deps.sh")], { stdio: "inherit" });
  if (deps.status !== 0) {
    process.stderr.write("lab: the real lab's Debian packages are missing and could not be installed (see above)\n");
    process.exit(1);
  }
  const { startRealLab, rssOf } = await import("./real/lab");
  // Agent tokens derived from a secret seed given by environment (never on the command line, which ps shows): a lab
  // restarted by the same Anvil comes back with the tokens it enrolled.
  const seed = process.env.ANVIL_LAB_TOKEN_SEED;
  const agentToken = seed ? (dpuId: string) => createHmac("sha256", seed).update(dpuId).digest("hex") : undefined;
  // The IPMI hosts' passwords too (IPMI allows at most 20 characters).
  const ipmiPassword = seed ? (hostId: string) => createHmac("sha256", seed).update(`${hostId}/ipmi`).digest("hex").slice(0, 16) : undefined;
  const dir = path.resolve((values.dir as string | undefined) ?? fs.mkdtempSync(path.join(os.tmpdir(), "anvil-real-lab-")));
  let lab: Awaited<ReturnType<typeof startRealLab>>;
  // A stop asked for while the lab is still starting waits for the start to end (startRealLab cleans up after a
  // failure itself), then stops what started: ending the process now would leave Ceph, QEMU and OVS behind.
  let stopWhenUp: string | undefined;
  const early = (sig: string) => {
    stopWhenUp ??= sig;
    process.stderr.write(`lab: ${sig} while starting; stopping once the start has ended\n`);
  };
  process.on("SIGINT", early);
  process.on("SIGTERM", early);
  try {
    lab = await startRealLab({
      dir,
      hosts: Number(values.hosts),
      ipmiHosts: Number(values["ipmi-hosts"]),
      memoryMiB: values["memory-mib"] === undefined ? undefined : Number(values["memory-mib"]),
      quiet: Boolean(values.quiet),
      ...(values["port-base"] === undefined ? {} : { portBase: Number(values["port-base"]) }),
      ...(agentToken ? { agentToken } : {}),
      ...(ipmiPassword ? { ipmiPassword } : {}),
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  process.off("SIGINT", early);
  process.off("SIGTERM", early);
  if (stopWhenUp) {
    await lab.close().catch((e: Error) => process.stderr.write(`lab: shutdown failed: ${e.message}\n`));
    process.exit(0);
  }
  const csvPath = path.join(dir, "lab.csv");
  const manifestPath = path.resolve((values.manifest as string | undefined) ?? path.join(dir, "lab.json"));
  writePrivate(csvPath, lab.csv());
  // Written last, once everything is up (a reader polls for it); `pid` lets Anvil adopt or stop this lab.
  writePrivate(`${manifestPath}.tmp`, `${JSON.stringify({ pid: process.pid, ...lab.manifest() }, null, 2)}\n`);
  fs.renameSync(`${manifestPath}.tmp`, manifestPath);
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  const machines = [
    ...lab.qemuHosts.map((h) => ({ pid: h.pid, via: "" })),
    ...lab.ipmiHosts.map((h) => ({
      pid: h.qemuPid,
      via: `, ipmi_sim pid ${h.ipmiSimPid}: IPMI_PASSWORD=… ipmitool -I lanplus -H 127.0.0.1 -p ${h.address.split(":")[1]} -U ${h.username} -E`,
    })),
  ];
  const qemuRss = machines.map((h) => rssOf(h.pid));
  const out = [
    `Anvil real lab up in ${((performance.now() - t0) / 1000).toFixed(1)} s (${lab.qemuHosts[0]?.accel ?? lab.ipmiHosts[0]?.accel ?? "?"}) — folder ${dir}`,
    `  Ceph mon           ${lab.ceph.monAddr} in netns ${lab.ceph.netns} (RBD pool ${lab.poolId})`,
    `  guest image        ${lab.guestImage.path} (${mib(lab.guestImage.sizeBytes)} raw)`,
    `  Redfish admin API  ${lab.redfish.adminUrl}`,
    `  provider network   ${lab.provider.cidr} VLAN ${lab.provider.vlanId}, gateway ${lab.provider.gateway} (${lab.provider.gatewayMac}) in netns ${lab.provider.netns}; every DPU's uplink joins it`,
    ...lab.hosts.flatMap((h, i) => [
      `  ${h.name}  ${h.driver === "ipmi" ? "IPMI" : "BMC"} ${h.bmc_address}  user ${h.bmc_username} / ${h.driver === "ipmi" ? "(password in the manifest)" : h.bmc_password}  pool ${h.pool}  (QEMU pid ${machines[i]?.pid}, ${mib(qemuRss[i] ?? 0)} RSS, powered off${machines[i]?.via ?? ""})`,
      `    DPU BMC ${h.dpu_bmc_address}  agent ${h.agent_url}  token ${h.agent_token?.slice(0, 8)}… (full token in the manifest)  underlay 10.98.0.${i + 1}`,
    ]),
    `  Anvil storage env  ${Object.entries(lab.storageEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
    `  enrollment CSV     ${csvPath}`,
    `  manifest (JSON)    ${manifestPath}`,
    `  memory             QEMU ${qemuRss.map(mib).join(" + ")}; this process ${mib(process.memoryUsage().rss)}`,
    "Ctrl-C (or SIGTERM) stops everything.",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`lab: ${sig}, stopping hosts, DPUs and Ceph\n`);
    lab.close().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`lab: shutdown failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  // \`on\`, not \`once\`: a second signal while stopping (a supervisor repeating itself) must not end the process
  // half-way through its cleanup (stop() ignores repeats).
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

if (isEntryScript(import.meta.url)) void runLabCli(process.argv.slice(2));
