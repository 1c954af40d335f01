// The real lab's Ceph starter: up to HEALTH_OK, up again over the leftover folder (it stops what is there first),
// and down leaves no daemon and no namespace mount behind.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { startCeph, stopCeph } from "./ceph";

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-ceph-lab-"));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pids = () =>
  fs
    .readdirSync(path.join(dir, "ceph", "run"))
    .filter((f) => f.endsWith(".pid"))
    .map((f) => Number(fs.readFileSync(path.join(dir, "ceph", "run", f), "utf8")));

afterAll(async () => {
  await stopCeph(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

it("starts a healthy single-node Ceph in its own netns, restarts over a leftover folder, and stops cleanly", async () => {
  const first = await startCeph({ dir, osdBytes: 2 * 2 ** 30 });
  const firstPids = pids();
  expect(firstPids).toHaveLength(3);
  const second = await startCeph({ dir, osdBytes: 2 * 2 ** 30 });
  expect(firstPids.some(alive)).toBe(false);
  const { stdout } = await run("nsenter", [`--net=${second.netns}`, "ceph", "-c", second.conf, "health"]);
  expect(stdout.trim()).toBe("HEALTH_OK");
  // Nothing listens on the host's loopback: the monitor is only inside the namespace.
  const host = await run("ceph", ["-c", "/dev/null", "-m", second.monAddr, "--keyring", second.adminKeyring, "--connect-timeout", "3", "health"]).then(
    () => "answered",
    () => "refused",
  );
  expect(host).toBe("refused");
  const secondPids = pids();
  await first.stop();
  expect(secondPids.some(alive)).toBe(false);
  expect(fs.existsSync(second.netns)).toBe(false);
  expect(fs.readFileSync("/proc/mounts", "utf8")).not.toContain(dir);
}, 240_000);
