// In-memory state and rules of the lab's distributed-storage service: storage nodes, disks, disk pools,
// logical pools, volumes (blank and thin clones), snapshots and NVMe-oF/iSCSI targets.
// Pure data + rules, no HTTP: every rule violation is an ApiError carrying the HTTP status and a
// message an operator can act on. Every lookup goes through a Map or an index so that a lab with
// 30,000 volumes and 10,000 targets answers each request without scanning; only paginated lists iterate.
// Volume bytes (the data plane) live in a LayerStore (data.ts): sparse files shared by snapshots and clones.
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { LayerStore } from "./data";

export type Media = "ssd" | "hdd" | "nvme";
export type Health = "ok" | "degraded" | "failed";
export type TargetProtocol = "nvme-tcp" | "iscsi";
export type Redundancy = { type: "replica"; copies: number } | { type: "ec"; data: number; parity: number };

/** A rule violation or bad input, mapped 1:1 onto the `{error:{code,message,field?,details?}}` reply. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const NQN_PREFIX = "nqn.2026-01.io.anvil:vol-";
export const IQN_PREFIX = "iqn.2026-01.io.anvil:vol-";

interface StorageNode {
  id: string;
  seq: number;
  name: string;
  address: string;
  health: Health;
  diskIds: string[];
}
interface Disk {
  id: string;
  seq: number;
  name: string;
  nodeId: string;
  sizeBytes: number;
  media: Media;
  health: Health;
  diskPoolId: string | null;
}
interface DiskPool {
  id: string;
  seq: number;
  name: string;
  diskIds: string[];
  capacityBytes: number;
  /** Raw bytes consumed on the disks: thick pools reserve size × redundancy, thin pools consume written bytes × redundancy. */
  allocatedRawBytes: number;
  logicalPoolIds: Set<string>;
  createdAt: string;
}
interface LogicalPool {
  id: string;
  seq: number;
  name: string;
  diskPoolId: string;
  redundancy: Redundancy;
  thinProvisioned: boolean;
  overcommitRatio: number;
  provisionedBytes: number;
  usedBytes: number;
  volumeIds: Set<string>;
  volumeNames: Map<string, string>;
  createdAt: string;
}
interface Volume {
  id: string;
  seq: number;
  name: string;
  logicalPoolId: string;
  sizeBytes: number;
  /** Bytes this volume allocated itself (writes, or data copied in by flatten); a fresh clone has 0. */
  usedBytes: number;
  multiAttach: boolean;
  sourceSnapshotId: string | null;
  /** The volume's own bytes (a layer in the LayerStore); null = none written: zeros, or a clone's parent snapshot's bytes. */
  layer: string | null;
  snapshotIds: Set<string>;
  snapshotNames: Map<string, string>;
  createdAt: string;
}
interface Snapshot {
  id: string;
  seq: number;
  name: string;
  volumeId: string;
  sizeBytes: number;
  /** Data the snapshot references (the volume's own data plus what it inherited from its parent). */
  dataBytes: number;
  /** The frozen bytes: the layer the volume read from when the snapshot was taken. */
  layer: string | null;
  cloneIds: Set<string>;
  createdAt: string;
}
interface Target {
  id: string;
  seq: number;
  volumeId: string;
  protocol: TargetProtocol;
  initiator: string;
  createdAt: string;
  lastConnectedAt: string | null;
}

export interface TopologyOptions {
  nodes: number;
  disksPerNode: number;
  diskSizeBytes: number;
  media: Media;
  targetAddress: string;
  nvmePort: number;
  iscsiPort: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function now(): string {
  return new Date().toISOString();
}

function checkName(name: string, field = "name"): void {
  if (!NAME_RE.test(name)) {
    throw new ApiError(400, "invalid_name", `${field} must be 1-63 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`, field);
  }
}

function notFound(kind: string, id: string, field?: string): ApiError {
  return new ApiError(404, "not_found", `${kind} ${id} does not exist`, field);
}

export function efficiency(r: Redundancy): number {
  return r.type === "replica" ? 1 / r.copies : r.data / (r.data + r.parity);
}

/** Raw disk bytes needed to store `bytes` of user data under a redundancy scheme. */
export function rawFor(bytes: number, r: Redundancy): number {
  return r.type === "replica" ? bytes * r.copies : Math.ceil((bytes * (r.data + r.parity)) / r.data);
}

/** User bytes that `raw` disk bytes can hold under a redundancy scheme. */
export function userFor(raw: number, r: Redundancy): number {
  return r.type === "replica" ? Math.floor(raw / r.copies) : Math.floor((raw * r.data) / (r.data + r.parity));
}

function describeRedundancy(r: Redundancy): string {
  return r.type === "replica" ? `${r.copies}-way replica` : `EC ${r.data}+${r.parity}`;
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const seq = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seq)) throw new ApiError(400, "invalid_cursor", "cursor is not one this service issued", "cursor");
  return seq;
}

function encodeCursor(seq: number): string {
  return Buffer.from(String(seq), "utf8").toString("base64url");
}

/** Walks records in creation order (Map/Set insertion order = seq order) from a cursor, keeping those that match. */
function paginate<R extends { seq: number }, V>(
  source: Iterable<R>,
  cursor: string | undefined,
  limit: number,
  view: (r: R) => V,
  keep: (r: R) => boolean = () => true,
): Page<V> {
  const after = decodeCursor(cursor);
  const items: V[] = [];
  let last = 0;
  for (const r of source) {
    if (r.seq <= after || !keep(r)) continue;
    if (items.length === limit) return { items, nextCursor: encodeCursor(last) };
    items.push(view(r));
    last = r.seq;
  }
  return { items, nextCursor: null };
}

