// The agent's state and rules, independent of HTTP: which disks, seed images and NICs exist, which PCIe
// function each one occupies, idempotent create (same name + same spec = same answer), conflicts, and
// serialization of concurrent calls on the same name. The data plane work is delegated to an AgentBackend.
// State is in memory on purpose: the BFF re-asserts desired state (PUT is idempotent), and POST /v1/reset plus
// backend.reset() clean up whatever a previous run left behind. Per-agent memory stays small (the lab runs 10k).
import { createHash } from "node:crypto";
import { AgentError, conflict, invalid, notFound } from "./errors";
import type { AgentBackend, BoundTo, CidataFiles, FunctionKind, HostDevice, PcieFunction } from "./backends/types";
import { portableNetworkConfig } from "./network-config";
import type { RuleSet } from "./rules";
import {
  type CidataSpec,
  type DiskSpec,
  diskTargetId,
  type NicRulesOutcome,
  type NicSpec,
  type OverlaySpec,
  type PublicDiskSpec,
  publicDiskSpec,
} from "./schemas";
import { toYaml } from "./yaml";

export const AGENT_VERSION = "0.1.0";

/** PF numbering of the emulated functions: disks and seed images are virtio-blk VFs of PF 0, NICs virtio-net VFs of PF 1. */
export const BLK_PF = 0;
export const NET_PF = 1;

type State = "attaching" | "attached" | "detaching";

interface Base<S> {
  name: string;
  spec: S;
  key: string;
  fn: PcieFunction;
  state: State;
  createdAt: Date;
}
interface DiskRecord extends Base<DiskSpec> {
  bdev?: string;
  endpoint?: string;
}
interface CidataRecord extends Base<CidataSpec> {
  bdev?: string;
  endpoint?: string;
}
interface NicRecord extends Base<NicSpec> {
  port?: string;
}

/** The resource named `name`, or the not-found error naming its kind. */
function mustGet<R>(map: Map<string, R>, kind: string, name: string): R {
  const rec = map.get(name);
  if (!rec) throw notFound(kind, name);
  return rec;
}

export interface PutResult<T> {
  created: boolean;
  resource: T;
}

export type DiskView = PublicDiskSpec & {
  name: string;
  state: State;
  function: PcieFunction;
  bdev?: string;
  endpoint?: string;
  createdAt: string;
};
export interface CidataView {
  name: string;
  state: State;
  function: PcieFunction;
  metaData: CidataSpec["metaData"];
  files: string[];
  userDataBytes: number;
  bdev?: string;
  endpoint?: string;
  createdAt: string;
}
/** A NIC as the agent reports it; `rulesHash` (sha256 of the canonical JSON of the rules it enforces) lets the BFF see
 *  that the rules it pushed are the ones in place — after an agent restart they are not. */
export type NicView = NicSpec & { name: string; state: State; function: PcieFunction; port?: string; rulesHash: string; createdAt: string };

/** A VNI's overlay as the agent reports it; `hash` (sha256 of the canonical JSON of the normalized spec) lets the BFF
 *  see that what it pushed is in place. */
export type OverlayView = OverlaySpec & { vni: number; hash: string; updatedAt: string };

/** The hash of a rule set as NIC views report it. */
export function rulesHash(rules: RuleSet): string {
  return createHash("sha256").update(canonicalJson(rules)).digest("hex");
}

/** JSON with sorted keys, so two specs with the same meaning compare equal regardless of key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export function renderCidataFiles(spec: CidataSpec): CidataFiles {
  return {
    "user-data": Buffer.from(spec.userData, "utf8"),
    "meta-data": Buffer.from(toYaml(spec.metaData as Record<string, unknown>), "utf8"),
    // Default routes rewritten so every renderer of the guest's cloud-init reads them (agent/network-config.ts).
    ...(spec.networkConfig ? { "network-config": Buffer.from(toYaml(portableNetworkConfig(spec.networkConfig) as Record<string, unknown>), "utf8") } : {}),
  };
}

export interface AgentCoreOptions {
  backend: AgentBackend;
  /** VFs available per emulated PF (BlueField exposes up to hundreds; keep the default modest). */
  maxVfsPerPf?: number;
}

