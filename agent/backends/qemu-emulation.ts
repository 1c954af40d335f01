// The real lab's device emulation: the DPU presents functions to its host by hot-plugging virtio devices into the
// host's QEMU over QMP, the way SNAP/SPDK presents them over PCIe on a BlueField (docs/real-lab.md). Each function
// takes one of the host's pcie-root-ports:
//   disk   → [object-add secret] + blockdev-add (rbd / iscsi) + device_add virtio-blk-pci serial=<name> [bootindex]
//   seed   → blockdev-add (file, read-only) + device_add virtio-blk-pci (cloud-init NoCloud finds the cidata label)
//   NIC    → tap made in QEMU's netns, netdev_add tap + device_add virtio-net-pci (no checksum offload), then the tap
//            moves into the DPU's netns, where it is the NIC's OVS port (the tap-move trick, docs/real-lab-notes.md §5)
// Removal: device_del, wait for DEVICE_DELETED (the guest must release the slot), then blockdev-del / netdev_del /
// object-del / tap removal. Which root port holds which function is journaled (stateDir), and reset() also finds
// leftovers in QEMU by id prefix, so an agent restarted with an empty memory still cleans up after itself.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { BackendError } from "../errors";
import { type DiskSpec, parseMonitor } from "../schemas";
import type { DeviceEmulation, EmulationJournal } from "./device-emulation";
import { deviceDel, QmpClient, QmpError } from "./qmp";
import type { PcieFunction } from "./types";

export interface QemuEmulationOptions {
  /** The host QEMU's QMP socket (unix). */
  qmpSocket: string;
  /** Network namespace file QEMU runs in (taps are created there); unset: the agent's own. */
  qemuNetns?: string;
  /** Network namespace file of this DPU (its OVS and the host's taps live there); unset: the agent's own. */
  dpuNetns?: string;
  /** ids of the host's free pcie-root-ports this DPU may use, one function each. */
  rootPorts: string[];
  /** Prefix of every QMP id this agent creates (devices, nodes, secrets, netdevs); default "anvil". */
  idPrefix?: string;
  /** Prefix of the tap names; default "t" + 6 hex digits of the QMP socket path (unique per host). */
  tapPrefix?: string;
  /** How long to wait for the host to release a device after device_del; default 30 s. */
  unplugTimeoutMs?: number;
  /** ceph.conf for librbd in QEMU; default none (monitors and key come from the disk spec). */
  cephConf?: string;
}

interface QemuFunction {
  kind: "disk" | "seed" | "nic";
  rootPort: string;
  device: string;
  node?: string;
  secret?: string;
  netdev?: string;
  tap?: string;
  /** The tap has been moved into the DPU's netns. */
  tapMoved?: boolean;
}

interface QemuJournal {
  /** By `<kind>:<name>`. */
  functions: Record<string, QemuFunction>;
}

type RbdDisk = Extract<DiskSpec, { transport: "rbd" }>;

/** QEMU 7.2 BlockdevOptionsRbd for a disk spec; the key is passed by reference to a `secret` object, never inline. */
export function rbdBlockdevOptions(spec: RbdDisk, secretId: string, cephConf?: string): Record<string, unknown> {
  return {
    driver: "rbd",
    pool: spec.target.pool,
    ...(spec.target.namespace ? { namespace: spec.target.namespace } : {}),
    image: spec.target.image,
    user: spec.target.user,
    "key-secret": secretId,
    "auth-client-required": ["cephx"],
    // InetSocketAddressBase: the port is a string in QAPI.
    server: spec.target.monitors.map((m) => {
      const { host, port } = parseMonitor(m);
      return { host, port: String(port) };
    }),
    ...(cephConf ? { conf: cephConf } : {}),
  };
}

/** The blockdev-add arguments for a disk: a raw format node over the protocol node. */
export function diskBlockdev(spec: DiskSpec, node: string, secretId: string, cephConf?: string): Record<string, unknown> {
  let file: Record<string, unknown>;
  if (spec.transport === "rbd") file = rbdBlockdevOptions(spec, secretId, cephConf);
  else if (spec.transport === "iscsi")
    file = {
      driver: "iscsi",
      transport: "tcp",
      portal: `${spec.target.address.includes(":") ? `[${spec.target.address}]` : spec.target.address}:${spec.target.port}`,
      target: spec.target.iqn,
      lun: spec.target.lun,
      "initiator-name": spec.initiatorIqn,
    };
  else
    throw new BackendError(
      "unsupported_transport",
      "the qemu emulation cannot attach nvme-tcp volumes (QEMU 7.2 has no NVMe/TCP initiator); use rbd or iscsi",
      422,
    );
  return { driver: "raw", "node-name": node, "read-only": spec.readOnly, discard: "unmap", file };
}

