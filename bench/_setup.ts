// What the in-process benchmarks (console, hardware, instances, volume-create) do first: a private data folder with
// quiet logs, an embedded Postgres migrated to the current schema, and, where they need one, a Redfish simulator in
// a child process (so its CPU is not counted as the BFF's). Server modules are imported only after the environment
// is set, so they read it.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** A fresh data folder (ANVIL_DATA_DIR) under the system's temp folder; logs at warn unless LOG_LEVEL says. */
export function benchDataDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `anvil-bench-${name}-`));
  fs.chmodSync(dir, 0o755);
  process.env.ANVIL_DATA_DIR = dir;
  process.env.LOG_LEVEL ??= "warn";
  return dir;
}

/** An embedded Postgres in `dir`, migrated; DATABASE_URL points at it. */
export async function benchPostgres(dir: string) {
  const { startEmbeddedPostgres } = await import("../db/embedded");
  const { runMigrations } = await import("../db/migrate");
  const pg = await startEmbeddedPostgres({ dataDir: dir, database: "anvil" });
  process.env.DATABASE_URL = pg.url;
  await runMigrations(pg.url);
  return pg;
}

/**
 * Starts the Redfish simulator in a child process with `options` (a TypeScript object literal) and waits for it to
 * write `report` (an expression of `sim`) as JSON into `dir`; the child stays up until it is killed.
 */
export async function spawnRedfishSim<T>(dir: string, options: string, report: string): Promise<{ proc: ChildProcess; out: T }> {
  const file = path.join(dir, "sim.json");
  const script = `import { startRedfishSim } from "./sim/redfish/index.ts";
import fs from "node:fs";
const sim = await startRedfishSim(${options});
fs.writeFileSync(${JSON.stringify(file)}, JSON.stringify(${report}));
setInterval(() => {}, 1 << 30);`;
  const proc = spawn(process.execPath, ["--import", "tsx", "-e", script], { stdio: ["ignore", "inherit", "inherit"] });
  for (let i = 0; i < 600 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  return { proc, out: JSON.parse(fs.readFileSync(file, "utf8")) as T };
}
