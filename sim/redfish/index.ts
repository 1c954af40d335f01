// Redfish BMC simulator of the lab: one Node process serving a whole fleet of host BMCs and DPU BMCs,
// each at its own address (own port on 127.0.0.1, or own 127.x.y.z address on one port), so a Redfish
// client written to the spec works against it unchanged. Every BMC has a tiny listening socket that hands
// its connections to ONE shared HTTP(S) server; the request is tied to its BMC by the local port/address.
// That keeps 20,000 BMCs at a few hundred bytes of state each plus one file descriptor.

import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import { WebSocketServer } from "ws";
import { dpuIdFor, hasDpu, hostIdFor } from "../fleet";
import { handleAdmin } from "./admin";
import { SessionStore } from "./auth";
import { ConsoleManager } from "./console";
import { cascadePathOf } from "./cascade";
import { type Dialect, type DialectSpec, resolveDialect } from "./dialect";
import { EventHub } from "./events";
import { handleRequest, handleUpgrade, networkFaults, type SimContext } from "./handler";
import type { SystemBackend } from "./backend";
import { Bmc, Engine, enrollAddress, idsFor, type SimConfig } from "./model";
import { TaskManager } from "./tasks";
import { selfSignedCert } from "./tls";
import { claimPort } from "../port-claims";

export type LatencyProfile = "zero" | "realistic";
export type { SerialPort, SystemBackend, SystemBackendSink } from "./backend";
export { DIALECT_NAMES, DIALECTS, type Dialect, type DialectName, type DialectSpec } from "./dialect";

export interface RedfishSimOptions {
  /** number of host BMCs */
  hosts: number;
  /** 1 = every host has a DPU (default 1); n = every n-th host; 0 = no DPUs */
  dpuEvery?: number;
  /** default "node" -> host ids node-0001..., DPU ids node-0001-dpu */
  idPrefix?: string;
  /** default "admin"/"password" for every BMC */
  username?: string;
  password?: string;
  /** DPU BMCs accept this password instead (their own credentials, which Anvil must not take from the host) */
  dpuPassword?: string;
  /** PoweringOn -> On and PoweringOff -> Off delay (default 200, realistic: 2000) */
  powerTransitionMs?: number;
  /** after On, time until the console shows the login prompt and BootProgress=OSRunning (default 300, realistic 20000) */
  bootMs?: number;
  /** how long a SimpleUpdate task runs (default 500, realistic 30000) */
  updateMs?: number;
  /** sets the timings above unless given; "realistic" also adds 20-80 ms to every request, like a real BMC */
  latency?: LatencyProfile;
  /** DPU has its own power supply (host power-off does not take it down) */
  dedicatedDpuPower?: boolean | ((hostIndex: number) => boolean);
  /** "ports" (default): every BMC its own ephemeral port on 127.0.0.1; "loopback": every BMC its own 127.x.y.z on one port */
  address?: "ports" | "loopback" | "netns";
  /**
   * "ports" mode: give BMCs consecutive ports from this one (ports in use are skipped) instead of kernel-chosen
   * ephemeral ports. Default: ephemeral ports up to EPHEMERAL_MAX BMCs; above that a run of ports just below the
   * kernel's ephemeral range, because binding port 0 thousands of times gets slow (the kernel searches a nearly
   * full range) and would starve every outgoing connection on the machine of source ports.
   */
  portBase?: number;
  /** port shared by all BMCs in "loopback" mode; default: an ephemeral port picked for the first BMC */
  loopbackPort?: number;
  /** second octet of the loopback addresses (default 10: 127.10.0.1, 127.10.0.2, ...) */
  loopbackNet?: number;
  /** serve https/wss with a generated self-signed certificate (RedfishSim.caPem) */
  tls?: boolean;
  /** every host finds an OS on its disk (default false: hosts need setBootable(hostId, true)) */
  allBootable?: boolean;
  /** power state at start (default "Off"); "On" = hosts and DPUs On with their OS already running */
  initialPower?: "Off" | "On";
  /** Oem.Anvil.AgentUrl of each DPU at start (default null) */
  agentUrl?: (dpuId: string, hostIndex: number) => string | null;
  /** port of the admin API on 127.0.0.1 (default ephemeral) */
  adminPort?: number;
  /**
   * Redfish dialect of each host's BMC (and of its DPU's own BMC): a preset name ("lab", "multi-node",
   * "dmtf-smartnic", "sticky-boot", …; see dialect.ts) or a preset plus overrides, for all hosts or per host index.
   * Default "lab". Hosts in a row with a multi-system dialect share one BMC (systemsPerBmc of them).
   */
  dialect?: DialectSpec | ((hostIndex: number) => DialectSpec);
  /**
   * A real machine behind a host's BMC (backend.ts; the real lab's QEMU hosts: sim/real/qemu-backend.ts), or
   * undefined for the in-memory model. The caller owns the backends (starts and stops them).
   */
  systemBackend?: (hostIndex: number, hostId: string) => SystemBackend | undefined;
  /**
   * Hosts this simulator does NOT serve whose DPU BMC it serves on its own: the host sits behind another kind of BMC
   * (the real lab's IPMI hosts, behind ipmi_sim). Each gets a DPU BMC `<hostId>-dpu` after the paired ones, with its
   * own listener, no host link and dedicated power (there is no host here whose power it could follow).
   */
  dpuOnly?: string[];
  /**
   * The host's BMC carries its DPU's BMC behind it (cascade.ts): the DPU BMC is reached only through the host BMC's
   * proxy path, with its own credentials; its own address refuses connections and the host BMC does not name it.
   * For all hosts or per host index; hosts whose DPU is a system of their own BMC (dialect dpu "same-bmc") ignore it.
   */
  cascade?: boolean | ((hostIndex: number) => boolean);
}