function* lookup<R>(ids: Iterable<string>, map: Map<string, R>): Iterable<R> {
  for (const id of ids) {
    const r = map.get(id);
    if (r) yield r;
  }
}

export class StorageModel {
  private seq = 0;
  private readonly nodes = new Map<string, StorageNode>();
  private readonly disks = new Map<string, Disk>();
  private readonly diskPools = new Map<string, DiskPool>();
  private readonly diskPoolNames = new Map<string, string>();
  private readonly logicalPools = new Map<string, LogicalPool>();
  private readonly logicalPoolNames = new Map<string, string>();
  private readonly volumes = new Map<string, Volume>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly targets = new Map<string, Target>();
  /** volumeId -> initiator -> targetId */
  private readonly targetsByVolume = new Map<string, Map<string, string>>();
  /** initiator -> targetIds */
  private readonly targetsByInitiator = new Map<string, Set<string>>();

  constructor(
    private readonly topo: TopologyOptions,
    /** Where volume bytes live; without one the data-plane calls answer 501. */
    private readonly data?: LayerStore,
  ) {
    for (let n = 1; n <= topo.nodes; n++) {
      const node: StorageNode = {
        id: randomUUID(),
        seq: ++this.seq,
        name: `storage-${String(n).padStart(2, "0")}`,
        address: `127.0.${Math.floor(n / 250) + 1}.${(n % 250) + 1}`,
        health: "ok",
        diskIds: [],
      };
      this.nodes.set(node.id, node);
      for (let d = 1; d <= topo.disksPerNode; d++) {
        const disk: Disk = {
          id: randomUUID(),
          seq: ++this.seq,
          name: `${node.name}-disk${d}`,
          nodeId: node.id,
          sizeBytes: topo.diskSizeBytes,
          media: topo.media,
          health: "ok",
          diskPoolId: null,
        };
        this.disks.set(disk.id, disk);
        node.diskIds.push(disk.id);
      }
    }
  }

  // ---- nodes and disks (generated at start, read-only) ----

  private nodeView(n: StorageNode) {
    return { id: n.id, name: n.name, address: n.address, health: n.health, diskIds: [...n.diskIds] };
  }
  private diskView(d: Disk) {
    return { id: d.id, name: d.name, nodeId: d.nodeId, sizeBytes: d.sizeBytes, media: d.media, health: d.health, diskPoolId: d.diskPoolId };
  }
  listNodes(q: { cursor?: string; limit: number }) {
    return paginate(this.nodes.values(), q.cursor, q.limit, (n) => this.nodeView(n));
  }
  getNode(id: string) {
    const n = this.nodes.get(id);
    if (!n) throw notFound("storage node", id);
    return this.nodeView(n);
  }
  listDisks(q: { cursor?: string; limit: number; nodeId?: string; diskPoolId?: string; unassigned?: boolean; media?: Media }) {
    const source = q.nodeId !== undefined ? lookup(this.nodes.get(q.nodeId)?.diskIds ?? [], this.disks) : this.disks.values();
    return paginate(
      source,
      q.cursor,
      q.limit,
      (d) => this.diskView(d),
      (d) =>
        (q.diskPoolId === undefined || d.diskPoolId === q.diskPoolId) &&
        (q.unassigned === undefined || (d.diskPoolId === null) === q.unassigned) &&
        (q.media === undefined || d.media === q.media),
    );
  }
  getDisk(id: string) {
    const d = this.disks.get(id);
    if (!d) throw notFound("disk", id);
    return this.diskView(d);
  }

  // ---- disk pools ----

