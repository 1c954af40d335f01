// StorageClient on real Ceph RBD, driven through the `rbd`/`ceph` CLIs with `--format json` (no npm binding for
// librados exists; docs/decisions.md has the measurement behind choosing the CLI over the dashboard's REST API).
// Every call is an execFile with an argument array (never a shell), inside `nsenter --net=<netns>` when a lab netns
// is configured, with a timeout; CLI failures become StorageError with the HTTP service's status/code shapes.
//
// Mapping: storage nodes = CRUSH hosts, disks = OSDs, the one disk pool = the CRUSH root (Ceph places data itself,
// so disk pools cannot be created or deleted), logical pools = pools with the rbd application, volumes = RBD images
// (id `pool/namespace/image`, or `pool/image` in the default namespace), snapshots = RBD snapshots (`<volume>@<snap>`),
// clones = RBD clone v2 of a protected snapshot, targets = one cephx identity per attachment whose OSD caps reach
// only that image's objects (and read-only its parent chain's). The cephx key is only given by targetSecret().
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import {
  type ConnectInput,
  type CreateOptions,
  type Disk,
  type DiskPool,
  isStorageError,
  type LogicalPool,
  type Page,
  type PageQuery,
  type Snapshot,
  type StorageClient,
  StorageError,
  type StorageNode,
  type Target,
  type TargetSecret,
  type Volume,
} from "./client";

export interface CephStorageConfig {
  /** Monitor address(es), e.g. "127.0.0.1:6789" or "10.0.0.1,10.0.0.2". */
  mon: string;
  /** cephx id without "client.", e.g. "admin" or "anvil". */
  user: string;
  keyring: string;
  /** Network namespace file to run the CLIs (and qemu-img) in; lab only. */
  netns?: string;
  /** Per-call timeout; default 30 s. */
  timeoutMs?: number;
}

const DEFAULT_PG = "8";
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const NS_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const META_KEY = "anvil.idempotency-key";
/** The image's own id, written last by a create: a clone inherits its parent's image-meta, so only this says "labelled". */
const META_SELF = "anvil.self";
const META_MULTI = "anvil.multi-attach";
const META_CREATED = "anvil.created-at";
const META_TARGET = "anvil.target.";

interface VolRef {
  pool: string;
  ns: string;
  image: string;
}
const volId = (r: VolRef) => (r.ns ? `${r.pool}/${r.ns}/${r.image}` : `${r.pool}/${r.image}`);
const spec = (r: VolRef) => volId(r);
const hash = (s: string, n = 16) => createHash("sha256").update(s).digest("hex").slice(0, n);

function bad(message: string, field?: string, code = "invalid_input"): StorageError {
  return new StorageError({ status: 400, code, message, field });
}
function notFound(kind: string, id: string): StorageError {
  return new StorageError({ status: 404, code: "not_found", message: `${kind} ${id} does not exist` });
}

function parseVolumeId(id: string, field = "id"): VolRef {
  const parts = id.split("/");
  const [pool, ns, image] = parts.length === 2 ? [parts[0], "", parts[1]] : parts.length === 3 ? parts : [];
  if (!pool || image === undefined || !NAME_RE.test(pool) || !NAME_RE.test(image) || (ns !== "" && !NS_RE.test(ns ?? ""))) {
    throw new StorageError({ status: 404, code: "not_found", message: `volume ${id} does not exist (not a pool/namespace/image id)`, field });
  }
  return { pool, ns: ns ?? "", image };
}
function parseSnapshotId(id: string, field = "id"): { vol: VolRef; snap: string } {
  const at = id.lastIndexOf("@");
  const snap = at > 0 ? id.slice(at + 1) : "";
  if (!NAME_RE.test(snap))
    throw new StorageError({ status: 404, code: "not_found", message: `snapshot ${id} does not exist (not a volume@snapshot id)`, field });
  return { vol: parseVolumeId(id.slice(0, at), field), snap };
}
function parseTargetId(id: string): { vol: VolRef; key: string } {
  const hashAt = id.lastIndexOf("#");
  const key = id.slice(hashAt + 1);
  if (hashAt <= 0 || !/^[0-9a-f]{16}$/.test(key)) throw new StorageError({ status: 404, code: "not_found", message: `target ${id} does not exist` });
  return { vol: parseVolumeId(id.slice(0, hashAt)), key };
}

function page<T extends { id: string }>(all: T[], q: PageQuery = {}): Page<T> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const sorted = [...all].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const from = q.cursor ? sorted.findIndex((x) => x.id > q.cursor!) : 0;
  const items = from < 0 ? [] : sorted.slice(from, from + limit);
  const more = from >= 0 && from + limit < sorted.length;
  return { items, nextCursor: more ? items[items.length - 1].id : null };
}

/** Maps a failed CLI run to the HTTP service's error shapes. */
interface CliFailure {
  message: string;
  code?: string | number | null;
  killed?: boolean;
  signal?: string | null;
  stderr?: string;
}
function cliError(what: string, e: CliFailure, mon: string, timeoutMs: number): StorageError {
  const stderr = String(e.stderr ?? "")
    .split("\n")
    .filter((l) => l.trim() && !/^\d{4}-\d\d-\d\dT/.test(l))
    .join("; ")
    .slice(0, 400);
  const rc: number | undefined = typeof e.code === "number" ? e.code : undefined;
  if (e.code === "ENOENT")
    return new StorageError({ status: 0, code: "network_error", message: `the Ceph CLI is not installed (${what}): install ceph-common`, cause: e });
  if (e.killed || e.signal === "SIGTERM")
    return new StorageError({ status: 0, code: "timeout", message: `Ceph did not answer ${what} within ${timeoutMs} ms (monitor ${mon})` });
  if (rc === 110 || /couldn't connect|timed out|error connecting to the cluster|ETIMEDOUT/i.test(stderr)) {
    return new StorageError({
      status: 0,
      code: "network_error",
      message: `cannot reach the Ceph monitor at ${mon} (${what}): ${stderr || "connection timed out"}`,
    });
  }
  const detail = stderr || e.message;
  switch (rc) {
    case 2:
      return new StorageError({ status: 404, code: "not_found", message: `${what}: not found (${detail})` });
    case 17:
      return new StorageError({ status: 409, code: "already_exists", message: `${what}: already exists (${detail})` });
    case 16:
    case 39:
      return new StorageError({ status: 409, code: "conflict", message: `${what}: in use (${detail})` });
    case 1:
    case 13:
      if (/not permitted|permission denied|access denied/i.test(detail))
        return new StorageError({ status: 403, code: "forbidden", message: `${what}: Ceph refused access for this identity (${detail})` });
      return new StorageError({ status: 502, code: "ceph_error", message: `${what} failed: ${detail}` });
    case 22:
    case 34:
      return new StorageError({ status: 400, code: "invalid_input", message: `${what}: Ceph refused the request (${detail})` });
    case 28:
    case 122:
      return new StorageError({ status: 507, code: "insufficient_capacity", message: `${what}: out of space (${detail})` });
    default:
      return new StorageError({ status: 502, code: "ceph_error", message: `${what} failed${rc === undefined ? "" : ` (exit ${rc})`}: ${detail}` });
  }
}

