// The real DPU backend. Host functions come from a device emulation (device-emulation.ts): `spdk` on a BlueField
// (disks: bdev_nvme_attach_controller / bdev_iscsi_create / bdev_rbd_create, then vfu_virtio_create_blk_endpoint;
// seed images: an aio bdev behind a virtio-blk endpoint; NICs: the VF's representor), or `qemu` in the real lab
// (virtio devices hot-plugged into the host's QEMU over QMP, qemu-emulation.ts). Seed images: genisoimage -volid
// cidata -joliet -rock. NICs: an OVS port on br-int standing for the virtio-net function (tag = VLAN, or a local
// VLAN + VXLAN tunnel ports for a VNI) and the port's security rules as conntrack flows (ovs-flows.ts), replaced
// atomically with an OpenFlow 1.4 bundle.
// Everything created is journaled in stateDir/agent-state.json, so reset() also cleans a previous run's leftovers.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BackendError, conflict } from "../errors";
import type { CidataSpec, DiskSpec, ExternalSpec, NicSpec, OverlaySpec } from "../schemas";
import {
  allAgentCookies,
  arpResponderFlows,
  baseFlows,
  cookieMatch,
  gratuitousArp,
  natFlows,
  ndFlows,
  networkKey,
  nicFlows,
  overlayCookie,
  routerFlows,
} from "./ovs-flows";
import { createSpdkEmulation, type DeviceEmulation, type EmulationJournal } from "./device-emulation";
import { createQemuEmulation, type QemuEmulationOptions } from "./qemu-emulation";
import type { AgentBackend, CidataAttachment, CidataFiles, DiskAttachment, NicAttachment, PcieFunction } from "./types";

export interface LinuxBackendOptions {
  /** Directory for the journal and seed images (created if missing). */
  stateDir: string;
  /** How functions reach the host: SPDK (BlueField, the default) or QMP hot-plug into the host's QEMU (real lab). */
  emulation?: { kind: "spdk" } | ({ kind: "qemu" } & QemuEmulationOptions);
  /** SPDK JSON-RPC socket (spdk emulation). */
  spdkSocket?: string;
  bridge?: string;
  /** OVS_RUNDIR for ovs-vsctl/ovs-ofctl (db.sock and <bridge>.mgmt live there); default: the system's. */
  ovsRunDir?: string;
  /** Trunk port on the bridge that carries VLAN networks to the fabric; without it VLAN networks are local. */
  uplinkPort?: string;
  /** Interface type for NIC ports (spdk emulation): unset for real representors, "dummy" or "internal" in tests. */
  nicPortType?: string;
  /** NIC ports get ofport_request = ofportBase + VF, so flows can be installed before the port appears. */
  ofportBase?: number;
  /** br-int VLANs used for VXLAN networks (a VNI is mapped to one of them while a NIC uses it). */
  localVlanRange?: [number, number];
  /** Local VTEP address for VXLAN tunnel ports. */
  vxlanLocalIp?: string;
  /** Marks OVS ports as the agent's (external_ids:anvil-owner). */
  owner?: string;
  dpuOs?: string;
  /** virtio-blk queue settings for vfu_virtio_create_blk_endpoint. */
  blkQueues?: number;
  blkQueueSize?: number;
}

interface NicJournal {
  id: number;
  port: string;
  ofport: number;
  tag: number;
  vni?: number;
  remoteIps: string[];
}
/** The NICs' and overlays' parts are the backend's; every other key belongs to the device emulation (EmulationJournal). */
interface Journal {
  nics: Record<string, NicJournal>;
  /** Per VNI: the remote VTEPs and the ARP table the BFF last put (PUT /v1/overlay/vxlan/{vni}). */
  overlays: Record<string, OverlaySpec>;
  /** Per VNI whose router has a provider network: its conntrack zone for NAT (65535 down, never a NIC's id). */
  natZones: Record<string, number>;
  [section: string]: unknown;
}

