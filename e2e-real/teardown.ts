// After `npm run test:real`, whatever happened to the BFF: the real lab (its own process group) is stopped, and
// waited for, so no Ceph daemon, QEMU or DPU switch outlives the run.
import fs from "node:fs";
import path from "node:path";
import { labDir } from "./lab-probe";

export default async function teardown(): Promise<void> {
  let pid: number | undefined;
  try {
    pid = (JSON.parse(fs.readFileSync(path.join(labDir, "lab.json"), "utf8")) as { pid: number }).pid;
  } catch {
    return;
  }
  const alive = () => {
    try {
      process.kill(pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    process.kill(pid, "SIGTERM");
  }
  for (let t = 0; t < 120_000 && alive(); t += 250) await new Promise((r) => setTimeout(r, 250));
  if (alive()) process.kill(-pid, "SIGKILL");
}