export class AgentCore {
  readonly backend: AgentBackend;
  readonly startedAt = Date.now();
  private readonly maxVfs: number;
  private readonly disks = new Map<string, DiskRecord>();
  private readonly cidata = new Map<string, CidataRecord>();
  private readonly nics = new Map<string, NicRecord>();
  private readonly overlays = new Map<number, { spec: OverlaySpec; key: string; updatedAt: Date }>();
  /** VFs in use per PF. */
  private readonly used: [Set<number>, Set<number>] = [new Set(), new Set()];
  /** Tail of the queue of operations per resource key; absent when idle (keeps idle agents small). */
  private readonly locks = new Map<string, Promise<unknown>>();
  private resetting: Promise<unknown> | undefined;

  constructor(opts: AgentCoreOptions) {
    this.backend = opts.backend;
    this.maxVfs = opts.maxVfsPerPf ?? 64;
    // Overlays outlive an agent restart (the linux backend journals them and its tunnels and flows stay in OVS).
    for (const [vni, spec] of Object.entries(this.backend.restoredOverlays?.() ?? {}))
      this.overlays.set(Number(vni), { spec, key: canonicalJson(spec), updatedAt: new Date() });
  }

  // ---- plumbing ---------------------------------------------------------------------------------------------

  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    while (this.resetting) await this.resetting.catch(() => undefined);
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(fn);
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }

  private allocate(kind: FunctionKind): PcieFunction {
    const pf = kind === "virtio-blk" ? BLK_PF : NET_PF;
    const used = this.used[pf];
    for (let vf = 0; vf < this.maxVfs; vf++) {
      if (!used.has(vf)) {
        used.add(vf);
        return { pf, vf, kind };
      }
    }
    throw new AgentError(507, "no_free_function", `all ${this.maxVfs} ${kind} functions of PF ${pf} are in use`);
  }

  /** Records a new resource with a fresh function and attaches it through `attach`; if that fails it is forgotten. */
  private async attachNew<R extends Base<unknown>>(
    map: Map<string, R>,
    rec: Pick<R, "name" | "spec" | "key">,
    kind: FunctionKind,
    attach: (fn: PcieFunction, createdAt: Date) => Promise<Partial<R>>,
  ): Promise<R> {
    const full = { ...rec, fn: this.allocate(kind), state: "attaching", createdAt: new Date() } as R;
    map.set(rec.name, full);
    try {
      Object.assign(full, await attach(full.fn, full.createdAt));
      full.state = "attached";
    } catch (err) {
      map.delete(rec.name);
      this.release(full.fn);
      throw err;
    }
    return full;
  }

  /** Detaches a resource through `detach`, then forgets it and frees its function; if that fails it stays attached. */
  private async detachAndForget<R extends Base<unknown>>(map: Map<string, R>, kind: string, name: string, detach: (rec: R) => Promise<unknown>): Promise<void> {
    const rec = mustGet(map, kind, name);
    rec.state = "detaching";
    try {
      await detach(rec);
    } catch (err) {
      rec.state = "attached";
      throw err;
    }
    map.delete(name);
    this.release(rec.fn);
    this.changed();
  }

  private release(fn: PcieFunction): void {
    this.used[fn.pf].delete(fn.vf);
  }

  hostDevices(): HostDevice[] {
    const out: HostDevice[] = [];
    for (const d of this.disks.values()) {
      out.push({
        function: d.fn,
        boundTo: { type: "disk", name: d.name },
        bootable: d.spec.role === "boot" && d.state === "attached",
        readOnly: d.spec.readOnly,
      });
    }
    for (const c of this.cidata.values()) out.push({ function: c.fn, boundTo: { type: "cidata", name: c.name }, bootable: false, readOnly: true });
    for (const n of this.nics.values()) out.push({ function: n.fn, boundTo: { type: "nic", name: n.name }, bootable: false, mac: n.spec.mac });
    return out.sort((a, b) => a.function.pf - b.function.pf || a.function.vf - b.function.vf);
  }

  private changed(): void {
    this.backend.hostDevicesChanged?.(this.hostDevices());
  }

  // ---- health / inventory -----------------------------------------------------------------------------------

  health() {
    return {
      status: "ok" as const,
      agentVersion: AGENT_VERSION,
      backend: this.backend.kind,
      dpuOs: this.backend.dpuOs,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      underlayIp: this.backend.underlayIp ?? null,
      counts: { disks: this.disks.size, cidata: this.cidata.size, nics: this.nics.size, overlays: this.overlays.size },
    };
  }

  inventory() {
    const functions = this.hostDevices().map((d) => ({ ...d.function, boundTo: d.boundTo as BoundTo, bootable: d.bootable }));
    return {
      agentVersion: AGENT_VERSION,
      backend: this.backend.kind,
      dpuOs: this.backend.dpuOs,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      physicalFunctions: [
        { pf: BLK_PF, kind: "virtio-blk" as const, maxVfs: this.maxVfs, vfsInUse: this.used[BLK_PF].size },
        { pf: NET_PF, kind: "virtio-net" as const, maxVfs: this.maxVfs, vfsInUse: this.used[NET_PF].size },
      ],
      functions,
    };
  }

  // ---- disks ------------------------------------------------------------------------------------------------

  private diskView(d: DiskRecord): DiskView {
    return {
      name: d.name,
      ...publicDiskSpec(d.spec),
      state: d.state,
      function: d.fn,
      bdev: d.bdev,
      endpoint: d.endpoint,
      createdAt: d.createdAt.toISOString(),
    };
  }

  listDisks(): DiskView[] {
    return [...this.disks.values()].map((d) => this.diskView(d));
  }

  getDisk(name: string): DiskView {
    const d = mustGet(this.disks, "disk", name);
    return this.diskView(d);
  }

  putDisk(name: string, spec: DiskSpec): Promise<PutResult<DiskView>> {
    return this.locked(`disk:${name}`, async () => {
      const key = canonicalJson(spec);
      const existing = this.disks.get(name);
      if (existing) {
        if (existing.key === key) return { created: false, resource: this.diskView(existing) };
        throw conflict("disk_exists", `disk "${name}" is already attached with a different spec; DELETE it first to change it`);
      }
      const target = diskTargetId(spec);
      for (const other of this.disks.values()) {
        if (diskTargetId(other.spec) === target) throw conflict("target_in_use", `target ${target} is already attached as disk "${other.name}"`, "target");
        if (spec.role === "boot" && other.spec.role === "boot")
          throw conflict("boot_disk_exists", `disk "${other.name}" is already the boot disk; a host has one`, "role");
      }
      const rec = await this.attachNew<DiskRecord>(this.disks, { name, spec, key }, "virtio-blk", async (fn) => {
        const att = await this.backend.attachDisk(name, spec, fn);
        return { bdev: att.bdev, endpoint: att.endpoint };
      });
      this.changed();
      return { created: true, resource: this.diskView(rec) };
    });
  }

  deleteDisk(name: string): Promise<void> {
    return this.locked(`disk:${name}`, async () => {
      await this.detachAndForget(this.disks, "disk", name, (d) => this.backend.detachDisk(name, d.spec, d.fn));
    });
  }

  // ---- cidata -----------------------------------------------------------------------------------------------

  private cidataView(c: CidataRecord): CidataView {
    return {
      name: c.name,
      state: c.state,
      function: c.fn,
      metaData: c.spec.metaData,
      files: Object.keys(renderCidataFiles(c.spec)),
      userDataBytes: Buffer.byteLength(c.spec.userData, "utf8"),
      bdev: c.bdev,
      endpoint: c.endpoint,
      createdAt: c.createdAt.toISOString(),
    };
  }

  listCidata(): CidataView[] {
    return [...this.cidata.values()].map((c) => this.cidataView(c));
  }

  getCidata(name: string): CidataView {
    const c = mustGet(this.cidata, "cidata image", name);
    return this.cidataView(c);
  }

  putCidata(name: string, spec: CidataSpec): Promise<PutResult<CidataView>> {
    return this.locked(`cidata:${name}`, async () => {
      const key = canonicalJson(spec);
      const existing = this.cidata.get(name);
      if (existing) {
        if (existing.key === key) return { created: false, resource: this.cidataView(existing) };
        throw conflict("cidata_exists", `cidata image "${name}" already exists with different content; DELETE it first`);
      }
      const rec = await this.attachNew<CidataRecord>(this.cidata, { name, spec, key }, "virtio-blk", async (fn, createdAt) => {
        const att = await this.backend.publishCidata(name, spec, renderCidataFiles(spec), fn, createdAt);
        return { bdev: att.bdev, endpoint: att.endpoint };
      });
      this.changed();
      return { created: true, resource: this.cidataView(rec) };
    });
  }

  async cidataImage(name: string): Promise<Buffer> {
    const c = this.cidata.get(name);
    if (!c || c.state === "attaching") throw notFound("cidata image", name);
    return this.backend.cidataImage(name, renderCidataFiles(c.spec), c.createdAt);
  }

  deleteCidata(name: string): Promise<void> {
    return this.locked(`cidata:${name}`, async () => {
      await this.detachAndForget(this.cidata, "cidata image", name, (c) => this.backend.removeCidata(name, c.fn));
    });
  }

  // ---- NICs -------------------------------------------------------------------------------------------------

  private nicView(n: NicRecord): NicView {
    return { name: n.name, ...n.spec, state: n.state, function: n.fn, port: n.port, rulesHash: rulesHash(n.spec.rules), createdAt: n.createdAt.toISOString() };
  }

  listNics(): NicView[] {
    return [...this.nics.values()].map((n) => this.nicView(n));
  }

  getNic(name: string): NicView {
    const n = mustGet(this.nics, "NIC", name);
    return this.nicView(n);
  }

  putNic(name: string, spec: NicSpec): Promise<PutResult<NicView>> {
    return this.locked(`nic:${name}`, async () => {
      const key = canonicalJson(spec);
      const existing = this.nics.get(name);
      if (existing) {
        if (existing.key === key) return { created: false, resource: this.nicView(existing) };
        const { rules: _a, ...wanted } = spec;
        const { rules: _b, ...have } = existing.spec;
        if (canonicalJson(wanted) !== canonicalJson(have)) {
          throw conflict("nic_exists", `NIC "${name}" already exists with a different MAC, network or MTU; DELETE it first (only rules can change in place)`);
        }
        await this.applyRules(existing, spec.rules);
        return { created: false, resource: this.nicView(existing) };
      }
      for (const other of this.nics.values()) {
        if (other.spec.mac === spec.mac) throw conflict("mac_in_use", `MAC ${spec.mac} is already used by NIC "${other.name}"`, "mac");
      }
      const rec = await this.attachNew<NicRecord>(this.nics, { name, spec, key }, "virtio-net", async (fn) => {
        const att = await this.backend.createNic(name, spec, fn);
        return { port: att.port };
      });
      this.changed();
      return { created: true, resource: this.nicView(rec) };
    });
  }

  private async applyRules(rec: NicRecord, rules: RuleSet): Promise<void> {
    const spec = { ...rec.spec, rules };
    const key = canonicalJson(spec);
    if (key === rec.key) return;
    await this.backend.updateNicRules(rec.name, spec, rec.fn);
    rec.spec = spec;
    rec.key = key;
  }

  putNicRules(name: string, rules: RuleSet): Promise<NicView> {
    return this.locked(`nic:${name}`, async () => {
      const n = mustGet(this.nics, "NIC", name);
      await this.applyRules(n, rules);
      return this.nicView(n);
    });
  }

  /**
   * Replaces the rules of several NICs, each on its own as `putNicRules` does (a NIC that is missing or whose data plane
   * fails does not stop the others); says per NIC the hash of the rules it now enforces, or why not.
   */
  async putNicRulesBatch(items: { name: string; rules: RuleSet }[]): Promise<NicRulesOutcome[]> {
    return Promise.all(
      items.map(async ({ name, rules }): Promise<NicRulesOutcome> => {
        try {
          return { name, rulesHash: (await this.putNicRules(name, rules)).rulesHash };
        } catch (err) {
          if (!(err instanceof AgentError)) throw err;
          return { name, status: err.status, error: err.toBody().error };
        }
      }),
    );
  }

  deleteNic(name: string): Promise<void> {
    return this.locked(`nic:${name}`, async () => {
      await this.detachAndForget(this.nics, "NIC", name, (n) => this.backend.deleteNic(name, n.spec, n.fn));
    });
  }

  // ---- overlay ----------------------------------------------------------------------------------------------

  private overlayView(vni: number, o: { spec: OverlaySpec; key: string; updatedAt: Date }): OverlayView {
    return { vni, ...o.spec, hash: createHash("sha256").update(o.key).digest("hex"), updatedAt: o.updatedAt.toISOString() };
  }

  listOverlays(): OverlayView[] {
    return [...this.overlays.entries()].sort(([a], [b]) => a - b).map(([vni, o]) => this.overlayView(vni, o));
  }

  getOverlay(vni: number): OverlayView {
    const o = this.overlays.get(vni);
    if (!o) throw notFound("overlay of VNI", String(vni));
    return this.overlayView(vni, o);
  }

  /** Replaces the VNI's remote VTEPs and neighbor table; the same spec again changes nothing. */
  putOverlay(vni: number, spec: OverlaySpec): Promise<PutResult<OverlayView>> {
    return this.locked(`overlay:${vni}`, async () => {
      const own = this.backend.underlayIp;
      const selfAt = own ? spec.remoteIps.indexOf(own) : -1;
      if (selfAt >= 0) throw invalid(`${own} is this DPU's own VTEP; list only the other DPUs`, `remoteIps[${selfAt}]`, "remote_ip_is_local");
      const key = canonicalJson(spec);
      const existing = this.overlays.get(vni);
      if (existing?.key === key) return { created: false, resource: this.overlayView(vni, existing) };
      await this.backend.putOverlay(vni, spec);
      const rec = { spec, key, updatedAt: new Date() };
      this.overlays.set(vni, rec);
      return { created: !existing, resource: this.overlayView(vni, rec) };
    });
  }

  deleteOverlay(vni: number): Promise<void> {
    return this.locked(`overlay:${vni}`, async () => {
      if (!this.overlays.has(vni)) throw notFound("overlay of VNI", String(vni));
      await this.backend.deleteOverlay(vni);
      this.overlays.delete(vni);
    });
  }

  // ---- reset ------------------------------------------------------------------------------------------------

  /** Waits for in-flight operations, then removes every function, port and flow (also ones a previous run left). */
  async reset(): Promise<{ disks: number; cidata: number; nics: number }> {
    while (this.resetting) await this.resetting.catch(() => undefined);
    const run = (async () => {
      await Promise.allSettled([...this.locks.values()]);
      const removed = { disks: this.disks.size, cidata: this.cidata.size, nics: this.nics.size };
      await this.backend.reset();
      this.disks.clear();
      this.cidata.clear();
      this.nics.clear();
      this.overlays.clear();
      this.used[0].clear();
      this.used[1].clear();
      this.changed();
      return removed;
    })();
    this.resetting = run;
    try {
      return await run;
    } finally {
      this.resetting = undefined;
    }
  }
}