  private diskPoolView(p: DiskPool) {
    const nodeIds = new Set<string>();
    let health: Health = "ok";
    for (const id of p.diskIds) {
      const d = this.disks.get(id)!;
      nodeIds.add(d.nodeId);
      if (d.health !== "ok") health = "degraded";
    }
    return {
      id: p.id,
      name: p.name,
      diskIds: [...p.diskIds],
      nodeIds: [...nodeIds],
      capacityBytes: p.capacityBytes,
      allocatedRawBytes: p.allocatedRawBytes,
      freeRawBytes: p.capacityBytes - p.allocatedRawBytes,
      logicalPoolIds: [...p.logicalPoolIds],
      health,
      createdAt: p.createdAt,
    };
  }
  listDiskPools(q: { cursor?: string; limit: number }) {
    return paginate(this.diskPools.values(), q.cursor, q.limit, (p) => this.diskPoolView(p));
  }
  getDiskPool(id: string) {
    return this.diskPoolView(this.mustDiskPool(id));
  }
  private mustDiskPool(id: string, field?: string): DiskPool {
    const p = this.diskPools.get(id);
    if (!p) throw notFound("disk pool", id, field);
    return p;
  }
  createDiskPool(input: { name: string; diskIds: string[] }) {
    checkName(input.name);
    if (this.diskPoolNames.has(input.name)) throw new ApiError(409, "name_taken", `a disk pool named ${input.name} already exists`, "name");
    if (input.diskIds.length === 0) throw new ApiError(400, "invalid_request", "diskIds must list at least one disk", "diskIds");
    const seen = new Set<string>();
    let capacity = 0;
    for (const id of input.diskIds) {
      if (seen.has(id)) throw new ApiError(400, "duplicate_disk", `disk ${id} is listed twice`, "diskIds");
      seen.add(id);
      const d = this.disks.get(id);
      if (!d) throw new ApiError(404, "not_found", `disk ${id} does not exist`, "diskIds");
      if (d.diskPoolId !== null) {
        const owner = this.diskPools.get(d.diskPoolId)!;
        throw new ApiError(409, "disk_in_use", `disk ${d.name} (${id}) already belongs to disk pool ${owner.name}`, "diskIds", {
          diskId: id,
          diskPoolId: owner.id,
        });
      }
      capacity += d.sizeBytes;
    }
    const pool: DiskPool = {
      id: randomUUID(),
      seq: ++this.seq,
      name: input.name,
      diskIds: [...input.diskIds],
      capacityBytes: capacity,
      allocatedRawBytes: 0,
      logicalPoolIds: new Set(),
      createdAt: now(),
    };
    for (const id of pool.diskIds) this.disks.get(id)!.diskPoolId = pool.id;
    this.diskPools.set(pool.id, pool);
    this.diskPoolNames.set(pool.name, pool.id);
    return this.diskPoolView(pool);
  }
  updateDiskPool(id: string, input: { name?: string }) {
    const p = this.mustDiskPool(id);
    if (input.name !== undefined && input.name !== p.name) {
      checkName(input.name);
      if (this.diskPoolNames.has(input.name)) throw new ApiError(409, "name_taken", `a disk pool named ${input.name} already exists`, "name");
      this.diskPoolNames.delete(p.name);
      p.name = input.name;
      this.diskPoolNames.set(p.name, p.id);
    }
    return this.diskPoolView(p);
  }
  deleteDiskPool(id: string): void {
    const p = this.mustDiskPool(id);
    if (p.logicalPoolIds.size > 0) {
      const names = [...lookup(p.logicalPoolIds, this.logicalPools)].map((l) => l.name);
      throw new ApiError(409, "in_use", `disk pool ${p.name} is used by logical pool(s) ${names.join(", ")}; delete them first`, undefined, {
        logicalPoolIds: [...p.logicalPoolIds],
      });
    }
    for (const d of p.diskIds) this.disks.get(d)!.diskPoolId = null;
    this.diskPools.delete(id);
    this.diskPoolNames.delete(p.name);
  }

  // ---- logical pools ----