const PACKAGES: Record<string, string> = {
  "ovs-vsctl": "openvswitch-switch",
  "ovs-ofctl": "openvswitch-switch",
  genisoimage: "genisoimage",
};

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: opts.env, cwd: opts.cwd, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          reject(new BackendError("tool_missing", `${cmd} is not installed on this DPU; install it with: apt-get install -y ${PACKAGES[cmd] ?? cmd}`, 500));
        } else {
          reject(new BackendError("command_failed", `${cmd} ${args.join(" ")} failed: ${(stderr || err.message).trim().slice(0, 500)}`));
        }
        return;
      }
      resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function createLinuxBackend(opts: LinuxBackendOptions): Promise<AgentBackend> {
  const bridge = opts.bridge ?? "br-int";
  const owner = opts.owner ?? "anvil-agent";
  const ofportBase = opts.ofportBase ?? 1000;
  const [vlanLo, vlanHi] = opts.localVlanRange ?? [4000, 4094];
  const env = { ...process.env, ...(opts.ovsRunDir ? { OVS_RUNDIR: opts.ovsRunDir } : {}) };
  const journalPath = join(opts.stateDir, "agent-state.json");
  await mkdir(opts.stateDir, { recursive: true });

  // Fail at start, with the package to install, rather than on the first request.
  for (const tool of ["ovs-vsctl", "ovs-ofctl", "genisoimage"]) await run(tool, ["--version"], { env });

  let journal: Journal = { nics: {}, overlays: {}, natZones: {} };
  try {
    journal = { ...journal, ...(JSON.parse(await readFile(journalPath, "utf8")) as Partial<Journal>) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const save = async () => {
    await writeFile(`${journalPath}.tmp`, JSON.stringify(journal));
    await rename(`${journalPath}.tmp`, journalPath);
  };
  const emulationJournal: EmulationJournal = {
    section<T extends object>(key: string, init: () => T): T {
      if (key === "nics" || key === "overlays" || key === "natZones") throw new Error(`the ${key} journal section belongs to the linux backend`);
      journal[key] ??= init();
      return journal[key] as T;
    },
    save,
  };
  const emulation: DeviceEmulation =
    opts.emulation?.kind === "qemu"
      ? await createQemuEmulation(opts.emulation, emulationJournal)
      : createSpdkEmulation(
          { socket: opts.spdkSocket ?? "/var/tmp/spdk.sock", nicPortType: opts.nicPortType, blkQueues: opts.blkQueues, blkQueueSize: opts.blkQueueSize },
          emulationJournal,
        );

  const vsctl = (...args: string[]) => run("ovs-vsctl", ["--timeout=20", ...args], { env });
  /** Applies flow changes atomically (OpenFlow 1.4 bundle): either all lines take effect or none. */
  const applyBundle = async (lines: string[]) => {
    await new Promise<void>((resolve, reject) => {
      const child = execFile("ovs-ofctl", ["-O", "OpenFlow14", "--bundle", "add-flows", bridge, "-"], { env, timeout: 30_000 }, (err, _o, stderr) =>
        err ? reject(new BackendError("command_failed", `ovs-ofctl add-flows failed: ${(stderr || err.message).trim().slice(0, 500)}`)) : resolve(),
      );
      child.stdin?.end(`${lines.join("\n")}\n`);
    });
  };

  await vsctl("--may-exist", "add-br", bridge);
  let baseInstalled = false;
  const ensureBase = async () => {
    if (baseInstalled) return;
    await applyBundle(baseFlows().map((l) => `add ${l}`));
    baseInstalled = true;
  };

  let uplinkOfport: number | undefined;
  const ofportOf = async (port: string) => Number((await vsctl("get", "Interface", port, "ofport")).trim());
  if (opts.uplinkPort) uplinkOfport = await ofportOf(opts.uplinkPort);

  const nicIdFree = () => {
    const used = new Set([...Object.values(journal.nics).map((n) => n.id), ...Object.values(journal.natZones)]);
    for (let id = 1; id < 65536; id++) if (!used.has(id)) return id;
    throw new BackendError("no_free_zone", "all conntrack zones are in use", 507);
  };
  /** A conntrack zone for a VNI's NAT: from the top of the 16-bit range down, skipping NIC ids and other VNIs' zones. */
  const natZoneFree = () => {
    const used = new Set([...Object.values(journal.nics).map((n) => n.id), ...Object.values(journal.natZones)]);
    for (let z = 65535; z >= 1; z--) if (!used.has(z)) return z;
    throw new BackendError("no_free_zone", "all conntrack zones are in use", 507);
  };
  /** Drops the NAT zone's connections `before` had and `after` does not (ovs-ofctl ct-flush, partial tuples: OVS 3.1). */
  const flushNat = async (zone: number | undefined, before: ExternalSpec | undefined, after: ExternalSpec | undefined) => {
    if (zone === undefined || !before) return;
    if (!after) {
      await run("ovs-ofctl", ["ct-flush-zone", bridge, String(zone)], { env });
      return;
    }
    const kept = new Set(after.floatingIps.map((f) => `${f.ip}>${f.fixedIp}`));
    for (const f of before.floatingIps) {
      if (kept.has(`${f.ip}>${f.fixedIp}`)) continue;
      // Inbound to the floating IP (original destination), and outbound of its former address NATed to it (original
      // source, reply destination); that address's SNATed connections stay.
      await run("ovs-ofctl", ["ct-flush", bridge, `zone=${zone}`, `ct_nw_dst=${f.ip}`], { env });
      await run("ovs-ofctl", ["ct-flush", bridge, `zone=${zone}`, `ct_nw_src=${f.fixedIp}`, `ct_nw_dst=${f.ip}`], { env });
    }
  };
  /**
   * Announces, out of the uplink, the provider addresses `after` holds that `before` did not (a floating IP moved here
   * from another DPU, a new SNAT address, a new provider MAC): one gratuitous ARP each. Best effort: a provider
   * segment that misses it still learns by ARP, only later.
   */
  const announce = async (before: ExternalSpec | undefined, after: ExternalSpec | undefined) => {
    if (!after || uplinkOfport === undefined) return;
    const had = new Set(before && before.mac === after.mac && before.vlanId === after.vlanId ? [...before.floatingIps.map((f) => f.ip), before.snatIp] : []);
    for (const ip of [...after.floatingIps.map((f) => f.ip), after.snatIp]) {
      if (!ip || had.has(ip)) continue;
      const packet = gratuitousArp(after.mac, ip, after.vlanId);
      await run("ovs-ofctl", ["-O", "OpenFlow13", "packet-out", bridge, `in_port=controller packet=${packet} actions=output:${uplinkOfport}`], { env }).catch(
        () => undefined,
      );
    }
  };
  const vniTag = (vni: number) => Object.values(journal.nics).find((n) => n.vni === vni)?.tag;
  const tagFor = (spec: NicSpec): number => {
    const nics = Object.values(journal.nics);
    if (spec.network.type === "vlan") {
      const vlanId = spec.network.vlanId;
      const clash = nics.find((n) => n.vni !== undefined && n.tag === vlanId);
      if (clash)
        throw conflict(
          "vlan_reserved",
          `VLAN ${vlanId} is this DPU's local VLAN for VNI ${clash.vni}; VLAN networks in ${vlanLo}-${vlanHi} cannot share a DPU with VXLAN networks using that id`,
          "network.vlanId",
        );
      return vlanId;
    }
    const existing = vniTag(spec.network.vni);
    if (existing !== undefined) return existing;
    const taken = new Set(nics.map((n) => n.tag));
    for (let t = vlanHi; t >= vlanLo; t--) if (!taken.has(t)) return t;
    throw new BackendError("no_local_vlan", `no free local VLAN in ${vlanLo}-${vlanHi} for VNI ${spec.network.vni}`, 507);
  };
  const tunnelName = (vni: number, ip: string) => `vx-${createHash("sha1").update(`${vni}/${ip}`).digest("hex").slice(0, 8)}`;
  /** Tunnel ports wanted: for every VNI with a NIC here (it has a local VLAN), the union of the VNI's overlay remote
   *  VTEPs and the remoteIps NICs were created with (the older per-NIC form, still accepted). */
  const wantedTunnels = () => {
    const want = new Map<string, { vni: number; ip: string; tag: number }>();
    const add = (vni: number, ip: string, tag: number) => {
      if (ip !== opts.vxlanLocalIp) want.set(tunnelName(vni, ip), { vni, ip, tag });
    };
    for (const n of Object.values(journal.nics)) {
      if (n.vni === undefined) continue;
      for (const ip of n.remoteIps) add(n.vni, ip, n.tag);
      for (const ip of journal.overlays[n.vni]?.remoteIps ?? []) add(n.vni, ip, n.tag);
    }
    return want;
  };
  const syncTunnels = async () => {
    const want = wantedTunnels();
    const have = (
      await vsctl(
        "--format=csv",
        "--data=bare",
        "--no-headings",
        "--columns=name",
        "find",
        "Port",
        `external_ids:anvil-owner=${owner}`,
        "external_ids:anvil-kind=vxlan",
      )
    )
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const name of have) if (!want.has(name)) await vsctl("--if-exists", "del-port", bridge, name);
    for (const [name, t] of want) {
      if (have.includes(name)) continue;
      await vsctl(
        "--may-exist",
        "add-port",
        bridge,
        name,
        `tag=${t.tag}`,
        "--",
        "set",
        "Interface",
        name,
        "type=vxlan",
        `options:remote_ip=${t.ip}`,
        `options:key=${t.vni}`,
        ...(opts.vxlanLocalIp ? [`options:local_ip=${opts.vxlanLocalIp}`] : []),
        "--",
        "set",
        "Port",
        name,
        `external_ids:anvil-owner=${owner}`,
        "external_ids:anvil-kind=vxlan",
        `external_ids:anvil-vni=${t.vni}`,
      );
    }
  };

  const flowsFor = (j: NicJournal, spec: NicSpec) =>
    nicFlows({
      id: j.id,
      ofport: j.ofport,
      mac: spec.mac,
      netKey: networkKey(spec.network),
      network: spec.network.type === "vlan" ? { type: "vlan", vlanId: spec.network.vlanId, uplinkOfport } : { type: "vxlan", vni: spec.network.vni },
      rules: spec.rules,
    });

  const cidataDir = (name: string) => join(opts.stateDir, "cidata", name);

  let dpuOs = opts.dpuOs;
  if (!dpuOs) {
    try {
      dpuOs = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(await readFile("/etc/os-release", "utf8"))?.[1];
    } catch {
      // fall through
    }
  }

  return {
    kind: "linux",
    dpuOs: dpuOs ?? "Linux",
    underlayIp: opts.vxlanLocalIp,

    attachDisk(name: string, spec: DiskSpec, fn: PcieFunction): Promise<DiskAttachment> {
      return emulation.attachDisk(name, spec, fn);
    },

    detachDisk(name: string): Promise<void> {
      return emulation.detachDisk(name);
    },

    async publishCidata(name: string, _spec: CidataSpec, files: CidataFiles, fn: PcieFunction): Promise<CidataAttachment> {
      const dir = cidataDir(name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const names = Object.keys(files) as (keyof CidataFiles)[];
      for (const f of names) await writeFile(join(dir, f), files[f]!);
      await run("genisoimage", ["-quiet", "-output", "seed.iso", "-volid", "cidata", "-joliet", "-rock", ...names], { cwd: dir, env });
      return emulation.attachSeed(name, join(dir, "seed.iso"), fn);
    },

    async cidataImage(name: string): Promise<Buffer> {
      return readFile(join(cidataDir(name), "seed.iso"));
    },

    async removeCidata(name: string): Promise<void> {
      await emulation.detachSeed(name);
      await rm(cidataDir(name), { recursive: true, force: true });
    },

    async createNic(name: string, spec: NicSpec, fn: PcieFunction): Promise<NicAttachment> {
      await ensureBase();
      const tag = tagFor(spec);
      const nicFn = await emulation.createNicFunction(name, spec, fn);
      const port = nicFn.port;
      const j: NicJournal = {
        id: nicIdFree(),
        port,
        ofport: ofportBase + fn.vf,
        tag,
        ...(spec.network.type === "vxlan" ? { vni: spec.network.vni } : {}),
        remoteIps: spec.network.type === "vxlan" ? (spec.network.remoteIps ?? []) : [],
      };
      try {
        // Flows first (they match the requested ofport), then the port: no moment where the port switches unfiltered.
        await applyBundle([`delete cookie=${cookieMatch(j.id)}`, ...flowsFor(j, spec).map((l) => `add ${l}`)]);
      } catch (err) {
        await emulation.deleteNicFunction(name).catch(() => undefined);
        throw err;
      }
      journal.nics[name] = j;
      await save();
      try {
        await vsctl(
          "--if-exists",
          "del-port",
          bridge,
          port,
          "--",
          "add-port",
          bridge,
          port,
          `tag=${tag}`,
          "--",
          "set",
          "Interface",
          port,
          ...(nicFn.portType ? [`type=${nicFn.portType}`] : []),
          `ofport_request=${j.ofport}`,
          `mtu_request=${spec.mtu}`,
          `external_ids:iface-id=${name}`,
          `external_ids:attached-mac=${spec.mac}`,
          "--",
          "set",
          "Port",
          port,
          `external_ids:anvil-owner=${owner}`,
          "external_ids:anvil-kind=nic",
        );
        const got = await ofportOf(port);
        if (got !== j.ofport) throw new BackendError("ofport_taken", `port ${port} got ofport ${got} instead of ${j.ofport} (another port holds it)`);
        await syncTunnels();
      } catch (err) {
        await vsctl("--if-exists", "del-port", bridge, port).catch(() => undefined);
        await applyBundle([`delete cookie=${cookieMatch(j.id)}`]).catch(() => undefined);
        await emulation.deleteNicFunction(name).catch(() => undefined);
        delete journal.nics[name];
        await save();
        await syncTunnels().catch(() => undefined);
        throw err;
      }
      return { port };
    },

    async updateNicRules(name: string, spec: NicSpec): Promise<void> {
      const j = journal.nics[name];
      if (!j) throw new BackendError("not_on_bridge", `NIC ${name} is not on ${bridge}`);
      await applyBundle([`delete cookie=${cookieMatch(j.id)}`, ...flowsFor(j, spec).map((l) => `add ${l}`)]);
    },

    async deleteNic(name: string): Promise<void> {
      const j = journal.nics[name];
      if (!j) {
        await emulation.deleteNicFunction(name);
        return;
      }
      await applyBundle([`delete cookie=${cookieMatch(j.id)}`]);
      await vsctl("--if-exists", "del-port", bridge, j.port);
      await emulation.deleteNicFunction(name);
      delete journal.nics[name];
      await save();
      await syncTunnels();
    },

    async putOverlay(vni: number, spec: OverlaySpec): Promise<void> {
      const external = spec.router?.external;
      if (external && uplinkOfport === undefined)
        throw conflict("no_uplink", "this DPU has no uplink port (agent option uplinkPort), so it cannot reach a provider network", "router.external");
      await ensureBase();
      const zone = external ? (journal.natZones[vni] ?? natZoneFree()) : undefined;
      // The ARP / ND table, the router and its NAT first (one bundle: the old flows go and the new ones come at once, so a
      // floating IP moved to another address answers there from the next packet), then the tunnels.
      const v6 = spec.neighbors.some((n) => n.ip.includes(":")) || (spec.router?.subnets.some((s) => s.gateway.includes(":")) ?? false);
      const flows = [
        ...(v6 ? ndFlows(vni) : []),
        ...arpResponderFlows(vni, spec.neighbors),
        ...(spec.router ? routerFlows(vni, spec.router, spec.neighbors) : []),
        ...(spec.router && zone !== undefined ? natFlows(vni, spec.router, spec.neighbors, { uplinkOfport: uplinkOfport!, zone }) : []),
      ];
      await applyBundle([`delete cookie=${overlayCookie(vni)}/-1`, ...flows.map((l) => `add ${l}`)]);
      // Then the conntrack bindings the new flows no longer make (before the journal, so a failed flush is retried by
      // the next PUT of the same spec): every connection of a floating IP that moved or went, so the next packet of
      // the same connection meets the new mapping instead of the old binding; the whole zone when NAT goes away.
      await flushNat(journal.natZones[vni], journal.overlays[vni]?.router?.external, zone === undefined ? undefined : external);
      await announce(journal.overlays[vni]?.router?.external, zone === undefined ? undefined : external);
      journal.overlays[vni] = spec;
      if (zone !== undefined) journal.natZones[vni] = zone;
      else delete journal.natZones[vni];
      await save();
      await syncTunnels();
    },

    async deleteOverlay(vni: number): Promise<void> {
      await applyBundle([`delete cookie=${overlayCookie(vni)}/-1`]);
      await flushNat(journal.natZones[vni], journal.overlays[vni]?.router?.external, undefined);
      delete journal.overlays[vni];
      delete journal.natZones[vni];
      await save();
      await syncTunnels();
    },

    restoredOverlays(): Record<number, OverlaySpec> {
      return Object.fromEntries(Object.entries(journal.overlays).map(([vni, spec]) => [Number(vni), spec]));
    },

    async reset(): Promise<void> {
      const failures = await emulation.reset();
      await rm(join(opts.stateDir, "cidata"), { recursive: true, force: true });
      // Every port the agent marked as its own, and every flow with the agent's cookie prefix.
      const ports = (await vsctl("--format=csv", "--data=bare", "--no-headings", "--columns=name", "find", "Port", `external_ids:anvil-owner=${owner}`))
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const p of ports) await vsctl("--if-exists", "del-port", bridge, p);
      // Back to a fresh bridge: only OVS's own default flow.
      await applyBundle([`delete cookie=${allAgentCookies()}`, "add table=0,priority=0,actions=NORMAL"]);
      baseInstalled = false;
      journal.nics = {};
      journal.overlays = {};
      journal.natZones = {};
      await save();
      if (failures.length) throw new BackendError("reset_incomplete", `reset left objects behind: ${failures.join("; ")}`);
    },

    async close(): Promise<void> {
      await emulation.close?.();
    },
  };
}
