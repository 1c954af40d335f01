// How the linux backend presents functions to its host: the device-emulation seam. On a BlueField the DPU's SPDK
// (SNAP) emulates virtio-blk functions over vfio-user endpoints and each virtio-net function already has an OVS
// representor (`spdk`, below). In the real lab the "DPU" is a process beside a QEMU host, so it hot-plugs virtio
// devices into that QEMU over QMP instead (`qemu`, qemu-emulation.ts). The linux backend keeps the OVS side (ports,
// security flows, tunnels) and the seed-image building; an emulation only creates and removes host functions.
import { isIPv6 } from "node:net";
import { BackendError } from "../errors";
import type { DiskSpec, NicSpec } from "../schemas";
import { SpdkRpcClient } from "./spdk-rpc";
import type { CidataAttachment, DiskAttachment, PcieFunction } from "./types";

/** The emulation's own part of the agent's journal (stateDir/agent-state.json), which survives agent restarts. */
export interface EmulationJournal {
  /** The object stored under `key`, created from `init` when missing; mutate it, then call save(). */
  section<T extends object>(key: string, init: () => T): T;
  save(): Promise<void>;
}

export interface NicFunction {
  /** OVS port standing for the function: the representor (BlueField) or the host's tap (QEMU lab). */
  port: string;
  /** Interface type for that port; unset for a real netdev (representor, tap). */
  portType?: string;
}

export interface DeviceEmulation {
  readonly kind: "spdk" | "qemu";
  /** Presents the remote volume as a virtio-blk function. Attaching an attached name returns the existing attachment. */
  attachDisk(name: string, spec: DiskSpec, fn: PcieFunction): Promise<DiskAttachment>;
  /** Removes the function and the volume's connection; a name that is not attached is fine. */
  detachDisk(name: string): Promise<void>;
  /** Presents a seed image file (ISO 9660 labelled cidata) read-only as a virtio-blk function. */
  attachSeed(name: string, isoPath: string, fn: PcieFunction): Promise<CidataAttachment>;
  detachSeed(name: string): Promise<void>;
  /** Makes the virtio-net function exist on the host and returns the OVS port that stands for it. */
  createNicFunction(name: string, spec: NicSpec, fn: PcieFunction): Promise<NicFunction>;
  deleteNicFunction(name: string): Promise<void>;
  /** Removes every function this agent ever presented, leftovers of a previous run included; returns what failed. */
  reset(): Promise<string[]>;
  close?(): Promise<void>;
}

// ---- spdk: BlueField SNAP / SPDK vfio-user ----------------------------------------------------------------

export interface SpdkEmulationOptions {
  socket: string;
  /** Interface type for NIC ports: unset for real representors, "dummy" or "internal" in tests. */
  nicPortType?: string;
  /** virtio-blk queue settings for vfu_virtio_create_blk_endpoint. */
  blkQueues?: number;
  blkQueueSize?: number;
}

interface BlkJournal {
  kind: "nvme" | "iscsi" | "aio" | "rbd";
  /** Controller (nvme) or bdev (iscsi/aio/rbd) name to delete. */
  owner: string;
  bdev: string;
  endpoint: string;
}

/**
 * SPDK `bdev_rbd_create` parameters for an rbd disk (SPDK ≥ 22.01): `name`, `pool_name`, `rbd_name`, `user_id`,
 * `block_size` (512), and `config`, a map of librados settings applied before connecting: `mon_host` (monitors
 * joined by ','), `key` (the cephx secret) and `auth_client_required` = cephx. SPDK reads no ceph.conf when
 * `config` is given. RBD namespaces are not a parameter of bdev_rbd_create: a namespaced image is rejected.
 */
export function spdkRbdParams(bdev: string, spec: Extract<DiskSpec, { transport: "rbd" }>): Record<string, unknown> {
  if (spec.target.namespace)
    throw new BackendError("unsupported_transport", "SPDK's bdev_rbd_create has no RBD namespace parameter; use an image outside a namespace", 422);
  return {
    name: bdev,
    pool_name: spec.target.pool,
    rbd_name: spec.target.image,
    user_id: spec.target.user,
    block_size: 512,
    config: { mon_host: spec.target.monitors.join(","), key: spec.key, auth_client_required: "cephx" },
  };
}