export interface SimBmc {
  id: string;
  kind: "host" | "dpu";
  /**
   * What to enroll: the BMC's base URL (e.g. http://127.0.0.1:40123), or — for a machine that shares its BMC
   * with others where the base URL alone is ambiguous — the URL of its ComputerSystem on that BMC
   * (http://127.0.0.1:40123/redfish/v1/Systems/2, …/Systems/Card1-SoC).
   */
  url: string;
  /** the BMC's base URL (where /redfish/v1/ is), the same for every machine the BMC serves */
  baseUrl: string;
  /** name of the BMC's Redfish dialect (preset, or preset+overrides) */
  dialect: string;
  systemId: string;
  /** for DPUs */
  hostId?: string;
  /** for hosts */
  dpuId?: string;
  /** for DPUs: "cascade" when reached only through the host BMC's proxy (url and baseUrl are then on the host's BMC) */
  via?: "cascade";
  username: string;
  password: string;
}

export interface RedfishSim {
  adminUrl: string;
  bmcs: SimBmc[];
  byId(id: string): SimBmc | undefined;
  /** in-process hook for the lab: the agent sim backend calls this when the host's boot disk changes */
  setBootable(hostId: string, bootable: boolean): void;
  /** in-process hook for the lab: Oem.Anvil.AgentUrl of a DPU */
  setAgentUrl(dpuId: string, url: string | null): void;
  /** the self-signed certificate (PEM) when tls is on, to trust it in a verify-cert client */
  caPem?: string;
  close(): Promise<void>;
}

const LISTEN_BATCH = 512;
/** above this many BMCs, "ports" mode allocates ports itself (see RedfishSimOptions.portBase) */
export const EPHEMERAL_MAX = 2000;

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux: assume the IANA dynamic range
  }
  return [49152, 65535];
}