  private usableBytes(l: LogicalPool, dp: DiskPool): number {
    return userFor(dp.capacityBytes, l.redundancy);
  }
  private provisionLimit(l: LogicalPool, dp: DiskPool): number {
    const usable = this.usableBytes(l, dp);
    return l.thinProvisioned ? Math.floor(usable * l.overcommitRatio) : usable;
  }
  private logicalPoolView(l: LogicalPool) {
    const dp = this.diskPools.get(l.diskPoolId)!;
    const usable = this.usableBytes(l, dp);
    const limit = this.provisionLimit(l, dp);
    return {
      id: l.id,
      name: l.name,
      diskPoolId: l.diskPoolId,
      redundancy: { ...l.redundancy },
      thinProvisioned: l.thinProvisioned,
      overcommitRatio: l.overcommitRatio,
      efficiency: efficiency(l.redundancy),
      rawBytes: dp.capacityBytes,
      usableBytes: usable,
      provisionedBytes: l.provisionedBytes,
      usedBytes: l.usedBytes,
      provisionableBytes: Math.max(0, this.freeToProvision(l, dp)),
      provisionLimitBytes: limit,
      volumeCount: l.volumeIds.size,
      createdAt: l.createdAt,
    };
  }
  /** Bytes that may still be provisioned: bounded by the pool's limit and, for thick pools, by free raw space shared with sibling pools. */
  private freeToProvision(l: LogicalPool, dp: DiskPool): number {
    const byLimit = this.provisionLimit(l, dp) - l.provisionedBytes;
    if (l.thinProvisioned) return byLimit;
    return Math.min(byLimit, userFor(dp.capacityBytes - dp.allocatedRawBytes, l.redundancy));
  }
  private mustLogicalPool(id: string, field?: string): LogicalPool {
    const l = this.logicalPools.get(id);
    if (!l) throw notFound("logical pool", id, field);
    return l;
  }
  listLogicalPools(q: { cursor?: string; limit: number; diskPoolId?: string }) {
    const source = q.diskPoolId !== undefined ? lookup(this.diskPools.get(q.diskPoolId)?.logicalPoolIds ?? [], this.logicalPools) : this.logicalPools.values();
    return paginate(source, q.cursor, q.limit, (l) => this.logicalPoolView(l));
  }
  getLogicalPool(id: string) {
    return this.logicalPoolView(this.mustLogicalPool(id));
  }
  createLogicalPool(input: { name: string; diskPoolId: string; redundancy: Redundancy; thinProvisioned?: boolean; overcommitRatio?: number }) {
    checkName(input.name);
    if (this.logicalPoolNames.has(input.name)) throw new ApiError(409, "name_taken", `a logical pool named ${input.name} already exists`, "name");
    const dp = this.mustDiskPool(input.diskPoolId, "diskPoolId");
    const r = input.redundancy;
    // Failure domain is the disk: each replica / chunk of a stripe must land on a different disk.
    const width = r.type === "replica" ? r.copies : r.data + r.parity;
    if (width > dp.diskIds.length) {
      throw new ApiError(
        422,
        "redundancy_unsatisfiable",
        `${describeRedundancy(r)} needs ${width} disks but disk pool ${dp.name} has ${dp.diskIds.length}`,
        "redundancy",
      );
    }
    const thin = input.thinProvisioned ?? true;
    const ratio = input.overcommitRatio ?? 1;
    if (!thin && ratio !== 1) {
      throw new ApiError(400, "invalid_request", "overcommitRatio applies only to thin-provisioned pools; thick pools use 1.0", "overcommitRatio");
    }
    const l: LogicalPool = {
      id: randomUUID(),
      seq: ++this.seq,
      name: input.name,
      diskPoolId: dp.id,
      redundancy: { ...r },
      thinProvisioned: thin,
      overcommitRatio: ratio,
      provisionedBytes: 0,
      usedBytes: 0,
      volumeIds: new Set(),
      volumeNames: new Map(),
      createdAt: now(),
    };
    this.logicalPools.set(l.id, l);
    this.logicalPoolNames.set(l.name, l.id);
    dp.logicalPoolIds.add(l.id);
    return this.logicalPoolView(l);
  }
  updateLogicalPool(id: string, input: { name?: string; overcommitRatio?: number }) {
    const l = this.mustLogicalPool(id);
    const dp = this.diskPools.get(l.diskPoolId)!;
    if (input.overcommitRatio !== undefined && input.overcommitRatio !== l.overcommitRatio) {
      if (!l.thinProvisioned) {
        throw new ApiError(400, "invalid_request", "overcommitRatio applies only to thin-provisioned pools", "overcommitRatio");
      }
      const newLimit = Math.floor(this.usableBytes(l, dp) * input.overcommitRatio);
      if (newLimit < l.provisionedBytes) {
        throw new ApiError(
          409,
          "insufficient_capacity",
          `logical pool ${l.name} already has ${l.provisionedBytes} bytes provisioned; overcommit ${input.overcommitRatio} would allow only ${newLimit}`,
          "overcommitRatio",
          { logicalPoolId: l.id, provisionedBytes: l.provisionedBytes, limitBytes: newLimit },
        );
      }
    }
    if (input.name !== undefined && input.name !== l.name) {
      checkName(input.name);
      if (this.logicalPoolNames.has(input.name)) throw new ApiError(409, "name_taken", `a logical pool named ${input.name} already exists`, "name");
    }
    if (input.overcommitRatio !== undefined) l.overcommitRatio = input.overcommitRatio;
    if (input.name !== undefined && input.name !== l.name) {
      this.logicalPoolNames.delete(l.name);
      l.name = input.name;
      this.logicalPoolNames.set(l.name, l.id);
    }
    return this.logicalPoolView(l);
  }
  deleteLogicalPool(id: string): void {
    const l = this.mustLogicalPool(id);
    if (l.volumeIds.size > 0) {
      throw new ApiError(409, "in_use", `logical pool ${l.name} still holds ${l.volumeIds.size} volume(s); delete them first`, undefined, {
        volumeCount: l.volumeIds.size,
      });
    }
    this.logicalPools.delete(id);
    this.logicalPoolNames.delete(l.name);
    this.diskPools.get(l.diskPoolId)?.logicalPoolIds.delete(id);
  }

  // ---- capacity accounting ----

  private capacityError(l: LogicalPool, requested: number, free: number, what: string): ApiError {
    return new ApiError(
      409,
      "insufficient_capacity",
      `logical pool ${l.name} cannot ${what}: requested ${requested} bytes, ${Math.max(0, free)} bytes free (${
        l.thinProvisioned ? `thin, overcommit ${l.overcommitRatio}` : "thick"
      }, ${describeRedundancy(l.redundancy)})`,
      "sizeBytes",
      { logicalPoolId: l.id, logicalPoolName: l.name, requestedBytes: requested, freeBytes: Math.max(0, free) },
    );
  }
  /**
   * Grow a volume's provisioned size from `from` to `to` bytes (create = from 0), or throw naming the pool,
   * the request and the free bytes. Raw deltas are computed from totals so EC rounding never drifts.
   */
  private provision(l: LogicalPool, from: number, to: number, what: string): void {
    const dp = this.diskPools.get(l.diskPoolId)!;
    const delta = to - from;
    const free = this.freeToProvision(l, dp);
    if (delta > free) throw this.capacityError(l, delta, free, what);
    l.provisionedBytes += delta;
    if (!l.thinProvisioned) dp.allocatedRawBytes += rawFor(to, l.redundancy) - rawFor(from, l.redundancy);
  }
  /** Grow a volume's written bytes from `from` to `to`; thin pools consume raw space now, thick pools reserved it at provisioning. */
  private allocate(l: LogicalPool, from: number, to: number, what: string): void {
    const dp = this.diskPools.get(l.diskPoolId)!;
    const delta = to - from;
    if (l.thinProvisioned) {
      const raw = rawFor(to, l.redundancy) - rawFor(from, l.redundancy);
      const freeRaw = dp.capacityBytes - dp.allocatedRawBytes;
      if (raw > freeRaw) {
        throw new ApiError(
          409,
          "pool_full",
          `logical pool ${l.name} is out of physical space to ${what}: requested ${delta} bytes, ${userFor(freeRaw, l.redundancy)} bytes free on disk pool ${dp.name}`,
          "bytes",
          { logicalPoolId: l.id, requestedBytes: delta, freeBytes: userFor(freeRaw, l.redundancy) },
        );
      }
      dp.allocatedRawBytes += raw;
    }
    l.usedBytes += delta;
  }

