// Ceph RBD clone speed through Anvil's driver: starts a real single-node Ceph (sim/real/ceph.ts), writes a golden
// image of a few hundred MB into a volume, snapshots it, then times N clones of that snapshot into a tenant
// namespace (each one a full StorageClient.cloneVolume: checks, clone, metadata, the volume read back) and, for
// comparison, bare `rbd clone` CLI calls. Prints figures; asserts nothing. Env: CLONES (default 100), IMAGE_MB (256).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createCephStorageClient } from "../server/drivers/storage/ceph";
import { startCeph } from "../sim/real/ceph";

const run = promisify(execFile);
const N = Number(process.env.CLONES ?? 100);
const IMAGE_MB = Number(process.env.IMAGE_MB ?? 256);
const MiB = 2 ** 20;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const load = () => os.loadavg()[0].toFixed(2);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-bench-ceph-"));
const t0 = performance.now();
const lab = await startCeph({ dir });
try {
  console.log(`ceph up (HEALTH_OK) in ${ms(performance.now() - t0)}, load ${load()}`);
  const s = createCephStorageClient({ mon: lab.monAddr, user: "admin", keyring: lab.adminKeyring, netns: lab.netns });
  const dp = (await s.listDiskPools()).items[0];
  let t = performance.now();
  const pool = await s.createLogicalPool({ name: "bench", diskPoolId: dp.id, redundancy: { type: "replica", copies: 1 } });
  console.log(`logical pool create (osd pool create + size + rbd pool init): ${ms(performance.now() - t)}`);

  // Half random data, half zeros: a disk image has both, and qemu-img skips the zeros.
  const file = path.join(dir, "golden.raw");
  const fd = fs.openSync(file, "w");
  for (let i = 0; i < IMAGE_MB / 2; i++) fs.writeSync(fd, randomBytes(MiB));
  fs.ftruncateSync(fd, IMAGE_MB * MiB);
  fs.closeSync(fd);
  const gold = await s.createVolume({ name: "img-golden", logicalPoolId: pool.id, sizeBytes: IMAGE_MB * MiB, namespace: "images" });
  t = performance.now();
  await s.writeVolumeData(gold.id, { path: file, format: "raw" });
  const importMs = performance.now() - t;
  console.log(
    `import ${IMAGE_MB} MiB (${IMAGE_MB / 2} MiB data) with qemu-img convert: ${ms(importMs)} (${(IMAGE_MB / 2 / (importMs / 1000)).toFixed(0)} MiB/s of data), load ${load()}`,
  );
  t = performance.now();
  const snap = await s.createSnapshot({ volumeId: gold.id, name: "golden" });
  console.log(`snapshot: ${ms(performance.now() - t)}`);

  const times: number[] = [];
  const all = performance.now();
  for (let i = 0; i < N; i++) {
    const c0 = performance.now();
    await s.cloneVolume({ name: `sys-${i}`, sourceSnapshotId: snap.id, namespace: "tenant-bench" }, { idempotencyKey: `bench-${i}` });
    times.push(performance.now() - c0);
  }
  const total = performance.now() - all;
  console.log(
    `driver cloneVolume ×${N}: total ${(total / 1000).toFixed(1)} s, per clone mean ${ms(total / N)}, p50 ${ms(pct(times, 50))}, p99 ${ms(pct(times, 99))}, max ${ms(Math.max(...times))}, load ${load()}`,
  );
  console.log(`snapshot now has ${(await s.getSnapshot(snap.id)).cloneCount} clones; golden used ${(await s.getVolume(gold.id)).usedBytes} bytes`);

  const cli: number[] = [];
  const C = ["-c", "/dev/null", "-m", lab.monAddr, "--id", "admin", "--keyring", lab.adminKeyring];
  for (let i = 0; i < 20; i++) {
    const c0 = performance.now();
    await run("nsenter", [
      `--net=${lab.netns}`,
      "rbd",
      ...C,
      "clone",
      "--rbd-default-clone-format",
      "2",
      `bench/images/img-golden@golden`,
      `bench/tenant-bench/raw-${i}`,
    ]);
    cli.push(performance.now() - c0);
  }
  console.log(`bare rbd clone ×20: p50 ${ms(pct(cli, 50))}, p99 ${ms(pct(cli, 99))} (CLI start-up included)`);

  const one: number[] = [];
  for (let i = 0; i < 10; i++) {
    const c0 = performance.now();
    await run("nsenter", [`--net=${lab.netns}`, "rbd", ...C, "ls", "bench/tenant-bench", "--format", "json"]);
    one.push(performance.now() - c0);
  }
  console.log(`one read-only CLI call (rbd ls, ${N + 20} images) ×10: p50 ${ms(pct(one, 50))}, p99 ${ms(pct(one, 99))}`);

  t = performance.now();
  for (let i = 0; i < N; i++) await s.deleteVolume(`bench/tenant-bench/sys-${i}`);
  console.log(`driver deleteVolume ×${N}: total ${((performance.now() - t) / 1000).toFixed(1)} s, load ${load()}`);
} finally {
  await lab.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