/** Soft limit of open files, to explain EMFILE before it happens. */
function openFileLimit(): number | undefined {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** True inside a network namespace whose only interface is lo (e.g. `unshare -n`): 0.0.0.0 there is loopback-only. */
export function inPrivateNetns(): boolean {
  const names = Object.keys(os.networkInterfaces());
  return names.length > 0 && names.every((n) => n === "lo");
}

function loopbackAddress(net2: number, i: number): string {
  // 254 addresses per /24 (skip .0 and .255), 256 /24s per /16, then the next second octet.
  const perB = 254 * 256;
  const b = net2 + Math.floor(i / perB);
  const r = i % perB;
  return `127.${b}.${Math.floor(r / 254)}.${(r % 254) + 1}`;
}

/** Listen on the next free port from the shared counter, skipping ports something else holds. */
async function listenNextFree(server: net.Server, host: string, next: { port: number }): Promise<number> {
  for (;;) {
    const port = next.port++;
    if (port > 65535) throw Object.assign(new Error("no free port left for BMC listeners"), { code: "EADDRINUSE" });
    try {
      return await listen(server, port, host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" && (err as NodeJS.ErrnoException).code !== "EACCES") throw err;
    }
  }
}

/** An ephemeral port no simulator of this test run had before (sim/port-claims.ts); outside tests, any. */
async function listenUnclaimed(server: net.Server, host: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await listen(server, 0, host);
    if (claimPort(host, port) || attempt >= 50) return port;
    await new Promise<void>((r) => server.close(() => r()));
  }
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ port, host, backlog: 128, exclusive: true }, () => {
      server.off("error", onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function checkOptions(o: RedfishSimOptions): void {
  const bad = (m: string) => {
    throw new Error(`startRedfishSim: ${m}`);
  };
  if (!Number.isInteger(o.hosts) || o.hosts < 0) bad(`hosts must be a non-negative integer, got ${o.hosts}`);
  if (o.dpuEvery !== undefined && (!Number.isInteger(o.dpuEvery) || o.dpuEvery < 0)) bad(`dpuEvery must be a non-negative integer, got ${o.dpuEvery}`);
  for (const k of ["powerTransitionMs", "bootMs", "updateMs"] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) bad(`${k} must be >= 0, got ${v}`);
  }
  if (o.idPrefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.idPrefix)) bad(`idPrefix '${o.idPrefix}' must be letters, digits, . _ -`);
  if (o.address !== undefined && o.address !== "ports" && o.address !== "loopback" && o.address !== "netns")
    bad(`address must be "ports", "loopback" or "netns"`);
  if (o.address === "netns" && !inPrivateNetns())
    bad(`address "netns" listens on 0.0.0.0 and is only allowed inside a private network namespace with nothing but lo (run under \`unshare -n\`)`);
  if (o.dpuOnly !== undefined) {
    if (!Array.isArray(o.dpuOnly)) bad("dpuOnly must be a list of host ids");
    const seen = new Set<string>();
    for (const id of o.dpuOnly) {
      if (typeof id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) bad(`dpuOnly: host id '${id}' must be letters, digits, . _ -`);
      if (seen.has(id)) bad(`dpuOnly: host id '${id}' repeats`);
      const n = Number(id.match(/-(\d+)$/)?.[1] ?? 0);
      if (n >= 1 && n <= o.hosts && id === hostIdFor(n - 1, o.idPrefix ?? "node"))
        bad(`dpuOnly: '${id}' is one of this simulator's own hosts (it has its DPU already)`);
      seen.add(id);
    }
  }
  if (o.loopbackNet !== undefined && (!Number.isInteger(o.loopbackNet) || o.loopbackNet < 1 || o.loopbackNet > 250)) bad("loopbackNet must be 1..250");
}

export async function startRedfishSim(opts: RedfishSimOptions): Promise<RedfishSim> {
  const credentialsOf = (kind: "host" | "dpu") => ({
    username: config.username,
    password: kind === "dpu" && config.dpuPassword ? config.dpuPassword : config.password,
  });
  checkOptions(opts);
  const realistic = opts.latency === "realistic";
  const config: SimConfig = {
    powerTransitionMs: opts.powerTransitionMs ?? (realistic ? 2000 : 200),
    bootMs: opts.bootMs ?? (realistic ? 20_000 : 300),
    updateMs: opts.updateMs ?? (realistic ? 30_000 : 500),
    requestLatency: realistic ? [20, 80] : null,
    allBootable: opts.allBootable ?? false,
    username: opts.username ?? "admin",
    password: opts.password ?? "password",
    dpuPassword: opts.dpuPassword,
    idPrefix: opts.idPrefix ?? "node",
    dpuEvery: opts.dpuEvery ?? 1,
  };
  const mode = opts.address ?? "ports";
  const tls = opts.tls ?? false;

  // ---- the fleet's BMC state
  const ctx: SimContext = {
    engine: undefined as unknown as Engine,
    consoles: undefined as unknown as ConsoleManager,
    events: new EventHub(),
    tasks: undefined as unknown as TaskManager,
    sessions: new SessionStore((b) => credentialsOf(b.kind)),
    held: new Set(),
    heldSockets: new Set(),
  };
  const engine = new Engine(config, {
    // Events go out on the event service of the BMC serving the machine.
    event: (bmc, ev) => ctx.events.emit(bmc.endpoint, ev),
    bootStarted: (bmc) => ctx.consoles.bootStarted(bmc),
    bootFinished: (bmc) => ctx.consoles.bootFinished(bmc),
    poweredOff: (bmc) => ctx.consoles.poweredOff(bmc),
    consoleText: (bmc, text) => ctx.consoles.write(bmc, text),
  });
  ctx.engine = engine;
  ctx.consoles = new ConsoleManager(engine);
  ctx.tasks = new TaskManager(engine);

  const dialectOf = (i: number): Dialect => {
    const spec = typeof opts.dialect === "function" ? opts.dialect(i) : opts.dialect;
    try {
      return resolveDialect(spec);
    } catch (err) {
      throw new Error(`startRedfishSim: host ${i}: ${(err as Error).message}`);
    }
  };
  /** The BMC the previous host joined when it shares its BMC with the next hosts (dialect systemsPerBmc > 1). */
  let shared: Bmc | undefined;
  for (let i = 0; i < opts.hosts; i++) {
    const hostId = hostIdFor(i, config.idPrefix);
    const dialect = dialectOf(i);
    const join = shared && shared.dialect.name === dialect.name && shared.members.length < dialect.systemsPerBmc ? shared : undefined;
    const host = new Bmc(engine.bmcs.length, "host", i, hostId, false, false, idsFor(dialect, "host", (join?.members.length ?? 0) + 1));
    if (join) {
      host.endpoint = join;
      join.members.push(host);
    } else host.ownDialect = dialect;
    shared = dialect.systemsPerBmc > 1 ? (join ?? host) : undefined;
    engine.bmcs.push(host);
    const backend = opts.systemBackend?.(i, hostId);
    if (backend) {
      host.backend = backend;
      backend.bind(engine.backendSink(host));
    }
    if (hasDpu(i, config.dpuEvery)) {
      const ded = opts.dedicatedDpuPower;
      const dpu = new Bmc(engine.bmcs.length, "dpu", i, dpuIdFor(hostId), typeof ded === "function" ? ded(i) : Boolean(ded), true, idsFor(dialect, "dpu", 1));
      dpu.peer = host;
      host.peer = dpu;
      dpu.agentUrl = opts.agentUrl ? opts.agentUrl(dpu.id, i) : null;
      if (dialect.dpu === "same-bmc") {
        // DMTF public-smartnic: the DPU is a second ComputerSystem of its host's BMC.
        dpu.endpoint = host.endpoint;
        host.endpoint.members.push(dpu);
      } else {
        dpu.ownDialect = { ...dialect, systemsPerBmc: 1 };
        dpu.cascaded = typeof opts.cascade === "function" ? opts.cascade(i) : Boolean(opts.cascade);
      }
      engine.bmcs.push(dpu);
    }
  }
  // DPU BMCs whose host is behind another BMC: fleet indexes after the hosts (own serials and MACs), own listener.
  for (const [j, hostId] of (opts.dpuOnly ?? []).entries()) {
    const i = opts.hosts + j;
    const dialect = dialectOf(i);
    const dpu = new Bmc(engine.bmcs.length, "dpu", i, dpuIdFor(hostId), true, true, idsFor(dialect, "dpu", 1));
    dpu.ownDialect = { ...dialect, systemsPerBmc: 1 };
    dpu.agentUrl = opts.agentUrl ? opts.agentUrl(dpu.id, i) : null;
    engine.bmcs.push(dpu);
  }
  /** BMCs that have a listener of their own (the first machine of each BMC). */
  const endpoints = engine.bmcs.filter((b) => b.endpoint === b);
  for (const b of engine.bmcs) engine.byId.set(b.id, b);
  if (opts.initialPower === "On") for (const b of engine.bmcs) engine.startOn(b);

  const limit = openFileLimit();
  const needed = mode === "netns" ? 64 : endpoints.length + 64;
  if (limit !== undefined && needed > limit) {
    throw new Error(
      `startRedfishSim: ${endpoints.length} BMCs need one listening socket each (about ${needed} file descriptors) but the open-file limit is ${limit}; raise it (ulimit -n ${Math.max(65536, needed)}) or start fewer BMCs`,
    );
  }

  // ---- one shared HTTP(S) server; tiny per-BMC listeners feed it
  const addrOf = (i: number) => (mode === "loopback" || mode === "netns" ? loopbackAddress(opts.loopbackNet ?? 10, i) : "127.0.0.1");
  let caPem: string | undefined;
  let server: http.Server;
  const bmcOfSocket = (s: net.Socket): Bmc | undefined =>
    mode === "loopback" || mode === "netns" ? byAddress.get(s.localAddress ?? "") : byPort.get(s.localPort ?? -1);
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const bmc = bmcOfSocket(req.socket);
    if (!bmc) {
      res.writeHead(404).end();
      return;
    }
    void handleRequest(ctx, bmc, req, res);
  };
  // A "tls" dialect serves HTTPS on its BMC's port even in a plain-HTTP lab: a second, TLS server for those BMCs.
  const tlsDialects = !tls && endpoints.some((b) => b.dialect.tls);
  let tlsServer: https.Server | undefined;
  if (tls || tlsDialects) {
    const ips = engine.bmcs.length <= 256 ? engine.bmcs.map((_, i) => addrOf(i)) : [];
    const { key, cert } = await selfSignedCert(ips);
    caPem = cert;
    tlsServer = https.createServer({ key, cert }, onRequest);
  }
  server = tls && tlsServer ? tlsServer : http.createServer(onRequest);
  const servers = tlsServer && tlsServer !== server ? [server, tlsServer] : [server];
  const serverFor = (b: Bmc): http.Server => (b.dialect.tls && tlsServer ? tlsServer : server);
  const schemeOf = (b: Bmc) => (tls || b.dialect.tls ? "https" : "http");
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  for (const srv of servers) {
    srv.keepAliveTimeout = 30_000;
    srv.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const bmc = bmcOfSocket(req.socket as net.Socket);
      if (!bmc) return socket.destroy();
      socket.on("error", () => socket.destroy());
      void handleUpgrade(ctx, bmc, wss, req, socket, head);
    });
    srv.on("clientError", (_err, socket) => socket.destroy());
  }

  const byPort = new Map<number, Bmc>();
  const byAddress = new Map<string, Bmc>();
  const sockets = new Set<net.Socket>();
  const socketBmc = new WeakMap<net.Socket, Bmc>();
  const listeners: net.Server[] = [];

  const cutConnections = (machine: Bmc) => {
    const bmc = machine.endpoint;
    for (const s of sockets) if (socketBmc.get(s) === bmc) s.destroy();
    for (const m of bmc.members) ctx.consoles.drop(m, true);
    ctx.events.dropStreams(bmc);
  };

  /** Hands a connection to its BMC's HTTP server; an "unreachable" BMC (or none) resets it at once, as a dead
   *  management port would. */
  const accept = (socket: net.Socket, bmc: Bmc | undefined) => {
    if (!bmc || bmc.cascaded || networkFaults(bmc)?.unreachable || engine.closed) {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socketBmc.set(socket, bmc);
    socket.on("close", () => sockets.delete(socket));
    serverFor(bmc).emit("connection", socket);
  };
  const addListener = (onConnection: (socket: net.Socket) => void) => {
    const l = net.createServer(onConnection);
    l.on("error", () => {});
    listeners.push(l);
    return l;
  };
  const makeListener = (bmc: Bmc) => addListener((socket) => accept(socket, bmc));

  const closeListeners = () => Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));

  try {
    if (mode === "netns") {
      // One wildcard listener for every BMC (one file descriptor for 20,000 BMCs); the destination address of each
      // connection says which BMC it is for. Safe only because the namespace has nothing but lo (checked above).
      const l = addListener((socket) => accept(socket, byAddress.get(socket.localAddress ?? "")));
      const p = await listen(l, opts.loopbackPort ?? 0, "0.0.0.0");
      for (const b of endpoints) {
        const addr = addrOf(b.index);
        b.url = `${schemeOf(b)}://${addr}:${p}`;
        byAddress.set(addr, b);
      }
    }
    let port = mode === "loopback" ? (opts.loopbackPort ?? 0) : 0;
    let start = 0;
    if (mode === "loopback" && port === 0 && endpoints.length > 0) {
      // The first BMC picks an ephemeral port; every other address reuses it.
      const b = endpoints[0];
      port = await listen(makeListener(b), 0, addrOf(b.index));
      b.url = `${schemeOf(b)}://${addrOf(b.index)}:${port}`;
      byAddress.set(addrOf(b.index), b);
      start = 1;
    }
    let next: { port: number } | undefined;
    if (mode === "ports" && (opts.portBase !== undefined || endpoints.length > EPHEMERAL_MAX)) {
      const [ephLow] = ephemeralRange();
      next = { port: opts.portBase ?? Math.max(1024, ephLow - Math.ceil(endpoints.length * 1.05) - 256) };
    }
    for (let i = mode === "netns" ? endpoints.length : start; i < endpoints.length; i += LISTEN_BATCH) {
      const batch = endpoints.slice(i, i + LISTEN_BATCH);
      await Promise.all(
        batch.map(async (b) => {
          const addr = addrOf(b.index);
          const p = next
            ? await listenNextFree(makeListener(b), addr, next)
            : port === 0
              ? await listenUnclaimed(makeListener(b), addr)
              : await listen(makeListener(b), port, addr);
          b.url = `${schemeOf(b)}://${addr}:${p}`;
          if (mode === "loopback") byAddress.set(addr, b);
          else byPort.set(p, b);
        }),
      );
    }
    // Machines sharing a BMC are reached at its address.
    for (const b of engine.bmcs) b.url = b.endpoint.url;
  } catch (err) {
    engine.close();
    await closeListeners();
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EMFILE" || e.code === "ENFILE")
      throw new Error(`startRedfishSim: ran out of file descriptors after ${listeners.length} BMC listeners; raise the limit (ulimit -n) or start fewer BMCs`);
    if (e.code === "EADDRINUSE") throw new Error(`startRedfishSim: address in use (${e.message}); pick another loopbackPort/loopbackNet`);
    if (e.code === "EADDRNOTAVAIL") throw new Error(`startRedfishSim: cannot bind a loopback address (${e.message}); is 127.0.0.0/8 routed to lo?`);
    throw err;
  }

  // ---- admin API
  const adminServer = http.createServer((req, res) => {
    void handleAdmin({ ctx, bmcs: engine.bmcs, byId: engine.byId, cutConnections, username: config.username, password: config.password }, req, res);
  });
  const adminPort = await listen(adminServer, opts.adminPort ?? 0, "127.0.0.1").catch(async (err) => {
    engine.close();
    await closeListeners();
    throw err;
  });

  // ---- public view
  const simBmcs: SimBmc[] = engine.bmcs.map((b) => ({
    id: b.id,
    kind: b.kind,
    ...(b.cascaded && b.host
      ? { url: `${b.host.url}${cascadePathOf(b)}`, baseUrl: `${b.host.url}${cascadePathOf(b)}`, via: "cascade" as const }
      : { url: enrollAddress(b), baseUrl: b.url }),
    dialect: b.dialect.name,
    systemId: b.ids.system,
    ...(b.kind === "dpu" ? { hostId: b.peer?.id } : b.peer ? { dpuId: b.peer.id } : {}),
    ...credentialsOf(b.kind),
  }));
  const simById = new Map(simBmcs.map((b) => [b.id, b]));

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      engine.close();
      ctx.consoles.closeAll();
      ctx.events.closeAll();
      for (const res of ctx.held) res.destroy();
      for (const s of ctx.heldSockets) s.destroy();
      const done = closeListeners();
      for (const s of sockets) s.destroy();
      for (const srv of servers) srv.close();
      wss.close();
      adminServer.closeAllConnections();
      await Promise.all([done, new Promise<void>((r) => adminServer.close(() => r()))]);
    })();
    return closing;
  };

  return {
    adminUrl: `http://127.0.0.1:${adminPort}`,
    bmcs: simBmcs,
    byId: (id) => simById.get(id),
    setBootable(hostId, bootable) {
      const b = engine.byId.get(hostId);
      if (b?.kind !== "host") throw new Error(`setBootable: '${hostId}' is not a host BMC of this simulator`);
      if (b.backend) throw new Error(`setBootable: '${hostId}' is a real machine; it boots from the disks presented to it`);
      b.bootable = bootable;
    },
    setAgentUrl(dpuId, url) {
      const b = engine.byId.get(dpuId);
      if (b?.kind !== "dpu") throw new Error(`setAgentUrl: '${dpuId}' is not a DPU BMC of this simulator`);
      b.agentUrl = url;
    },
    ...(caPem ? { caPem } : {}),
    close,
  };
}