  // ---- volumes ----

  private referencedBytes(v: Volume): number {
    const parent = v.sourceSnapshotId ? this.snapshots.get(v.sourceSnapshotId) : undefined;
    return Math.min(v.sizeBytes, v.usedBytes + (parent?.dataBytes ?? 0));
  }
  private volumeView(v: Volume) {
    const targetCount = this.targetsByVolume.get(v.id)?.size ?? 0;
    return {
      id: v.id,
      name: v.name,
      logicalPoolId: v.logicalPoolId,
      sizeBytes: v.sizeBytes,
      usedBytes: v.usedBytes,
      referencedBytes: this.referencedBytes(v),
      multiAttach: v.multiAttach,
      sourceSnapshotId: v.sourceSnapshotId,
      snapshotCount: v.snapshotIds.size,
      targetCount,
      status: targetCount > 0 ? ("exported" as const) : ("available" as const),
      createdAt: v.createdAt,
    };
  }
  private mustVolume(id: string, field?: string): Volume {
    const v = this.volumes.get(id);
    if (!v) throw notFound("volume", id, field);
    return v;
  }
  listVolumes(q: { cursor?: string; limit: number; logicalPoolId?: string; sourceSnapshotId?: string; name?: string }) {
    let source: Iterable<Volume>;
    if (q.logicalPoolId !== undefined && q.name !== undefined) {
      const id = this.logicalPools.get(q.logicalPoolId)?.volumeNames.get(q.name);
      source = lookup(id ? [id] : [], this.volumes);
    } else if (q.sourceSnapshotId !== undefined) {
      source = lookup(this.snapshots.get(q.sourceSnapshotId)?.cloneIds ?? [], this.volumes);
    } else if (q.logicalPoolId !== undefined) {
      source = lookup(this.logicalPools.get(q.logicalPoolId)?.volumeIds ?? [], this.volumes);
    } else {
      source = this.volumes.values();
    }
    return paginate(
      source,
      q.cursor,
      q.limit,
      (v) => this.volumeView(v),
      (v) =>
        (q.logicalPoolId === undefined || v.logicalPoolId === q.logicalPoolId) &&
        (q.sourceSnapshotId === undefined || v.sourceSnapshotId === q.sourceSnapshotId) &&
        (q.name === undefined || v.name === q.name),
    );
  }
  getVolume(id: string) {
    return this.volumeView(this.mustVolume(id));
  }
  private checkVolumeName(l: LogicalPool, name: string): void {
    checkName(name);
    if (l.volumeNames.has(name)) {
      throw new ApiError(409, "name_taken", `logical pool ${l.name} already has a volume named ${name}`, "name", {
        volumeId: l.volumeNames.get(name),
      });
    }
  }
  private insertVolume(l: LogicalPool, v: Omit<Volume, "id" | "seq" | "createdAt" | "snapshotIds" | "snapshotNames" | "layer">): Volume {
    const vol: Volume = { ...v, id: randomUUID(), seq: ++this.seq, layer: null, snapshotIds: new Set(), snapshotNames: new Map(), createdAt: now() };
    this.volumes.set(vol.id, vol);
    l.volumeIds.add(vol.id);
    l.volumeNames.set(vol.name, vol.id);
    return vol;
  }
  createVolume(input: { name: string; logicalPoolId: string; sizeBytes: number; multiAttach?: boolean }) {
    const l = this.mustLogicalPool(input.logicalPoolId, "logicalPoolId");
    this.checkVolumeName(l, input.name);
    this.provision(l, 0, input.sizeBytes, `provision volume ${input.name}`);
    const v = this.insertVolume(l, {
      name: input.name,
      logicalPoolId: l.id,
      sizeBytes: input.sizeBytes,
      usedBytes: 0,
      multiAttach: input.multiAttach ?? false,
      sourceSnapshotId: null,
    });
    return this.volumeView(v);
  }
  /** Thin clone: O(1), shares the snapshot's data; the clone allocates nothing until written. */
  cloneVolume(input: { name: string; sourceSnapshotId: string; logicalPoolId?: string; sizeBytes?: number; multiAttach?: boolean }) {
    const s = this.snapshots.get(input.sourceSnapshotId);
    if (!s) throw notFound("snapshot", input.sourceSnapshotId, "sourceSnapshotId");
    const source = this.volumes.get(s.volumeId)!;
    const l = this.logicalPools.get(source.logicalPoolId)!;
    if (input.logicalPoolId !== undefined && input.logicalPoolId !== l.id) {
      throw new ApiError(
        422,
        "cross_pool_clone",
        `a clone shares its parent's data, so it must live in the snapshot's logical pool ${l.name} (${l.id})`,
        "logicalPoolId",
      );
    }
    const size = input.sizeBytes ?? s.sizeBytes;
    if (size < s.sizeBytes) {
      throw new ApiError(400, "invalid_size", `a clone cannot be smaller than its snapshot (${s.sizeBytes} bytes)`, "sizeBytes");
    }
    this.checkVolumeName(l, input.name);
    this.provision(l, 0, size, `provision clone ${input.name}`);
    const v = this.insertVolume(l, {
      name: input.name,
      logicalPoolId: l.id,
      sizeBytes: size,
      usedBytes: 0,
      multiAttach: input.multiAttach ?? false,
      sourceSnapshotId: s.id,
    });
    s.cloneIds.add(v.id);
    return this.volumeView(v);
  }
  updateVolume(id: string, input: { name?: string; sizeBytes?: number }) {
    const v = this.mustVolume(id);
    const l = this.logicalPools.get(v.logicalPoolId)!;
    if (input.sizeBytes !== undefined && input.sizeBytes < v.sizeBytes) {
      throw new ApiError(400, "shrink_not_supported", `volumes only grow: ${v.name} is ${v.sizeBytes} bytes, requested ${input.sizeBytes}`, "sizeBytes");
    }
    const rename = input.name !== undefined && input.name !== v.name;
    if (rename) this.checkVolumeName(l, input.name!);
    if (input.sizeBytes !== undefined && input.sizeBytes > v.sizeBytes) {
      this.provision(l, v.sizeBytes, input.sizeBytes, `grow volume ${v.name}`);
      v.sizeBytes = input.sizeBytes;
    }
    if (rename) {
      l.volumeNames.delete(v.name);
      v.name = input.name!;
      l.volumeNames.set(v.name, v.id);
    }
    return this.volumeView(v);
  }
  /** Simulates guest writes to new blocks: usage grows by `bytes`, capped at the volume size. */
  writeVolume(id: string, bytes: number) {
    const v = this.mustVolume(id);
    const l = this.logicalPools.get(v.logicalPoolId)!;
    const delta = Math.min(bytes, v.sizeBytes - v.usedBytes);
    if (delta > 0) {
      this.allocate(l, v.usedBytes, v.usedBytes + delta, `write ${bytes} bytes to volume ${v.name}`);
      v.usedBytes += delta;
    }
    return this.volumeView(v);
  }
  /** The layer a volume's bytes come from: its own, else (a clone) its parent snapshot's, else none (zeros). */
  private readLayer(v: Volume): string | null {
    if (v.layer !== null || v.sourceSnapshotId === null) return v.layer;
    return this.snapshots.get(v.sourceSnapshotId)?.layer ?? null;
  }
  private store(): LayerStore {
    if (!this.data) throw new ApiError(501, "no_data_plane", "this storage service was started without a data directory");
    return this.data;
  }
  /**
   * Data plane: writes `body` into the volume from offset 0 (copy-on-write into a new layer). 400 data_too_large
   * when it is longer than the volume, 409 pool_full when a thin pool has no room for the blocks; either way the
   * volume is unchanged. usedBytes grows to the bytes in the data's non-zero blocks.
   */
  async writeVolumeData(id: string, body: AsyncIterable<Buffer>, declaredBytes?: number) {
    const store = this.store();
    const v0 = this.mustVolume(id);
    if (declaredBytes !== undefined && declaredBytes > v0.sizeBytes) {
      throw new ApiError(
        400,
        "data_too_large",
        `the data is ${declaredBytes} bytes; volume ${v0.name} is ${v0.sizeBytes} bytes, so grow it first`,
        "sizeBytes",
        {
          sizeBytes: v0.sizeBytes,
          dataBytes: declaredBytes,
        },
      );
    }
    const written = await store.write(this.readLayer(v0), body, v0.sizeBytes, declaredBytes);
    try {
      const v = this.mustVolume(id); // it may have been deleted while the bytes arrived
      const l = this.logicalPools.get(v.logicalPoolId)!;
      const used = Math.max(v.usedBytes, Math.min(v.sizeBytes, written.allocatedBytes));
      if (used > v.usedBytes) this.allocate(l, v.usedBytes, used, `write ${written.bytes} bytes to volume ${v.name}`);
      v.usedBytes = used;
      store.unref(v.layer);
      v.layer = written.layer;
      return this.volumeView(v);
    } catch (e) {
      store.unref(written.layer);
      throw e;
    }
  }
  /** Data plane: the volume's bytes, sizeBytes long (a clone reads through to its parent snapshot). */
  async readVolumeData(id: string): Promise<{ sizeBytes: number; stream: Readable }> {
    const store = this.store();
    const v = this.mustVolume(id);
    return { sizeBytes: v.sizeBytes, stream: await store.read(this.readLayer(v), v.sizeBytes) };
  }
  /** Copies the parent snapshot's data into the clone and detaches it; a volume without a parent is left as is. */
  flattenVolume(id: string) {
    const v = this.mustVolume(id);
    if (v.sourceSnapshotId === null) return this.volumeView(v);
    // Layers are immutable, so the clone materializes its parent's bytes by holding the layer itself.
    if (v.layer === null && this.data) v.layer = this.data.ref(this.readLayer(v));
    const s = this.snapshots.get(v.sourceSnapshotId)!;
    const l = this.logicalPools.get(v.logicalPoolId)!;
    const target = this.referencedBytes(v);
    const delta = target - v.usedBytes;
    if (delta > 0) this.allocate(l, v.usedBytes, target, `flatten volume ${v.name}`);
    v.usedBytes = target;
    s.cloneIds.delete(v.id);
    v.sourceSnapshotId = null;
    return this.volumeView(v);
  }
  deleteVolume(id: string): void {
    const v = this.mustVolume(id);
    const exported = this.targetsByVolume.get(id);
    if (exported && exported.size > 0) {
      throw new ApiError(409, "volume_exported", `volume ${v.name} is exported to ${[...exported.keys()].join(", ")}; delete its targets first`, undefined, {
        targetIds: [...exported.values()],
      });
    }
    const blocking = [...lookup(v.snapshotIds, this.snapshots)].filter((s) => s.cloneIds.size > 0);
    if (blocking.length > 0) {
      const clones = blocking.reduce((n, s) => n + s.cloneIds.size, 0);
      throw new ApiError(
        409,
        "has_dependent_clones",
        `volume ${v.name} has snapshot(s) ${blocking.map((s) => s.name).join(", ")} that ${clones} clone(s) depend on; delete or flatten the clones first`,
        undefined,
        { snapshotIds: blocking.map((s) => s.id), cloneCount: clones },
      );
    }
    const l = this.logicalPools.get(v.logicalPoolId)!;
    const dp = this.diskPools.get(l.diskPoolId)!;
    // Snapshots without clones go with their volume: they share its blocks.
    for (const sid of v.snapshotIds) {
      this.data?.unref(this.snapshots.get(sid)?.layer ?? null);
      this.snapshots.delete(sid);
    }
    this.data?.unref(v.layer);
    if (v.sourceSnapshotId) this.snapshots.get(v.sourceSnapshotId)?.cloneIds.delete(v.id);
    l.provisionedBytes -= v.sizeBytes;
    l.usedBytes -= v.usedBytes;
    dp.allocatedRawBytes -= rawFor(l.thinProvisioned ? v.usedBytes : v.sizeBytes, l.redundancy);
    l.volumeIds.delete(v.id);
    l.volumeNames.delete(v.name);
    this.volumes.delete(v.id);
  }

