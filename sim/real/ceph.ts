// The real lab's storage: a single-node Ceph (1 mon, 1 mgr, 1 bluestore OSD on a sparse file) inside a network
// namespace bound to a file (`<dir>/netns`), everything on 127.0.0.1, following docs/real-lab-notes.md §1.
// `startCeph({ dir })` brings it to HEALTH_OK and returns what a client needs; `stop()` kills the daemons by their
// pid files and removes the namespace. Starting over a leftover folder stops what is there first.
// CLI: npx tsx sim/real/ceph.ts up|down --dir D
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CephLab {
  dir: string;
  /** The network namespace file every daemon (and every client) runs in. */
  netns: string;
  conf: string;
  /** Monitor address for clients (`-m`, `mon_host`). */
  monAddr: string;
  /** Keyring with client.admin. */
  adminKeyring: string;
  stop(): Promise<void>;
}

export interface StartCephOptions {
  dir: string;
  /** Size of the OSD's sparse block file; default 10 GiB. */
  osdBytes?: number;
  /** Give up waiting for HEALTH_OK after this long; default 180 s. */
  timeoutMs?: number;
}

const MON_ADDR = "127.0.0.1:6789";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function need(tool: string): Promise<void> {
  for (const d of (process.env.PATH ?? "/usr/bin:/bin").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin"])) {
    if (fs.existsSync(path.join(d, tool))) return;
  }
  throw new Error(`${tool} is not installed: the real lab needs Debian's ceph-mon, ceph-mgr, ceph-osd and ceph-common (scripts/system-deps.sh)`);
}