interface LsRow {
  image: string;
  id: string;
  size: number;
  snapshot?: string;
  protected?: string;
  parent?: { pool: string; pool_namespace?: string; image: string; snapshot: string };
}
interface InfoJson {
  name: string;
  id: string;
  size: number;
  create_timestamp?: string;
  parent?: { pool: string; pool_namespace: string; image: string; id: string; snapshot: string };
}
interface SnapRow {
  id: number;
  name: string;
  size: number;
  protected: string;
  timestamp: string;
}
interface PoolDetail {
  pool_id: number;
  pool_name: string;
  create_time?: string;
  size: number;
  application_metadata?: Record<string, Record<string, string>>;
}
interface DfJson {
  stats: { total_bytes: number; total_avail_bytes: number; total_used_raw_bytes: number };
  pools: { name: string; id: number; stats: { stored: number; bytes_used: number; max_avail: number } }[];
}
interface TreeJson {
  nodes: { id: number; name: string; type: string; children?: number[]; status?: string; device_class?: string; crush_weight?: number }[];
}

export function createCephStorageClient(cfg: CephStorageConfig): StorageClient {
  const timeoutMs = cfg.timeoutMs ?? 30_000;
  const mountTimeout = String(Math.max(1, Math.min(10, Math.floor(timeoutMs / 3000))));
  const common = ["-c", "/dev/null", "-m", cfg.mon, "--id", cfg.user, "--keyring", cfg.keyring];
  const wrap = (cmd: string, args: string[]): [string, string[]] => (cfg.netns ? ["nsenter", [`--net=${cfg.netns}`, cmd, ...args]] : [cmd, args]);

  // The CLIs each take ~0.1 s of CPU to start; a small limit keeps a list from forking dozens at once.
  let running = 0;
  const waiting: (() => void)[] = [];
  async function slot<T>(fn: () => Promise<T>): Promise<T> {
    if (running >= 4) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  function exec(cmd: string, args: string[], what: string, signal?: AbortSignal): Promise<string> {
    const [c, a] = wrap(cmd, args);
    return slot(
      () =>
        new Promise<string>((resolve, reject) => {
          execFile(c, a, { timeout: timeoutMs, maxBuffer: 64 << 20, signal, env: { ...process.env, LC_ALL: "C" } }, (err, stdout, stderr) => {
            if (!err) return resolve(stdout);
            if (signal?.aborted) return reject(new StorageError({ status: 0, code: "aborted", message: `${what} was cancelled` }));
            reject(cliError(what, Object.assign(err, { stderr }), cfg.mon, timeoutMs));
          });
        }),
    );
  }
  const rbd = (args: string[], what: string, signal?: AbortSignal) => exec("rbd", [...common, "--client-mount-timeout", mountTimeout, ...args], what, signal);
  const ceph = (args: string[], what: string) => exec("ceph", [...common, "--connect-timeout", mountTimeout, ...args], what);
  const json = async <T>(p: Promise<string>): Promise<T> => {
    const out = await p;
    try {
      return JSON.parse(out || "null") as T;
    } catch {
      throw new StorageError({ status: 502, code: "invalid_response", message: `the Ceph CLI printed something that is not JSON: ${out.slice(0, 200)}` });
    }
  };
  const nsArgs = (pool: string, ns: string) => ["--pool", pool, ...(ns ? ["--namespace", ns] : [])];

  // ---- cluster layout ----

  async function tree(): Promise<TreeJson> {
    return json<TreeJson>(ceph(["osd", "tree", "--format", "json"], "ceph osd tree"));
  }
  async function df(): Promise<DfJson> {
    return json<DfJson>(ceph(["df", "--format", "json"], "ceph df"));
  }
  const health = (up: boolean): "ok" | "failed" => (up ? "ok" : "failed");
  async function nodesAndDisks(): Promise<{ nodes: StorageNode[]; disks: Disk[]; root: TreeJson["nodes"][number] | undefined }> {
    const t = await tree();
    const byId = new Map(t.nodes.map((n) => [n.id, n]));
    const root = t.nodes.find((n) => n.type === "root");
    const nodes: StorageNode[] = [];
    const disks: Disk[] = [];
    for (const h of t.nodes.filter((n) => n.type === "host")) {
      const osds = (h.children ?? []).map((c) => byId.get(c)).filter((n): n is NonNullable<typeof n> => n?.type === "osd");
      nodes.push({
        id: h.name,
        name: h.name,
        address: cfg.mon.split(",")[0],
        health: osds.every((o) => o.status === "up") ? "ok" : "degraded",
        diskIds: osds.map((o) => o.name),
      });
      for (const o of osds) {
        disks.push({
          id: o.name,
          name: o.name,
          nodeId: h.name,
          sizeBytes: Math.round((o.crush_weight ?? 0) * 2 ** 40),
          media: o.device_class === "ssd" ? "ssd" : o.device_class === "nvme" ? "nvme" : "hdd",
          health: health(o.status === "up"),
          diskPoolId: root?.name ?? null,
        });
      }
    }
    return { nodes, disks, root };
  }

  async function rbdPools(): Promise<PoolDetail[]> {
    const all = await json<PoolDetail[]>(ceph(["osd", "pool", "ls", "detail", "--format", "json"], "ceph osd pool ls"));
    return all.filter((p) => p.application_metadata && "rbd" in p.application_metadata);
  }
  async function namespaces(pool: string): Promise<string[]> {
    const list = await json<{ name: string }[]>(rbd(["namespace", "ls", "--pool", pool, "--format", "json"], `rbd namespace ls ${pool}`));
    return ["", ...list.map((n) => n.name)];
  }
  async function lsLong(pool: string, ns: string): Promise<LsRow[]> {
    return (await json<LsRow[] | null>(rbd(["ls", "-l", ...nsArgs(pool, ns), "--format", "json"], `rbd ls ${pool}/${ns}`))) ?? [];
  }

  async function diskPool(): Promise<DiskPool> {
    const [{ disks, nodes, root }, d, pools] = await Promise.all([nodesAndDisks(), df(), rbdPools()]);
    return {
      id: root?.name ?? "default",
      name: root?.name ?? "default",
      diskIds: disks.map((x) => x.id),
      nodeIds: nodes.map((n) => n.id),
      capacityBytes: d.stats.total_bytes,
      allocatedRawBytes: d.stats.total_used_raw_bytes,
      freeRawBytes: d.stats.total_avail_bytes,
      logicalPoolIds: pools.map((p) => p.pool_name),
      health: disks.every((x) => x.health === "ok") ? "ok" : "degraded",
      createdAt: pools[0]?.create_time ? new Date(pools[0].create_time.replace("+0000", "Z")).toISOString() : new Date(0).toISOString(),
    };
  }

  async function logicalPoolView(p: PoolDetail, d: DfJson, rootName: string): Promise<LogicalPool> {
    const st = d.pools.find((x) => x.id === p.pool_id)?.stats ?? { stored: 0, bytes_used: 0, max_avail: 0 };
    let provisioned = 0;
    let count = 0;
    for (const ns of await namespaces(p.pool_name)) {
      for (const r of await lsLong(p.pool_name, ns)) {
        if (r.snapshot) continue;
        provisioned += r.size;
        count++;
      }
    }
    const copies = Math.max(1, p.size);
    const overcommit = Number(p.application_metadata?.rbd?.["anvil.overcommit"] ?? "1") || 1;
    const usable = st.stored + st.max_avail;
    const limit = Math.floor(usable * overcommit);
    return {
      id: p.pool_name,
      name: p.pool_name,
      diskPoolId: rootName,
      redundancy: { type: "replica", copies },
      thinProvisioned: true,
      overcommitRatio: overcommit,
      efficiency: 1 / copies,
      rawBytes: d.stats.total_bytes,
      usableBytes: usable,
      provisionedBytes: provisioned,
      usedBytes: st.stored,
      provisionableBytes: Math.max(0, limit - provisioned),
      provisionLimitBytes: limit,
      volumeCount: count,
      createdAt: p.create_time ? new Date(p.create_time.replace("+0000", "Z")).toISOString() : new Date(0).toISOString(),
    };
  }
  async function getPoolDetail(id: string, field?: string): Promise<PoolDetail> {
    const p = (await rbdPools()).find((x) => x.pool_name === id);
    if (!p)
      throw new StorageError({ status: 404, code: "not_found", message: `logical pool ${id} does not exist (no Ceph pool with the rbd application)`, field });
    return p;
  }
  async function getLogicalPool(id: string): Promise<LogicalPool> {
    const [p, d, t] = await Promise.all([getPoolDetail(id), df(), tree()]);
    return logicalPoolView(p, d, t.nodes.find((n) => n.type === "root")?.name ?? "default");
  }

  // ---- volumes ----

  async function meta(r: VolRef): Promise<Record<string, string>> {
    return (await json<Record<string, string> | null>(rbd(["image-meta", "list", spec(r), "--format", "json"], `rbd image-meta list ${spec(r)}`))) ?? {};
  }
  async function info(r: VolRef, field?: string): Promise<InfoJson> {
    try {
      return await json<InfoJson>(rbd(["info", spec(r), "--format", "json"], `rbd info ${spec(r)}`));
    } catch (e) {
      if (isStorageError(e) && e.status === 404)
        throw new StorageError({ status: 404, code: "not_found", message: `volume ${volId(r)} does not exist`, field });
      throw e;
    }
  }
  async function snaps(r: VolRef): Promise<SnapRow[]> {
    return (await json<SnapRow[] | null>(rbd(["snap", "ls", spec(r), "--format", "json"], `rbd snap ls ${spec(r)}`))) ?? [];
  }
  async function children(r: VolRef, snap: string): Promise<VolRef[]> {
    const rows =
      (await json<{ pool: string; pool_namespace: string; image: string }[] | null>(
        rbd(["children", `${spec(r)}@${snap}`, "--format", "json"], `rbd children ${spec(r)}@${snap}`),
      )) ?? [];
    return rows.map((c) => ({ pool: c.pool, ns: c.pool_namespace ?? "", image: c.image }));
  }
  async function usedBytes(r: VolRef): Promise<number> {
    const du = await json<{ images: { name: string; snapshot?: string; used_size: number }[] }>(rbd(["du", spec(r), "--format", "json"], `rbd du ${spec(r)}`));
    // The head's row counts only what changed since the last snapshot; the snapshots' rows hold the rest.
    return du.images.filter((i) => i.name === r.image).reduce((n, i) => n + i.used_size, 0);
  }
  function parentOf(i: { parent?: { pool: string; pool_namespace?: string; image: string; snapshot: string } }): string | null {
    return i.parent ? `${volId({ pool: i.parent.pool, ns: i.parent.pool_namespace ?? "", image: i.parent.image })}@${i.parent.snapshot}` : null;
  }
  function volumeView(r: VolRef, i: { size: number; parent?: LsRow["parent"] }, m: Record<string, string>, snapCount: number, used: number): Volume {
    const targets = Object.keys(m).filter((k) => k.startsWith(META_TARGET)).length;
    return {
      id: volId(r),
      name: r.image,
      logicalPoolId: r.pool,
      sizeBytes: i.size,
      usedBytes: used,
      referencedBytes: used,
      multiAttach: m[META_MULTI] === "true",
      sourceSnapshotId: parentOf(i),
      snapshotCount: snapCount,
      targetCount: targets,
      status: targets > 0 ? "exported" : "available",
      createdAt: m[META_CREATED] ?? new Date(0).toISOString(),
    };
  }
  async function getVolume(id: string, field?: string): Promise<Volume> {
    const r = parseVolumeId(id, field);
    const i = await info(r, field);
    const [m, s, used] = await Promise.all([meta(r), snaps(r), usedBytes(r)]);
    return volumeView(r, i, m, s.length, used);
  }
  async function ensureNamespace(pool: string, ns: string): Promise<void> {
    if (!ns) return;
    await rbd(["namespace", "create", "--pool", pool, "--namespace", ns], `rbd namespace create ${pool}/${ns}`).catch((e) => {
      if (!(isStorageError(e) && e.status === 409)) throw e;
    });
  }
  function checkNamespace(ns: string | undefined): string {
    if (ns === undefined || ns === "") return "";
    if (!NS_RE.test(ns)) throw bad(`namespace "${ns}" is not valid: letters, digits, ".", "_" and "-", at most 64`, "namespace");
    return ns;
  }
  /**
   * An existing image of that name: the same object when created with the same key, else 409 name_taken. "unfinished":
   * an image a keyed create made but never labelled (no META_SELF naming it — a clone carries its parent's image-meta —
   * because the caller died between `rbd create/clone` and `image-meta set`, e.g. a killed BFF) which `isOurs`
   * recognizes (same parent snapshot, or same size and no parent): the retry finishes that create instead of failing
   * on its own leftover.
   */
  async function existingForKey(r: VolRef, key: string | undefined, isOurs?: (i: InfoJson) => boolean): Promise<Volume | "unfinished" | null> {
    let m: Record<string, string>;
    try {
      m = await meta(r);
    } catch (e) {
      if (isStorageError(e) && e.status === 404) return null;
      throw e;
    }
    if (key !== undefined && m[META_KEY] === hash(key, 32)) return getVolume(volId(r));
    if (key !== undefined && isOurs && m[META_SELF] !== volId(r) && isOurs(await info(r))) return "unfinished";
    throw new StorageError({
      status: 409,
      code: "name_taken",
      message: `logical pool ${r.pool} already has a volume named ${r.image}${r.ns ? ` in namespace ${r.ns}` : ""}`,
      field: "name",
    });
  }
  /**
   * The one way a volume comes to exist: an existing image of that name with the same key is returned (null from
   * here), one a keyed create left unlabelled is finished, else `make` creates it; then the labels, META_SELF last.
   */
  async function createLabelled(
    r: VolRef,
    opts: { idempotencyKey?: string } | undefined,
    o: { ours: (i: InfoJson) => boolean; multiAttach?: boolean; make: () => Promise<void> },
  ): Promise<Volume | null> {
    const again = await existingForKey(r, opts?.idempotencyKey, o.ours);
    if (again && again !== "unfinished") return again;
    if (!again) {
      await ensureNamespace(r.pool, r.ns);
      try {
        await o.make();
      } catch (e) {
        if (isStorageError(e) && e.status === 409) {
          const v = await existingForKey(r, opts?.idempotencyKey);
          if (v && v !== "unfinished") return v;
        }
        throw e;
      }
    }
    await setMeta(r, {
      [META_CREATED]: new Date().toISOString(),
      ...(opts?.idempotencyKey !== undefined ? { [META_KEY]: hash(opts.idempotencyKey, 32) } : {}),
      ...(o.multiAttach ? { [META_MULTI]: "true" } : {}),
      [META_SELF]: volId(r),
    });
    return null;
  }
  async function setMeta(r: VolRef, entries: Record<string, string>): Promise<void> {
    // Independent keys: set side by side (each is its own `rbd` process, seconds apiece on a loaded host).
    await Promise.all(Object.entries(entries).map(([k, v]) => rbd(["image-meta", "set", spec(r), k, v], `rbd image-meta set ${spec(r)} ${k}`)));
  }
  function checkSize(n: unknown, field = "sizeBytes"): number {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) throw bad(`${field} must be a positive whole number of bytes`, field);
    if (n % 512 !== 0) throw bad(`${field} must be a multiple of 512 bytes`, field);
    return n;
  }
  function checkName(name: unknown, field = "name"): string {
    if (typeof name !== "string" || !NAME_RE.test(name))
      throw bad(`${field} must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit`, field);
    return name;
  }

  async function listVolumesIn(pool: string, ns: string): Promise<Volume[]> {
    const rows = await lsLong(pool, ns);
    const images = rows.filter((r) => !r.snapshot);
    const snapCount = new Map<string, number>();
    for (const r of rows) if (r.snapshot) snapCount.set(r.image, (snapCount.get(r.image) ?? 0) + 1);
    const du = images.length
      ? await json<{ images: { name: string; snapshot?: string; used_size: number }[] }>(
          rbd(["du", ...nsArgs(pool, ns), "--format", "json"], `rbd du ${pool}/${ns}`),
        )
      : { images: [] };
    const used = new Map<string, number>();
    for (const i of du.images) used.set(i.name, (used.get(i.name) ?? 0) + i.used_size);
    return Promise.all(
      images.map(async (row) => {
        const r = { pool, ns, image: row.image };
        return volumeView(r, row, await meta(r), snapCount.get(row.image) ?? 0, used.get(row.image) ?? 0);
      }),
    );
  }
  async function allVolumeRefs(pool?: string): Promise<{ pool: string; ns: string }[]> {
    const pools = pool ? [pool] : (await rbdPools()).map((p) => p.pool_name);
    const out: { pool: string; ns: string }[] = [];
    for (const p of pools) for (const ns of await namespaces(p)) out.push({ pool: p, ns });
    return out;
  }

  // ---- snapshots ----

  async function snapshotView(r: VolRef, s: SnapRow): Promise<Snapshot> {
    const kids = await children(r, s.name);
    return {
      id: `${volId(r)}@${s.name}`,
      name: s.name,
      volumeId: volId(r),
      sizeBytes: s.size,
      dataBytes: s.size,
      cloneCount: kids.length,
      createdAt: new Date(`${s.timestamp} UTC`).toISOString(),
    };
  }
  async function getSnapshot(id: string, field?: string): Promise<Snapshot> {
    const { vol, snap } = parseSnapshotId(id, field);
    let list: SnapRow[];
    try {
      list = await snaps(vol);
    } catch (e) {
      if (isStorageError(e) && e.status === 404) throw new StorageError({ status: 404, code: "not_found", message: `snapshot ${id} does not exist`, field });
      throw e;
    }
    const s = list.find((x) => x.name === snap);
    if (!s) throw new StorageError({ status: 404, code: "not_found", message: `snapshot ${id} does not exist`, field });
    return snapshotView(vol, s);
  }

  // ---- targets ----

  function targetKey(volumeId: string, initiator: string) {
    return hash(`${volumeId}\n${initiator}`);
  }
  const cephxName = (key: string) => `anvil-${key}`;
  function targetView(r: VolRef, key: string, rec: { initiator: string; createdAt: string }): Target {
    const [host, port] = cfg.mon.split(",")[0].split(":");
    return {
      id: `${volId(r)}#${key}`,
      volumeId: volId(r),
      protocol: "rbd",
      nqn: null,
      iqn: null,
      address: host,
      port: Number(port) || 6789,
      initiator: rec.initiator,
      createdAt: rec.createdAt,
      lastConnectedAt: null,
      rbd: { pool: r.pool, namespace: r.ns, image: r.image, user: cephxName(key), monitors: cfg.mon },
    };
  }
  async function targetsOf(r: VolRef): Promise<Target[]> {
    const m = await meta(r);
    return Object.entries(m)
      .filter(([k]) => k.startsWith(META_TARGET))
      .map(([k, v]) => targetView(r, k.slice(META_TARGET.length), JSON.parse(v) as { initiator: string; createdAt: string }));
  }
  /** OSD caps reaching exactly this image's objects, read-only its parent chain's (found by trying; see the test). */
  async function capsFor(r: VolRef): Promise<string> {
    const i = await info(r, "volumeId");
    const caps = [
      `allow rx pool=${r.pool} object_prefix rbd_info`,
      ...(r.ns ? [`allow rx pool=${r.pool} namespace=${r.ns} object_prefix rbd_directory`] : []),
      `allow rx pool=${r.pool}${r.ns ? ` namespace=${r.ns}` : ""} object_prefix rbd_id.${r.image}`,
      ...["rbd_header.", "rbd_object_map.", "rbd_data."].map(
        (p) => `allow rwx pool=${r.pool}${r.ns ? ` namespace=${r.ns}` : ""} object_prefix ${p}${i.id}${p === "rbd_data." ? "." : ""}`,
      ),
    ];
    let parent = i.parent;
    for (let depth = 0; parent && depth < 32; depth++) {
      const nsCap = parent.pool_namespace ? ` namespace=${parent.pool_namespace}` : "";
      caps.push(`allow rx pool=${parent.pool}${nsCap} object_prefix rbd_directory`);
      for (const p of ["rbd_header.", "rbd_object_map.", "rbd_data."])
        caps.push(`allow rx pool=${parent.pool}${nsCap} object_prefix ${p}${parent.id}${p === "rbd_data." ? "." : ""}`);
      const up = await info({ pool: parent.pool, ns: parent.pool_namespace ?? "", image: parent.image });
      parent = up.parent;
    }
    return [...new Set(caps)].join(", ");
  }

  // ---- data plane ----

  function rbdUri(r: VolRef): string {
    const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
    return `rbd:${spec(r)}:id=${esc(cfg.user)}:keyring=${esc(cfg.keyring)}:mon_host=${esc(cfg.mon.replace(/,/g, ";"))}:conf=/dev/null`;
  }

  const client: StorageClient = {
    async health() {
      const h = await json<{ status: string }>(ceph(["health", "--format", "json"], "ceph health"));
      return { status: h.status === "HEALTH_OK" ? "ok" : h.status === "HEALTH_WARN" ? "degraded" : "failed" };
    },

    async listNodes(q) {
      return page((await nodesAndDisks()).nodes, q);
    },
    async getNode(id) {
      const n = (await nodesAndDisks()).nodes.find((x) => x.id === id);
      if (!n) throw notFound("storage node (CRUSH host)", id);
      return n;
    },
    async listDisks(q = {}) {
      const { disks } = await nodesAndDisks();
      return page(
        disks.filter(
          (d) =>
            (q.nodeId === undefined || d.nodeId === q.nodeId) &&
            (q.diskPoolId === undefined || d.diskPoolId === q.diskPoolId) &&
            (q.unassigned === undefined || (d.diskPoolId === null) === q.unassigned) &&
            (q.media === undefined || d.media === q.media),
        ),
        q,
      );
    },
    async getDisk(id) {
      const d = (await nodesAndDisks()).disks.find((x) => x.id === id);
      if (!d) throw notFound("disk (OSD)", id);
      return d;
    },

    async listDiskPools(q) {
      return page([await diskPool()], q);
    },
    async getDiskPool(id) {
      const p = await diskPool();
      if (p.id !== id) throw notFound("disk pool (CRUSH root)", id);
      return p;
    },
    async createDiskPool() {
      throw new StorageError({
        status: 400,
        code: "not_supported",
        message: "Ceph manages its devices itself: the disk pool is the CRUSH root; add OSDs with Ceph's own tools",
      });
    },
    async updateDiskPool() {
      throw new StorageError({
        status: 400,
        code: "not_supported",
        message: "Ceph manages its devices itself: the disk pool (CRUSH root) cannot be renamed from Anvil",
      });
    },
    async deleteDiskPool() {
      throw new StorageError({ status: 400, code: "not_supported", message: "Ceph manages its devices itself: the disk pool (CRUSH root) cannot be deleted" });
    },

    async listLogicalPools(q = {}) {
      const [pools, d, t] = await Promise.all([rbdPools(), df(), tree()]);
      const root = t.nodes.find((n) => n.type === "root")?.name ?? "default";
      if (q.diskPoolId !== undefined && q.diskPoolId !== root) return { items: [], nextCursor: null };
      const chosen = page(
        pools.map((p) => ({ id: p.pool_name, p })),
        q,
      );
      return { items: await Promise.all(chosen.items.map((x) => logicalPoolView(x.p, d, root))), nextCursor: chosen.nextCursor };
    },
    getLogicalPool: (id) => getLogicalPool(id),
    async createLogicalPool(input, opts) {
      const name = checkName(input.name);
      const { disks, root } = await nodesAndDisks();
      if (input.diskPoolId !== (root?.name ?? "default"))
        throw new StorageError({
          status: 404,
          code: "not_found",
          message: `disk pool ${input.diskPoolId} does not exist (the CRUSH root is ${root?.name})`,
          field: "diskPoolId",
        });
      if (input.redundancy?.type !== "replica")
        throw bad("only replicated pools are supported on Ceph here (erasure-coded pools cannot hold RBD metadata)", "redundancy");
      const copies = input.redundancy.copies;
      if (!Number.isInteger(copies) || copies < 1 || copies > disks.length) {
        throw bad(`replica copies must be between 1 and the number of OSDs (${disks.length})`, "redundancy.copies", "insufficient_disks");
      }
      if (input.overcommitRatio !== undefined && !(input.overcommitRatio >= 1 && input.overcommitRatio <= 100))
        throw bad("overcommitRatio must be between 1 and 100", "overcommitRatio");
      if (input.thinProvisioned === false) throw bad("RBD images are always thin-provisioned", "thinProvisioned");
      const existing = (await json<PoolDetail[]>(ceph(["osd", "pool", "ls", "detail", "--format", "json"], "ceph osd pool ls"))).find(
        (p) => p.pool_name === name,
      );
      if (existing) {
        if (opts?.idempotencyKey !== undefined && existing.application_metadata?.rbd?.["anvil.key"] === hash(opts.idempotencyKey, 32))
          return getLogicalPool(name);
        throw new StorageError({ status: 409, code: "name_taken", message: `a logical pool named ${name} already exists`, field: "name" });
      }
      await ceph(["osd", "pool", "create", name, DEFAULT_PG, DEFAULT_PG, "replicated"], `ceph osd pool create ${name}`);
      await ceph(["osd", "pool", "set", name, "size", String(copies), "--yes-i-really-mean-it"], `ceph osd pool set ${name} size`);
      await ceph(["osd", "pool", "set", name, "min_size", String(Math.max(1, Math.ceil(copies / 2)))], `ceph osd pool set ${name} min_size`);
      await rbd(["pool", "init", name], `rbd pool init ${name}`);
      if (opts?.idempotencyKey !== undefined)
        await ceph(["osd", "pool", "application", "set", name, "rbd", "anvil.key", hash(opts.idempotencyKey, 32)], "ceph osd pool application set");
      if (input.overcommitRatio !== undefined)
        await ceph(["osd", "pool", "application", "set", name, "rbd", "anvil.overcommit", String(input.overcommitRatio)], "ceph osd pool application set");
      return getLogicalPool(name);
    },
    async updateLogicalPool(id, p) {
      await getPoolDetail(id);
      if (p.name !== undefined && p.name !== id)
        throw bad("a Ceph pool's name is its id here (volume ids contain it); renaming is not supported", "name", "rename_not_supported");
      if (p.overcommitRatio !== undefined) {
        if (!(p.overcommitRatio >= 1 && p.overcommitRatio <= 100)) throw bad("overcommitRatio must be between 1 and 100", "overcommitRatio");
        await ceph(["osd", "pool", "application", "set", id, "rbd", "anvil.overcommit", String(p.overcommitRatio)], "ceph osd pool application set");
      }
      return getLogicalPool(id);
    },
    async deleteLogicalPool(id) {
      const lp = await getLogicalPool(id);
      if (lp.volumeCount > 0)
        throw new StorageError({
          status: 409,
          code: "in_use",
          message: `logical pool ${id} still holds ${lp.volumeCount} volume(s); delete them first`,
          details: { volumeCount: lp.volumeCount },
        });
      await ceph(["osd", "pool", "delete", id, id, "--yes-i-really-really-mean-it"], `ceph osd pool delete ${id}`);
    },

    async listVolumes(q = {}) {
      if (q.logicalPoolId !== undefined) await getPoolDetail(q.logicalPoolId, "logicalPoolId");
      const all: Volume[] = [];
      if (q.sourceSnapshotId !== undefined) {
        const { vol, snap } = parseSnapshotId(q.sourceSnapshotId, "sourceSnapshotId");
        const kids = await children(vol, snap).catch((e) => {
          if (isStorageError(e) && e.status === 404) return [];
          throw e;
        });
        for (const k of kids) all.push(await getVolume(volId(k)));
      } else if (q.name !== undefined) {
        if (!NAME_RE.test(q.name)) return { items: [], nextCursor: null };
        for (const { pool, ns } of await allVolumeRefs(q.logicalPoolId)) {
          const rows = await lsLong(pool, ns);
          if (rows.some((r) => r.image === q.name && !r.snapshot)) all.push(await getVolume(volId({ pool, ns, image: q.name })));
        }
      } else {
        for (const { pool, ns } of await allVolumeRefs(q.logicalPoolId)) all.push(...(await listVolumesIn(pool, ns)));
      }
      return page(
        all.filter((v) => (q.logicalPoolId === undefined || v.logicalPoolId === q.logicalPoolId) && (q.name === undefined || v.name === q.name)),
        q,
      );
    },
    getVolume: (id) => getVolume(id),
    async createVolume(input, opts) {
      const name = checkName(input.name);
      const size = checkSize(input.sizeBytes);
      const ns = checkNamespace(input.namespace);
      const pool = await getPoolDetail(input.logicalPoolId, "logicalPoolId");
      const r = { pool: pool.pool_name, ns, image: name };
      const done = await createLabelled(r, opts, {
        ours: (i) => !i.parent && i.size === size,
        multiAttach: input.multiAttach,
        make: () => rbd(["create", "--size", `${size}B`, spec(r)], `rbd create ${spec(r)}`).then(() => undefined),
      });
      if (done) return done;
      return getVolume(volId(r));
    },
    async cloneVolume(input, opts) {
      const name = checkName(input.name);
      const { vol: src, snap } = parseSnapshotId(input.sourceSnapshotId, "sourceSnapshotId");
      const s = (
        await snaps(src).catch((e) => {
          if (isStorageError(e) && e.status === 404) return [];
          throw e;
        })
      ).find((x) => x.name === snap);
      if (!s)
        throw new StorageError({ status: 404, code: "not_found", message: `snapshot ${input.sourceSnapshotId} does not exist`, field: "sourceSnapshotId" });
      if (input.sizeBytes !== undefined) {
        checkSize(input.sizeBytes);
        if (input.sizeBytes < s.size) throw bad(`a clone cannot be smaller than its snapshot (${s.size} bytes)`, "sizeBytes", "shrink_not_supported");
      }
      const ns = input.namespace === undefined ? src.ns : checkNamespace(input.namespace);
      const r = { pool: src.pool, ns, image: name };
      const done = await createLabelled(r, opts, {
        ours: (i) => parentOf(i) === input.sourceSnapshotId,
        multiAttach: input.multiAttach,
        make: async () => {
          if (s.protected !== "true") {
            await rbd(["snap", "protect", `${spec(src)}@${snap}`], `rbd snap protect ${input.sourceSnapshotId}`).catch((e) => {
              if (!(isStorageError(e) && e.status === 409)) throw e; // already protected by a concurrent clone
            });
          }
          // Clone v2: works across namespaces and without the cluster's min-compat-client being raised.
          await rbd(["clone", "--rbd-default-clone-format", "2", `${spec(src)}@${snap}`, spec(r)], `rbd clone ${input.sourceSnapshotId}`);
        },
      });
      if (done) return done;
      if (input.sizeBytes !== undefined && input.sizeBytes > s.size) await rbd(["resize", "--size", `${input.sizeBytes}B`, spec(r)], `rbd resize ${spec(r)}`);
      return getVolume(volId(r));
    },
    async updateVolume(id, p) {
      const r = parseVolumeId(id);
      if (p.name !== undefined && p.name !== r.image)
        throw bad("an RBD image's name is part of the volume id; renaming is not supported", "name", "rename_not_supported");
      if (p.sizeBytes !== undefined) return client.resizeVolume(id, p.sizeBytes);
      return getVolume(id);
    },
    async resizeVolume(id, sizeBytes) {
      const r = parseVolumeId(id);
      const i = await info(r);
      checkSize(sizeBytes);
      if (sizeBytes < i.size) throw bad(`volume ${id} is ${i.size} bytes; shrinking to ${sizeBytes} is not supported`, "sizeBytes", "shrink_not_supported");
      if (sizeBytes > i.size) await rbd(["resize", "--size", `${sizeBytes}B`, spec(r)], `rbd resize ${id}`);
      return getVolume(id);
    },
    async flattenVolume(id) {
      const r = parseVolumeId(id);
      const i = await info(r);
      if (i.parent) await rbd(["flatten", "--no-progress", spec(r)], `rbd flatten ${id}`);
      return getVolume(id);
    },
    async deleteVolume(id) {
      const r = parseVolumeId(id);
      await info(r);
      const targets = await targetsOf(r);
      if (targets.length > 0) {
        throw new StorageError({
          status: 409,
          code: "volume_exported",
          message: `volume ${id} is exported to ${targets.map((t) => t.initiator).join(", ")}; delete its targets first`,
          details: { targetIds: targets.map((t) => t.id) },
        });
      }
      const list = await snaps(r);
      const blocking: { name: string; n: number }[] = [];
      for (const s of list) {
        const n = (await children(r, s.name)).length;
        if (n > 0) blocking.push({ name: s.name, n });
      }
      if (blocking.length > 0) {
        const clones = blocking.reduce((a, b) => a + b.n, 0);
        throw new StorageError({
          status: 409,
          code: "has_dependent_clones",
          message: `volume ${id} has snapshot(s) ${blocking.map((b) => b.name).join(", ")} that ${clones} clone(s) depend on; delete or flatten the clones first`,
          details: { snapshotIds: blocking.map((b) => `${id}@${b.name}`), cloneCount: clones },
        });
      }
      for (const s of list) if (s.protected === "true") await rbd(["snap", "unprotect", `${spec(r)}@${s.name}`], `rbd snap unprotect ${id}@${s.name}`);
      if (list.length > 0) await rbd(["snap", "purge", "--no-progress", spec(r)], `rbd snap purge ${id}`);
      await rbd(["rm", "--no-progress", spec(r)], `rbd rm ${id}`);
    },

    async listSnapshots(q = {}) {
      const out: Snapshot[] = [];
      const vols =
        q.volumeId !== undefined ? [parseVolumeId(q.volumeId, "volumeId")] : (await client.listVolumes({ limit: 1000 })).items.map((v) => parseVolumeId(v.id));
      for (const r of vols) {
        const list = await snaps(r).catch((e) => {
          if (isStorageError(e) && e.status === 404)
            throw new StorageError({ status: 404, code: "not_found", message: `volume ${volId(r)} does not exist`, field: "volumeId" });
          throw e;
        });
        for (const s of list) out.push(await snapshotView(r, s));
      }
      return page(out, q);
    },
    getSnapshot: (id) => getSnapshot(id),
    async createSnapshot(input, opts) {
      const name = checkName(input.name);
      const r = parseVolumeId(input.volumeId, "volumeId");
      const existing = (
        await snaps(r).catch((e) => {
          if (isStorageError(e) && e.status === 404)
            throw new StorageError({ status: 404, code: "not_found", message: `volume ${input.volumeId} does not exist`, field: "volumeId" });
          throw e;
        })
      ).find((s) => s.name === name);
      const keyMeta = `anvil.snap-key.${name}`;
      if (existing) {
        if (opts?.idempotencyKey !== undefined && (await meta(r))[keyMeta] === hash(opts.idempotencyKey, 32)) return snapshotView(r, existing);
        throw new StorageError({ status: 409, code: "name_taken", message: `volume ${input.volumeId} already has a snapshot named ${name}`, field: "name" });
      }
      if (opts?.idempotencyKey !== undefined) await setMeta(r, { [keyMeta]: hash(opts.idempotencyKey, 32) });
      await rbd(["snap", "create", "--no-progress", `${spec(r)}@${name}`], `rbd snap create ${input.volumeId}@${name}`);
      return getSnapshot(`${volId(r)}@${name}`);
    },
    async deleteSnapshot(id) {
      const s = await getSnapshot(id);
      const { vol, snap } = parseSnapshotId(id);
      if (s.cloneCount > 0) {
        throw new StorageError({
          status: 409,
          code: "has_dependent_clones",
          message: `snapshot ${s.name} has ${s.cloneCount} clone(s) that depend on it; delete or flatten them first`,
          details: { cloneCount: s.cloneCount },
        });
      }
      const row = (await snaps(vol)).find((x) => x.name === snap);
      if (row?.protected === "true") await rbd(["snap", "unprotect", `${spec(vol)}@${snap}`], `rbd snap unprotect ${id}`);
      await rbd(["snap", "rm", "--no-progress", `${spec(vol)}@${snap}`], `rbd snap rm ${id}`);
      await rbd(["image-meta", "remove", spec(vol), `anvil.snap-key.${snap}`], "rbd image-meta remove").catch(() => {});
    },

    async listTargets(q = {}) {
      const vols =
        q.volumeId !== undefined
          ? [parseVolumeId(q.volumeId, "volumeId")]
          : (await client.listVolumes({ limit: 1000 })).items.filter((v) => v.targetCount > 0).map((v) => parseVolumeId(v.id));
      const out: Target[] = [];
      for (const r of vols) out.push(...(await targetsOf(r)));
      return page(
        out.filter((t) => (q.initiator === undefined || t.initiator === q.initiator) && (q.protocol === undefined || t.protocol === q.protocol)),
        q,
      );
    },
    async getTarget(id) {
      const { vol, key } = parseTargetId(id);
      const t = (await targetsOf(vol).catch(() => [])).find((x) => x.id === id);
      if (!t || !key) throw notFound("target", id);
      return t;
    },
    async createTarget(input) {
      if (input.protocol !== "rbd")
        throw bad(`Ceph exports volumes over rbd (a cephx identity per attachment), not ${input.protocol}`, "protocol", "protocol_not_supported");
      if (typeof input.initiator !== "string" || !input.initiator.trim() || input.initiator.length > 300)
        throw bad("initiator must name who attaches (1–300 characters)", "initiator");
      const r = parseVolumeId(input.volumeId, "volumeId");
      const key = targetKey(volId(r), input.initiator);
      const existing = (
        await targetsOf(r).catch((e) => {
          if (isStorageError(e) && e.status === 404)
            throw new StorageError({ status: 404, code: "not_found", message: `volume ${input.volumeId} does not exist`, field: "volumeId" });
          throw e;
        })
      ).find((t) => t.id === `${volId(r)}#${key}`);
      const caps = await capsFor(r);
      // get-or-create would keep stale caps; `auth caps` after it makes a repeat converge on the current chain.
      await ceph(["auth", "get-or-create", `client.${cephxName(key)}`, "mon", "profile rbd", "osd", caps, "-o", "/dev/null"], "ceph auth get-or-create");
      await ceph(["auth", "caps", `client.${cephxName(key)}`, "mon", "profile rbd", "osd", caps], "ceph auth caps");
      if (existing) return existing;
      const rec = { initiator: input.initiator, createdAt: new Date().toISOString() };
      await setMeta(r, { [`${META_TARGET}${key}`]: JSON.stringify(rec) });
      return targetView(r, key, rec);
    },
    async deleteTarget(id) {
      const t = await client.getTarget(id);
      const { vol, key } = parseTargetId(t.id);
      await ceph(["auth", "rm", `client.${cephxName(key)}`], "ceph auth rm");
      await rbd(["image-meta", "remove", spec(vol), `${META_TARGET}${key}`], "rbd image-meta remove");
    },
    async connectTarget(_input: ConnectInput) {
      throw new StorageError({
        status: 400,
        code: "not_supported",
        message: "Ceph RBD has no NVMe/iSCSI login: an attacher opens the image with the target's cephx identity (targetSecret)",
      });
    },
    async targetSecret(targetId): Promise<TargetSecret> {
      const t = await client.getTarget(targetId);
      const user = t.rbd!.user;
      const key = (await ceph(["auth", "get-key", `client.${user}`], "ceph auth get-key")).trim();
      return { user, key };
    },

    async writeVolumeData(id, file, opts) {
      const r = parseVolumeId(id);
      if (file.format !== "raw" && file.format !== "qcow2") throw bad(`format must be raw or qcow2, not ${String(file.format)}`, "format");
      const i = await info(r);
      const probe = await json<{ "virtual-size": number; format: string }>(
        exec("qemu-img", ["info", "--output=json", "-f", file.format, file.path], `qemu-img info ${file.path}`, opts?.signal).catch((e) => {
          throw isStorageError(e) && e.status !== 0 ? bad(`${file.path} is not a readable ${file.format} disk file: ${e.message}`, "file") : e;
        }),
      );
      if (probe["virtual-size"] > i.size)
        throw bad(`the disk file is ${probe["virtual-size"]} bytes, larger than volume ${id} (${i.size} bytes)`, "file", "too_large");
      await exec("qemu-img", ["convert", "-n", "-f", file.format, "-O", "raw", file.path, rbdUri(r)], `qemu-img convert into ${id}`, opts?.signal);
      return getVolume(id);
    },
    async readVolumeData(id, opts) {
      const r = parseVolumeId(id);
      await info(r);
      const [c, a] = wrap("rbd", [...common, "--client-mount-timeout", mountTimeout, "export", "--no-progress", spec(r), "-"]);
      const child: ChildProcess = spawn(c, a, { stdio: ["ignore", "pipe", "pipe"], signal: opts?.signal });
      let stderr = "";
      child.stderr!.on("data", (b: Buffer) => {
        if (stderr.length < 4000) stderr += b.toString();
      });
      // Bytes flow through; the stream ends only when rbd exits 0, so a failure midway is an error, not a short read.
      const out = new PassThrough();
      child.stdout!.pipe(out, { end: false });
      child.on("error", (e) => out.destroy(cliError(`rbd export ${id}`, e as CliFailure, cfg.mon, timeoutMs)));
      child.on("close", (code) => {
        if (code === 0) out.end();
        else out.destroy(cliError(`rbd export ${id}`, { message: `rbd export exited ${code}`, code, stderr }, cfg.mon, timeoutMs));
      });
      return out;
    },

    async *listAll<T, Q extends PageQuery>(list: (q?: Q) => Promise<Page<T>>, q?: NoInfer<Omit<Q, "cursor">>) {
      let cursor: string | undefined;
      do {
        const p = await list({ ...q, cursor } as Q);
        yield* p.items;
        cursor = p.nextCursor ?? undefined;
      } while (cursor);
    },
    async close() {},
  };
  return client;
}

/** A fresh image name when the caller has none to give (bench, scripts). */
export function randomImageName(prefix = "v"): string {
  return `${prefix}-${randomBytes(8).toString("hex")}`;
}