function sh(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(args[0]!, args.slice(1), { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT")
          reject(new BackendError("tool_missing", `${args[0]} is not installed on this DPU; install it with: apt-get install -y iproute2 util-linux`, 500));
        else reject(new BackendError("command_failed", `${args.join(" ")} failed: ${(stderr || err.message).trim().slice(0, 500)}`));
        return;
      }
      resolve(stdout);
    });
  });
}

const isNotFound = (err: unknown) =>
  err instanceof QmpError && (err.errorClass === "DeviceNotFound" || /not found|cannot find|does not exist|no such/i.test(err.desc));

export async function createQemuEmulation(opts: QemuEmulationOptions, journal: EmulationJournal): Promise<DeviceEmulation> {
  if (opts.rootPorts.length === 0) throw new BackendError("no_root_ports", "the qemu emulation needs at least one pcie-root-port id (--root-ports)", 500);
  const prefix = opts.idPrefix ?? "anvil";
  if (!/^[A-Za-z][A-Za-z0-9-]{0,11}$/.test(prefix))
    throw new BackendError("invalid_option", "idPrefix must be 1-12 letters, digits or '-', starting with a letter", 500);
  const tapPrefix = opts.tapPrefix ?? `t${createHash("sha1").update(opts.qmpSocket).digest("hex").slice(0, 6)}`;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,8}$/.test(tapPrefix)) throw new BackendError("invalid_option", "tapPrefix must be 1-9 letters, digits or '-'", 500);
  const unplugTimeoutMs = opts.unplugTimeoutMs ?? 30_000;
  const state = journal.section<QemuJournal>("qemu", () => ({ functions: {} }));

  // In the QEMU netns (taps are created there) and in the DPU netns (where they end up).
  const inNs = (ns: string | undefined, args: string[]) => sh(ns ? ["nsenter", `--net=${ns}`, ...args] : args);
  const moves = opts.dpuNetns !== undefined && opts.dpuNetns !== opts.qemuNetns;

  let qmp: QmpClient | undefined;
  const client = async () => {
    if (!qmp || qmp.closed) {
      try {
        qmp = await QmpClient.connect(opts.qmpSocket, { connectTimeoutMs: 5_000 });
      } catch (err) {
        throw new BackendError("qemu_unreachable", `cannot reach the host's QEMU at ${opts.qmpSocket}: ${(err as Error).message}`, 502);
      }
    }
    return qmp;
  };
  const exec = async <T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T> => {
    const c = await client();
    try {
      return await c.execute<T>(cmd, args);
    } catch (err) {
      if (err instanceof QmpError) throw Object.assign(new BackendError("qemu_error", err.message), { qmp: err });
      throw err;
    }
  };
  const qmpErr = (err: unknown) => (err as { qmp?: QmpError }).qmp ?? err;

  // One QMP operation at a time: root-port allocation and journal updates must not interleave.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.catch(() => undefined).then(fn);
    tail = run;
    return run;
  };

  const freePort = (): string => {
    const used = new Set(Object.values(state.functions).map((f) => f.rootPort));
    const port = opts.rootPorts.find((p) => !used.has(p));
    if (!port)
      throw new BackendError("no_free_root_port", `all ${opts.rootPorts.length} root ports of the host (${opts.rootPorts.join(", ")}) are in use`, 507);
    return port;
  };
  const ids = (kind: QemuFunction["kind"], fn: PcieFunction) => {
    const f = `pf${fn.pf}vf${fn.vf}`;
    return {
      device: `${prefix}-${kind}-${f}`,
      node: `${prefix}-node-${f}`,
      secret: `${prefix}-key-${f}`,
      netdev: `${prefix}-net-${f}`,
      tap: `${tapPrefix}p${fn.pf}v${fn.vf}`,
    };
  };

  /** device_del and wait for DEVICE_DELETED; a device that is not there counts as removed. */
  const unplug = async (device: string, rootPort: string) => {
    const c = await client();
    const abort = new AbortController();
    const gone = c.waitEvent("DEVICE_DELETED", (d) => d.device === device, unplugTimeoutMs, abort.signal);
    gone.catch(() => undefined);
    try {
      await deviceDel(c, device);
    } catch (err) {
      if (isNotFound(err)) {
        abort.abort();
        return;
      }
      // Already being unplugged (an earlier attempt timed out): keep waiting for the same event.
      if (!(err instanceof QmpError && /in the process of unplug|already/i.test(err.desc))) {
        abort.abort();
        throw new BackendError("qemu_error", (err as Error).message);
      }
    }
    // A powered-off host (QEMU stopped or not yet started) has no OS to acknowledge the unplug; a DPU empties the slot
    // of a machine that is off anyway: resetting the stopped machine completes the pending (ACPI) unplug, and it
    // stays off.
    const status = await c.execute<{ running: boolean; status: string }>("query-status").catch(() => undefined);
    if (status && !status.running) await c.execute("system_reset").catch(() => undefined);
    try {
      await gone;
    } catch (err) {
      if (err instanceof QmpError && err.errorClass === "Timeout")
        throw new BackendError(
          "unplug_timeout",
          `the host did not release ${device} on root port ${rootPort} within ${unplugTimeoutMs / 1000} s (the guest must acknowledge PCIe hot-unplug); retry the delete`,
          504,
        );
      throw new BackendError("qemu_error", (err as Error).message);
    }
  };
  const ignoreMissing = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (!isNotFound(qmpErr(err))) throw err;
    }
  };
  const removeTap = async (f: QemuFunction) => {
    if (!f.tap) return;
    for (const ns of [f.tapMoved ? opts.dpuNetns : opts.qemuNetns, f.tapMoved ? opts.qemuNetns : opts.dpuNetns]) {
      try {
        await inNs(ns, ["ip", "link", "del", "dev", f.tap]);
        return;
      } catch {
        // not in that namespace: try the other one
      }
    }
  };
  /** Undoes one function, step by step; each step treats "already gone" as done. */
  const teardown = async (key: string, f: QemuFunction) => {
    await unplug(f.device, f.rootPort);
    if (f.node) await ignoreMissing(exec("blockdev-del", { "node-name": f.node }));
    if (f.secret) await ignoreMissing(exec("object-del", { id: f.secret }));
    if (f.netdev) await ignoreMissing(exec("netdev_del", { id: f.netdev }));
    await removeTap(f);
    delete state.functions[key];
    await journal.save();
  };

  /** Plugs a block node in as a virtio-blk function; on failure undoes what it did. */
  const plugBlk = async (
    key: string,
    kind: "disk" | "seed",
    fn: PcieFunction,
    serialName: string,
    blockdev: Record<string, unknown>,
    extra: Record<string, unknown>,
    secret?: { id: string; data: string },
  ) => {
    const rootPort = freePort();
    const id = ids(kind, fn);
    const f: QemuFunction = { kind, rootPort, device: id.device, node: id.node, ...(secret ? { secret: secret.id } : {}) };
    // Journal first: a crash between the steps leaves a record reset() can follow.
    state.functions[key] = f;
    await journal.save();
    try {
      if (secret) await exec("object-add", { "qom-type": "secret", id: secret.id, data: secret.data, format: "base64" });
      await exec("blockdev-add", blockdev);
      // virtio-blk serials are at most 20 bytes (VIRTIO_BLK_ID_BYTES); the guest sees /dev/disk/by-id/virtio-<serial>.
      await exec("device_add", { driver: "virtio-blk-pci", id: id.device, drive: id.node, bus: rootPort, serial: serialName.slice(0, 20), ...extra });
    } catch (err) {
      await ignoreMissing(exec("device_del", { id: id.device })).catch(() => undefined);
      await ignoreMissing(exec("blockdev-del", { "node-name": id.node })).catch(() => undefined);
      if (secret) await ignoreMissing(exec("object-del", { id: secret.id })).catch(() => undefined);
      delete state.functions[key];
      await journal.save();
      throw err;
    }
    return { bdev: id.node, endpoint: `${id.device}@${rootPort}` };
  };

  return {
    kind: "qemu",

    attachDisk(name, spec, fn) {
      return serial(async () => {
        const key = `disk:${name}`;
        const have = state.functions[key];
        if (have) return { bdev: have.node!, endpoint: `${have.device}@${have.rootPort}` };
        const id = ids("disk", fn);
        const blockdev = diskBlockdev(spec, id.node, id.secret, opts.cephConf);
        return plugBlk(
          key,
          "disk",
          fn,
          name,
          blockdev,
          spec.role === "boot" ? { bootindex: 1 } : {},
          spec.transport === "rbd" ? { id: id.secret, data: spec.key } : undefined,
        );
      });
    },

    detachDisk(name) {
      return serial(async () => {
        const f = state.functions[`disk:${name}`];
        if (f) await teardown(`disk:${name}`, f);
      });
    },

    attachSeed(name, isoPath, fn) {
      return serial(async () => {
        const key = `seed:${name}`;
        const have = state.functions[key];
        if (have) return { bdev: have.node!, endpoint: `${have.device}@${have.rootPort}` };
        const id = ids("seed", fn);
        const blockdev = { driver: "raw", "node-name": id.node, "read-only": true, file: { driver: "file", filename: isoPath, "read-only": true } };
        return plugBlk(key, "seed", fn, name, blockdev, {});
      });
    },

    detachSeed(name) {
      return serial(async () => {
        const f = state.functions[`seed:${name}`];
        if (f) await teardown(`seed:${name}`, f);
      });
    },

    createNicFunction(name, spec, fn) {
      return serial(async () => {
        const key = `nic:${name}`;
        const have = state.functions[key];
        if (have) return { port: have.tap! };
        const rootPort = freePort();
        const id = ids("nic", fn);
        const f: QemuFunction = { kind: "nic", rootPort, device: id.device, netdev: id.netdev, tap: id.tap };
        state.functions[key] = f;
        await journal.save();
        try {
          // A leftover tap of that name (a crash mid-create) would make tuntap add fail.
          await removeTap(f);
          await inNs(opts.qemuNetns, ["ip", "tuntap", "add", "dev", id.tap, "mode", "tap"]);
          await exec("netdev_add", { type: "tap", id: id.netdev, ifname: id.tap, script: "no", downscript: "no" });
          // No checksum offload either way: the tap's other end is a userspace OVS port that forwards a guest's
          // partial (offloaded) TCP/UDP checksums as they are — into a VXLAN tunnel too — so the far guest would drop
          // every TCP segment while ping (checksummed by the guest) goes through. A DPU's virtio-net does it in hardware.
          await exec("device_add", {
            driver: "virtio-net-pci",
            id: id.device,
            netdev: id.netdev,
            bus: rootPort,
            mac: spec.mac,
            csum: false,
            guest_csum: false,
          });
          if (moves) {
            await inNs(opts.qemuNetns, ["ip", "link", "set", "dev", id.tap, "netns", opts.dpuNetns!]);
            f.tapMoved = true;
            await journal.save();
          }
          await inNs(opts.dpuNetns, ["ip", "link", "set", "dev", id.tap, "mtu", String(spec.mtu), "up"]);
        } catch (err) {
          await ignoreMissing(exec("device_del", { id: id.device })).catch(() => undefined);
          await ignoreMissing(exec("netdev_del", { id: id.netdev })).catch(() => undefined);
          await removeTap(f);
          delete state.functions[key];
          await journal.save();
          throw err;
        }
        return { port: id.tap };
      });
    },

    deleteNicFunction(name) {
      return serial(async () => {
        const f = state.functions[`nic:${name}`];
        if (f) await teardown(`nic:${name}`, f);
      });
    },

    reset() {
      return serial(async () => {
        const failures: string[] = [];
        const attempt = async (what: string, p: Promise<unknown>) => {
          try {
            await p;
          } catch (err) {
            if (!isNotFound(qmpErr(err))) failures.push(`${what}: ${(err as Error).message}`);
          }
        };
        // What the journal knows, then whatever else in QEMU carries this agent's prefix.
        for (const [key, f] of Object.entries(state.functions)) await attempt(key, teardown(key, f));
        const mine = (id: string) => id.startsWith(`${prefix}-`);
        const peripherals = await exec<{ name: string; type: string }[]>("qom-list", { path: "/machine/peripheral" });
        for (const p of peripherals) if (p.type.startsWith("child<") && mine(p.name)) await attempt(`device ${p.name}`, unplug(p.name, "?"));
        const nodes = await exec<{ "node-name": string }[]>("query-named-block-nodes", { flat: true });
        for (const n of nodes) if (mine(n["node-name"])) await attempt(`block node ${n["node-name"]}`, exec("blockdev-del", { "node-name": n["node-name"] }));
        const objects = await exec<{ name: string; type: string }[]>("qom-list", { path: "/objects" });
        for (const o of objects) if (mine(o.name)) await attempt(`object ${o.name}`, exec("object-del", { id: o.name }));
        // QEMU 7.2 has no query-netdev; HMP `info network` lists them ("<id>: index=N,type=tap,ifname=…").
        const network = await exec<string>("human-monitor-command", { "command-line": "info network" });
        for (const m of network.matchAll(/^[\s\\_]*([A-Za-z][\w.-]*): index=/gm))
          if (mine(m[1]!)) await attempt(`netdev ${m[1]}`, exec("netdev_del", { id: m[1] }));
        // Taps named with this agent's prefix, in both namespaces.
        for (const ns of new Set([opts.qemuNetns, opts.dpuNetns])) {
          const links = await inNs(ns, ["ip", "-o", "link", "show"]).catch(() => "");
          for (const m of links.matchAll(/^\d+: ([^:@\s]+)/gm))
            if (m[1]!.startsWith(tapPrefix)) await attempt(`tap ${m[1]}`, inNs(ns, ["ip", "link", "del", "dev", m[1]!]));
        }
        state.functions = {};
        await journal.save();
        return failures;
      });
    },

    async close() {
      qmp?.close();
      qmp = undefined;
    },
  };
}
