// Ports a test run has handed out once. The server tests share one database, where a closed simulator's nodes stay
// enrolled at their loopback addresses, and the kernel gives a closed listener's port to the next one that asks:
// a later file's simulator could then listen where a stale row says a BMC is, and its enrollment be refused as a
// duplicate. With ANVIL_SIM_PORT_CLAIMS set (test/db.ts sets it per run), a simulator takes an ephemeral port only
// if no simulator of the run had it before: the claim is a file created exclusively in that directory.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Where a run's simulators claim their ports: named by the run's database; test/global-setup.ts removes it. */
export function portClaimsDir(databaseUrl: string): string {
  return path.join(os.tmpdir(), "anvil-port-claims", new URL(databaseUrl).pathname.slice(1));
}

/** True when `port` on `host` is this caller's for good (or when no claims are kept: outside tests). */
export function claimPort(host: string, port: number): boolean {
  const dir = process.env.ANVIL_SIM_PORT_CLAIMS;
  if (!dir) return true;
  fs.mkdirSync(dir, { recursive: true });
  try {
    fs.writeFileSync(path.join(dir, `${host}_${port}`), "", { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}