export function createSpdkEmulation(opts: SpdkEmulationOptions, journal: EmulationJournal): DeviceEmulation {
  const spdk = new SpdkRpcClient(opts.socket);
  const disks = journal.section<Record<string, BlkJournal>>("disks", () => ({}));
  const cidata = journal.section<Record<string, BlkJournal>>("cidata", () => ({}));

  const endpointName = (fn: PcieFunction) => `anvil-blk-pf${fn.pf}vf${fn.vf}`;
  const createEndpoint = (bdev: string, fn: PcieFunction) =>
    spdk.call("vfu_virtio_create_blk_endpoint", { name: endpointName(fn), bdev_name: bdev, num_queues: opts.blkQueues ?? 4, qsize: opts.blkQueueSize ?? 256 });
  const deleteOwner = (j: Pick<BlkJournal, "kind" | "owner">) => {
    if (j.kind === "nvme") return spdk.call("bdev_nvme_detach_controller", { name: j.owner });
    if (j.kind === "iscsi") return spdk.call("bdev_iscsi_delete", { name: j.owner });
    if (j.kind === "rbd") return spdk.call("bdev_rbd_delete", { name: j.owner });
    return spdk.call("bdev_aio_delete", { name: j.owner });
  };
  const destroyBlk = async (j: BlkJournal) => {
    await spdk.call("vfu_virtio_delete_endpoint", { name: j.endpoint });
    await deleteOwner(j);
  };

  return {
    kind: "spdk",

    async attachDisk(name, spec, fn) {
      const existing = disks[name];
      if (existing) return { bdev: existing.bdev, endpoint: existing.endpoint };
      const ctrl = `anvil-${name}`;
      let j: BlkJournal;
      if (spec.transport === "nvme-tcp") {
        const bdevs = await spdk.call<string[]>("bdev_nvme_attach_controller", {
          name: ctrl,
          trtype: "TCP",
          traddr: spec.target.address,
          adrfam: isIPv6(spec.target.address) ? "IPv6" : "IPv4",
          trsvcid: String(spec.target.port),
          subnqn: spec.target.nqn,
          hostnqn: spec.hostNqn,
        });
        if (!Array.isArray(bdevs) || bdevs.length === 0) {
          await spdk.call("bdev_nvme_detach_controller", { name: ctrl }).catch(() => undefined);
          throw new BackendError("no_namespace", `subsystem ${spec.target.nqn} exposes no namespace`);
        }
        j = { kind: "nvme", owner: ctrl, bdev: bdevs[0], endpoint: endpointName(fn) };
      } else if (spec.transport === "iscsi") {
        const host = isIPv6(spec.target.address) ? `[${spec.target.address}]` : spec.target.address;
        await spdk.call("bdev_iscsi_create", {
          name: ctrl,
          initiator_iqn: spec.initiatorIqn,
          url: `iscsi://${host}:${spec.target.port}/${spec.target.iqn}/${spec.target.lun}`,
        });
        j = { kind: "iscsi", owner: ctrl, bdev: ctrl, endpoint: endpointName(fn) };
      } else {
        await spdk.call("bdev_rbd_create", spdkRbdParams(ctrl, spec));
        j = { kind: "rbd", owner: ctrl, bdev: ctrl, endpoint: endpointName(fn) };
      }
      try {
        await createEndpoint(j.bdev, fn);
      } catch (err) {
        await deleteOwner(j).catch(() => undefined);
        throw err;
      }
      disks[name] = j;
      await journal.save();
      return { bdev: j.bdev, endpoint: j.endpoint };
    },

    async detachDisk(name) {
      const j = disks[name];
      if (!j) return;
      await destroyBlk(j);
      delete disks[name];
      await journal.save();
    },

    async attachSeed(name, isoPath, fn) {
      const existing = cidata[name];
      if (existing) return { bdev: existing.bdev, endpoint: existing.endpoint };
      const bdev = `anvil-cidata-${name}`;
      await spdk.call("bdev_aio_create", { name: bdev, filename: isoPath, readonly: true });
      try {
        await createEndpoint(bdev, fn);
      } catch (err) {
        await spdk.call("bdev_aio_delete", { name: bdev }).catch(() => undefined);
        throw err;
      }
      cidata[name] = { kind: "aio", owner: bdev, bdev, endpoint: endpointName(fn) };
      await journal.save();
      return { bdev, endpoint: endpointName(fn) };
    },

    async detachSeed(name) {
      const j = cidata[name];
      if (j) await destroyBlk(j);
      delete cidata[name];
      await journal.save();
    },

    // On a BlueField the virtio-net function and its representor exist already (SNAP creates them with the VF).
    async createNicFunction(_name, _spec, fn) {
      return { port: `pf${fn.pf}vf${fn.vf}`, ...(opts.nicPortType ? { portType: opts.nicPortType } : {}) };
    },
    async deleteNicFunction() {},

    async reset() {
      const failures: string[] = [];
      // SPDK objects from the journal; "no such device" means already gone.
      for (const [kind, map] of [
        ["disk", disks],
        ["cidata", cidata],
      ] as const) {
        for (const [name, j] of Object.entries(map)) {
          try {
            await destroyBlk(j);
          } catch (err) {
            const code = (err as { rpcCode?: number }).rpcCode;
            if (code !== -19 && code !== -32602) failures.push(`${kind} ${name}: ${(err as Error).message}`);
          }
          delete map[name];
        }
      }
      await journal.save();
      return failures;
    },
  };
}