  // ---- snapshots ----

  private snapshotView(s: Snapshot) {
    return {
      id: s.id,
      name: s.name,
      volumeId: s.volumeId,
      sizeBytes: s.sizeBytes,
      dataBytes: s.dataBytes,
      cloneCount: s.cloneIds.size,
      createdAt: s.createdAt,
    };
  }
  listSnapshots(q: { cursor?: string; limit: number; volumeId?: string }) {
    const source = q.volumeId !== undefined ? lookup(this.volumes.get(q.volumeId)?.snapshotIds ?? [], this.snapshots) : this.snapshots.values();
    return paginate(source, q.cursor, q.limit, (s) => this.snapshotView(s));
  }
  getSnapshot(id: string) {
    const s = this.snapshots.get(id);
    if (!s) throw notFound("snapshot", id);
    return this.snapshotView(s);
  }
  /** O(1): a snapshot records the volume's size and referenced data; no blocks are copied. */
  createSnapshot(input: { volumeId: string; name: string }) {
    const v = this.mustVolume(input.volumeId, "volumeId");
    checkName(input.name);
    if (v.snapshotNames.has(input.name)) throw new ApiError(409, "name_taken", `volume ${v.name} already has a snapshot named ${input.name}`, "name");
    const s: Snapshot = {
      id: randomUUID(),
      seq: ++this.seq,
      name: input.name,
      volumeId: v.id,
      sizeBytes: v.sizeBytes,
      dataBytes: this.referencedBytes(v),
      layer: this.data ? this.data.ref(this.readLayer(v)) : null,
      cloneIds: new Set(),
      createdAt: now(),
    };
    this.snapshots.set(s.id, s);
    v.snapshotIds.add(s.id);
    v.snapshotNames.set(s.name, s.id);
    return this.snapshotView(s);
  }
  deleteSnapshot(id: string): void {
    const s = this.snapshots.get(id);
    if (!s) throw notFound("snapshot", id);
    if (s.cloneIds.size > 0) {
      throw new ApiError(
        409,
        "has_dependent_clones",
        `snapshot ${s.name} has ${s.cloneIds.size} clone(s) that depend on it; delete or flatten them first`,
        undefined,
        { cloneCount: s.cloneIds.size },
      );
    }
    const v = this.volumes.get(s.volumeId)!;
    this.data?.unref(s.layer);
    v.snapshotIds.delete(id);
    v.snapshotNames.delete(s.name);
    this.snapshots.delete(id);
  }