async function sh(cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(err.stderr || err.message).trim().slice(0, 800)}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a Ceph started in `dir` (daemons by pid file, then the netns); does nothing where nothing is left. */
export async function stopCeph(dir: string): Promise<void> {
  const runDir = path.join(dir, "ceph", "run");
  const pids: number[] = [];
  if (fs.existsSync(runDir)) {
    for (const f of fs.readdirSync(runDir)) {
      if (!f.endsWith(".pid")) continue;
      const pid = Number(fs.readFileSync(path.join(runDir, f), "utf8").trim());
      if (Number.isInteger(pid) && pid > 1 && pidAlive(pid)) pids.push(pid);
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 150 && pids.some(pidAlive); i++) await sleep(100);
  for (const pid of pids.filter(pidAlive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && pids.some(pidAlive); i++) await sleep(100);
  const netns = path.join(dir, "netns");
  if (fs.existsSync(netns)) {
    await run("umount", [netns]).catch(() => {});
    fs.rmSync(netns, { force: true });
  }
}

function confText(d: string, fsid: string, osdBytes: number): string {
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = ${d}/keyring
run dir = ${d}/run
pid file = ${d}/run/$name.pid
log file = ${d}/log/$name.log
admin socket = ${d}/run/$name.asok
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
osd crush chooseleaf type = 0
mgr initial modules = iostat
[client]
admin socket = ${d}/run/$name.$pid.asok
log file = ${d}/log/$name.$pid.log
[mon]
mon data = ${d}/mon.$id
[mgr]
mgr data = ${d}/mgr.$id
keyring = ${d}/mgr.$id/keyring
[osd]
osd data = ${d}/osd.$id
keyring = ${d}/osd.$id/keyring
osd objectstore = bluestore
bluestore block create = true
bluestore block size = ${osdBytes}
osd memory target = 1073741824
`;
}

/** Starts a single-node Ceph in `dir` and waits for HEALTH_OK. */
export async function startCeph(opts: StartCephOptions): Promise<CephLab> {
  for (const t of ["ceph-mon", "ceph-mgr", "ceph-osd", "ceph", "ceph-authtool", "monmaptool", "nsenter", "unshare"]) await need(t);
  const dir = path.resolve(opts.dir);
  await stopCeph(dir);
  const d = path.join(dir, "ceph");
  fs.rmSync(d, { recursive: true, force: true });
  for (const sub of ["run", "log", "mon.a", "mgr.x", "osd.0"]) fs.mkdirSync(path.join(d, sub), { recursive: true });
  const netns = path.join(dir, "netns");
  const conf = path.join(d, "ceph.conf");
  const keyring = path.join(d, "keyring");
  const lab = (cmd: string, args: string[], timeoutMs?: number) => sh("nsenter", [`--net=${netns}`, cmd, ...args], timeoutMs);
  const stop = () => stopCeph(dir);
  try {
    fs.writeFileSync(netns, "");
    await sh("unshare", [`--net=${netns}`, "true"]);
    await lab("ip", ["link", "set", "lo", "up"]);
    const fsid = randomUUID();
    fs.writeFileSync(conf, confText(d, fsid, opts.osdBytes ?? 10 * 2 ** 30));
    const C = ["-c", conf];
    await sh("ceph-authtool", ["--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"]);
    await sh("ceph-authtool", [
      keyring,
      "--gen-key",
      "-n",
      "client.admin",
      "--cap",
      "mon",
      "allow *",
      "--cap",
      "osd",
      "allow *",
      "--cap",
      "mds",
      "allow *",
      "--cap",
      "mgr",
      "allow *",
    ]);
    fs.chmodSync(keyring, 0o600);
    const monmap = path.join(d, "monmap");
    await sh("monmaptool", ["--create", "--clobber", "--fsid", fsid, "--addv", "a", "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]", monmap]);
    await sh("ceph-mon", [...C, "--mkfs", "-i", "a", `--monmap=${monmap}`, `--keyring=${keyring}`]);
    await lab("ceph-mon", [...C, "-i", "a"]);
    await lab("ceph", [
      ...C,
      "auth",
      "get-or-create",
      "mgr.x",
      "mon",
      "allow profile mgr",
      "mds",
      "allow *",
      "osd",
      "allow *",
      "-o",
      path.join(d, "mgr.x", "keyring"),
    ]);
    await lab("ceph-mgr", [...C, "-i", "x"]);
    const uuid = randomUUID();
    const secret = (await sh("ceph-authtool", ["--gen-print-key"])).trim();
    const newJson = path.join(d, "osd.0", "new.json");
    fs.writeFileSync(newJson, JSON.stringify({ cephx_secret: secret }), { mode: 0o600 });
    await lab("ceph", [...C, "osd", "new", uuid, "-i", newJson]);
    fs.rmSync(newJson);
    // Must reach the mon, so it runs in the namespace (outside it waits 300 s and fails).
    await lab("ceph-osd", [...C, "-i", "0", "--mkfs", "--key", secret, "--osd-uuid", uuid], 300_000);
    fs.writeFileSync(path.join(d, "osd.0", "keyring"), `[osd.0]\n\tkey = ${secret}\n`, { mode: 0o600 });
    await lab("ceph-osd", [...C, "-i", "0"]);
    const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
    let last = "";
    for (;;) {
      last = await lab("ceph", [...C, "health"]).catch((e: Error) => e.message);
      const up = last.startsWith("HEALTH_OK") && (await lab("ceph", [...C, "osd", "stat"]).catch(() => "")).includes("1 up");
      if (up) break;
      if (Date.now() > deadline) throw new Error(`Ceph did not reach HEALTH_OK with 1 OSD up in ${opts.timeoutMs ?? 180_000} ms; last: ${last.trim()}`);
      await sleep(500);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, netns, conf, monAddr: MON_ADDR, adminKeyring: keyring, stop };
}

/** Reads what `up` left in `dir` (for scripts that attach to a running lab). */
export function cephLabAt(dir: string): Omit<CephLab, "stop"> {
  const d = path.resolve(dir);
  return { dir: d, netns: path.join(d, "netns"), conf: path.join(d, "ceph", "ceph.conf"), monAddr: MON_ADDR, adminKeyring: path.join(d, "ceph", "keyring") };
}

async function main(argv: string[]): Promise<void> {
  const cmd = argv[0];
  const i = argv.indexOf("--dir");
  const dir = i >= 0 ? argv[i + 1] : undefined;
  if ((cmd !== "up" && cmd !== "down") || !dir) {
    console.error("usage: npx tsx sim/real/ceph.ts up|down --dir DIR");
    process.exit(2);
  }
  if (cmd === "down") {
    await stopCeph(dir);
    console.log(`ceph in ${path.resolve(dir)} stopped`);
    return;
  }
  const t0 = Date.now();
  const lab = await startCeph({ dir });
  console.log(`ceph up in ${((Date.now() - t0) / 1000).toFixed(1)} s (HEALTH_OK)`);
  console.log(`ANVIL_STORAGE=ceph ANVIL_CEPH_MON=${lab.monAddr} ANVIL_CEPH_USER=admin ANVIL_CEPH_KEYRING=${lab.adminKeyring} ANVIL_CEPH_NETNS=${lab.netns}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? "")) {
  main(process.argv.slice(2)).catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
