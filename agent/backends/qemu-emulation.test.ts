// The qemu device emulation on its own: the blockdev options it builds (rbd with the key only by reference), and
// against a real q35 QEMU with its default ACPI hot-plug (no guest, so nobody acknowledges an unplug): the unplug
// timeout is a clear 504 that keeps the journal entry for a retry, root ports run out with a 507, detaching what
// is not attached is fine. The full path (HTTP, OVS, Ceph) is in sim/real/dpu.test.ts.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireTools } from "../../test/ovs-lab";
import { type DiskSpec, DiskSpecSchema } from "../schemas";
import type { DeviceEmulation, EmulationJournal } from "./device-emulation";
import { createQemuEmulation, diskBlockdev, rbdBlockdevOptions } from "./qemu-emulation";

const KEY = "AQBmZWVkZmFjZWZlZWRmYWNlZmVlZGZhY2U9PT09PQ==";
const rbd = DiskSpecSchema.parse({
  transport: "rbd",
  target: { pool: "volumes", namespace: "tenant-7", image: "vol-1", monitors: ["10.0.0.1", "[fd00::1]:6789"], user: "anvil-dpu" },
  key: KEY,
  role: "data",
  readOnly: true,
}) as Extract<DiskSpec, { transport: "rbd" }>;

describe("blockdev options", () => {
  it("builds QEMU 7.2's rbd options with the key as a secret reference", () => {
    expect(rbdBlockdevOptions(rbd, "anvil-key-pf0vf1")).toEqual({
      driver: "rbd",
      pool: "volumes",
      namespace: "tenant-7",
      image: "vol-1",
      user: "anvil-dpu",
      "key-secret": "anvil-key-pf0vf1",
      "auth-client-required": ["cephx"],
      server: [
        { host: "10.0.0.1", port: "3300" },
        { host: "fd00::1", port: "6789" },
      ],
    });
    const full = diskBlockdev(rbd, "anvil-node-pf0vf1", "anvil-key-pf0vf1", "/etc/ceph/lab.conf");
    expect(full).toMatchObject({ driver: "raw", "node-name": "anvil-node-pf0vf1", "read-only": true, file: { conf: "/etc/ceph/lab.conf" } });
    expect(JSON.stringify(full)).not.toContain(KEY);
  });

  it("maps iSCSI to QEMU's iscsi driver and refuses nvme-tcp with a specific error", () => {
    const iscsi = DiskSpecSchema.parse({
      transport: "iscsi",
      target: { iqn: "iqn.2024-01.io.anvil:vol-2", address: "10.9.0.2" },
      initiatorIqn: "iqn.2024-01.io.anvil:dpu-1",
      role: "data",
    });
    expect(diskBlockdev(iscsi, "n", "s").file).toEqual({
      driver: "iscsi",
      transport: "tcp",
      portal: "10.9.0.2:3260",
      target: "iqn.2024-01.io.anvil:vol-2",
      lun: 0,
      "initiator-name": "iqn.2024-01.io.anvil:dpu-1",
    });
    const nvme = DiskSpecSchema.parse({
      transport: "nvme-tcp",
      target: { nqn: "nqn.2024-01.io.anvil:vol-1", address: "10.9.0.1" },
      hostNqn: "nqn.2014-08.org.nvmexpress:uuid:dpu-1",
      role: "data",
    });
    expect(() => diskBlockdev(nvme, "n", "s")).toThrow(expect.objectContaining({ status: 422, code: "unsupported_transport" }));
  });
});

describe("against a QEMU whose guest never acknowledges hot-unplug", () => {
  let dir: string;
  let pid = 0;
  let emulation: DeviceEmulation;
  const journalFile = () => JSON.parse(readFileSync(join(dir, "journal.json"), "utf8"));

  beforeAll(async () => {
    requireTools([["qemu-system-x86_64", "qemu-system-x86"]]);
    dir = await mkdtemp(join(tmpdir(), "anvil-qemu-emu-"));
    const sock = join(dir, "qmp.sock");
    await new Promise<void>((res, rej) =>
      execFile(
        "qemu-system-x86_64",
        [
          "-machine",
          "q35",
          ...(existsSync("/dev/kvm") ? ["-accel", "kvm"] : []),
          "-accel",
          "tcg",
          "-m",
          "128",
          "-nodefaults",
          "-display",
          "none",
          "-device",
          "pcie-root-port,id=rp1,chassis=1,slot=1",
          "-qmp",
          `unix:${sock},server=on,wait=off`,
          "-pidfile",
          join(dir, "qemu.pid"),
          "-daemonize",
        ],
        (err, _o, stderr) => (err ? rej(new Error(stderr || err.message)) : res()),
      ),
    );
    pid = Number(readFileSync(join(dir, "qemu.pid"), "utf8").trim());
    await writeFile(join(dir, "seed.iso"), Buffer.alloc(1 << 20));
    const data: Record<string, unknown> = {};
    const journal: EmulationJournal = {
      section<T extends object>(key: string, init: () => T): T {
        data[key] ??= init();
        return data[key] as T;
      },
      save: () => writeFile(join(dir, "journal.json"), JSON.stringify(data)),
    };
    emulation = await createQemuEmulation({ qmpSocket: sock, rootPorts: ["rp1"], unplugTimeoutMs: 1500 }, journal);
  }, 60_000);

  afterAll(async () => {
    await emulation?.close?.();
    if (pid) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("attaches once per name, runs out of root ports with 507, and detaching an unknown name is fine", async () => {
    const fn = { pf: 0, vf: 0, kind: "virtio-blk" as const };
    const a = await emulation.attachSeed("seed", join(dir, "seed.iso"), fn);
    expect(a).toEqual({ bdev: "anvil-node-pf0vf0", endpoint: "anvil-seed-pf0vf0@rp1" });
    expect(await emulation.attachSeed("seed", join(dir, "seed.iso"), fn)).toEqual(a);
    await expect(emulation.attachSeed("other", join(dir, "seed.iso"), { ...fn, vf: 1 })).rejects.toMatchObject({ status: 507, code: "no_free_root_port" });
    await expect(emulation.detachSeed("never-attached")).resolves.toBeUndefined();
    expect(Object.keys(journalFile().qemu.functions)).toEqual(["seed:seed"]);
  });

  it("reports an unplug the host never completes as 504 unplug_timeout and keeps the function journaled", async () => {
    const err = await emulation.detachSeed("seed").then(
      () => undefined,
      (e: unknown) => e as { status: number; code: string; message: string },
    );
    expect(err).toMatchObject({ status: 504, code: "unplug_timeout" });
    expect(err!.message).toContain("anvil-seed-pf0vf0 on root port rp1");
    expect(journalFile().qemu.functions["seed:seed"]).toMatchObject({ rootPort: "rp1", device: "anvil-seed-pf0vf0" });
    // A retry waits for the same pending unplug, and times out the same way.
    await expect(emulation.detachSeed("seed")).rejects.toMatchObject({ code: "unplug_timeout" });
  });
});