  // ---- targets ----

  subsystemName(protocol: TargetProtocol, volumeId: string): string {
    return (protocol === "nvme-tcp" ? NQN_PREFIX : IQN_PREFIX) + volumeId;
  }
  private targetView(t: Target) {
    const name = this.subsystemName(t.protocol, t.volumeId);
    return {
      id: t.id,
      volumeId: t.volumeId,
      protocol: t.protocol,
      nqn: t.protocol === "nvme-tcp" ? name : null,
      iqn: t.protocol === "iscsi" ? name : null,
      address: this.topo.targetAddress,
      port: t.protocol === "nvme-tcp" ? this.topo.nvmePort : this.topo.iscsiPort,
      initiator: t.initiator,
      createdAt: t.createdAt,
      lastConnectedAt: t.lastConnectedAt,
    };
  }
  listTargets(q: { cursor?: string; limit: number; volumeId?: string; initiator?: string; protocol?: TargetProtocol }) {
    let source: Iterable<Target>;
    if (q.volumeId !== undefined && q.initiator !== undefined) {
      const id = this.targetsByVolume.get(q.volumeId)?.get(q.initiator);
      source = lookup(id ? [id] : [], this.targets);
    } else if (q.volumeId !== undefined) {
      source = lookup(this.targetsByVolume.get(q.volumeId)?.values() ?? [], this.targets);
    } else if (q.initiator !== undefined) {
      source = lookup(this.targetsByInitiator.get(q.initiator) ?? [], this.targets);
    } else {
      source = this.targets.values();
    }
    return paginate(
      source,
      q.cursor,
      q.limit,
      (t) => this.targetView(t),
      (t) => q.protocol === undefined || t.protocol === q.protocol,
    );
  }
  getTarget(id: string) {
    const t = this.targets.get(id);
    if (!t) throw notFound("target", id);
    return this.targetView(t);
  }
  /**
   * Export a volume to one initiator. Exporting again to the same initiator returns the existing
   * target (`created: false`) so a retried workflow step converges instead of failing.
   */
  createTarget(input: { volumeId: string; protocol: TargetProtocol; initiator: string }) {
    const v = this.mustVolume(input.volumeId, "volumeId");
    const existing = this.targetsByVolume.get(v.id);
    if (existing && existing.size > 0) {
      const sameInitiator = existing.get(input.initiator);
      const first = this.targets.get(existing.values().next().value!)!;
      if (first.protocol !== input.protocol) {
        throw new ApiError(409, "protocol_conflict", `volume ${v.name} is already exported over ${first.protocol}; one volume uses one protocol`, "protocol");
      }
      if (sameInitiator) return { created: false, target: this.targetView(this.targets.get(sameInitiator)!) };
      if (!v.multiAttach) {
        throw new ApiError(
          409,
          "not_multi_attach",
          `volume ${v.name} is already exported to ${first.initiator} and is not multi-attach; create it with multiAttach: true to share it`,
          "initiator",
          { targetId: first.id, initiator: first.initiator },
        );
      }
    }
    const t: Target = {
      id: randomUUID(),
      seq: ++this.seq,
      volumeId: v.id,
      protocol: input.protocol,
      initiator: input.initiator,
      createdAt: now(),
      lastConnectedAt: null,
    };
    this.targets.set(t.id, t);
    let byVol = existing;
    if (!byVol) {
      byVol = new Map();
      this.targetsByVolume.set(v.id, byVol);
    }
    byVol.set(t.initiator, t.id);
    let byInit = this.targetsByInitiator.get(t.initiator);
    if (!byInit) {
      byInit = new Set();
      this.targetsByInitiator.set(t.initiator, byInit);
    }
    byInit.add(t.id);
    return { created: true, target: this.targetView(t) };
  }
  deleteTarget(id: string): void {
    const t = this.targets.get(id);
    if (!t) throw notFound("target", id);
    this.targets.delete(id);
    const byVol = this.targetsByVolume.get(t.volumeId);
    byVol?.delete(t.initiator);
    if (byVol?.size === 0) this.targetsByVolume.delete(t.volumeId);
    const byInit = this.targetsByInitiator.get(t.initiator);
    byInit?.delete(id);
    if (byInit?.size === 0) this.targetsByInitiator.delete(t.initiator);
  }
  /** Emulates an initiator logging in to a subsystem/target: allowed only for initiators the volume was exported to. */
  connect(input: { nqn?: string; iqn?: string; initiator: string }) {
    const protocol: TargetProtocol = input.nqn !== undefined ? "nvme-tcp" : "iscsi";
    const name = (input.nqn ?? input.iqn)!;
    const field = input.nqn !== undefined ? "nqn" : "iqn";
    const prefix = protocol === "nvme-tcp" ? NQN_PREFIX : IQN_PREFIX;
    const volumeId = name.startsWith(prefix) ? name.slice(prefix.length) : "";
    const v = this.volumes.get(volumeId);
    const exports = this.targetsByVolume.get(volumeId);
    const any = exports && exports.size > 0 ? this.targets.get(exports.values().next().value!) : undefined;
    if (!v || !any || any.protocol !== protocol) {
      throw new ApiError(404, "unknown_subsystem", `no ${protocol} ${protocol === "nvme-tcp" ? "subsystem" : "target"} named ${name} is exported here`, field);
    }
    const tid = exports!.get(input.initiator);
    if (!tid) {
      throw new ApiError(403, "initiator_not_allowed", `initiator ${input.initiator} is not allowed to connect to ${name}`, "initiator");
    }
    const t = this.targets.get(tid)!;
    t.lastConnectedAt = now();
    return {
      protocol,
      nqn: protocol === "nvme-tcp" ? name : null,
      iqn: protocol === "iscsi" ? name : null,
      address: this.topo.targetAddress,
      port: protocol === "nvme-tcp" ? this.topo.nvmePort : this.topo.iscsiPort,
      initiator: input.initiator,
      targetId: t.id,
      volumeId: v.id,
      namespace: {
        // NVMe namespace 1 / iSCSI LUN 0: one volume per subsystem.
        id: protocol === "nvme-tcp" ? 1 : 0,
        uuid: v.id,
        sizeBytes: v.sizeBytes,
        blockSizeBytes: 512,
        multiAttach: v.multiAttach,
      },
    };
  }

  /** Counts for the CLI banner and tests. */
  stats() {
    return {
      nodes: this.nodes.size,
      disks: this.disks.size,
      diskPools: this.diskPools.size,
      logicalPools: this.logicalPools.size,
      volumes: this.volumes.size,
      snapshots: this.snapshots.size,
      targets: this.targets.size,
    };
  }
}
