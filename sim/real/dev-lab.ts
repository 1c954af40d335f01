// ANVIL_LAB=real: Anvil beside the REAL lab (sim/real/lab.ts: Ceph, QEMU hosts behind the Redfish BMC, emulated
// DPUs). The lab runs as its own process (`npm run lab -- --real`, detached, in its own process group), not inside
// the BFF: QEMU guests, Ceph and the DPUs' switches then outlive a BFF that is killed, and a restarted BFF adopts
// the running lab through its manifest (<data>/real-lab/lab.json, 0600: BMC passwords, agent tokens, the Ceph
// keyring path) and converges its interrupted work on the same machines. A clean stop of Anvil stops the lab.
//
// prepare() (before the workflow engine starts, so interrupted workflows recovered at start reach Ceph) points the
// storage driver at a running lab's Ceph; start() starts the lab when none runs, enrolls its hosts (skipping those
// enrolled before), inspects and provides them, imports the lab's bootable Debian guest image as the public image
// "debian-12", and creates the provider network "lab-provider" matching the lab's (its CIDR, VLAN, gateway and
// gateway MAC, as an operator does in networks-admin), so a tenant can set a VPC's external gateway and allocate
// floating IPs that really answer there.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { getDb } from "@/db/client";
import { nodes, pools, providerNetworks, users } from "@/db/schema";
import { logger } from "@/server/lib/log";
import { dataDir, derivedKey } from "@/server/lib/secrets";
import type { LabHostRow } from "../lab";
import type { ProviderNetworkInfo } from "./provider";

/** What `npm run lab -- --real --manifest F` writes once everything is up. */
export interface RealLabManifest {
  /** the lab process (its process group leader) */
  pid: number;
  hosts: LabHostRow[];
  /** ANVIL_STORAGE=ceph and the ANVIL_CEPH_* settings of the lab's Ceph */
  storageEnv: Record<string, string>;
  guestImage: { path: string; sizeBytes: number };
  /** the namespace with the provider gateway every DPU's uplink joins (absent in a lab an older Anvil started) */
  provider?: ProviderNetworkInfo;
}

const REPO = path.resolve(import.meta.dirname, "..", "..");
/** A cold start builds the guest image (about 4 minutes here) before Ceph, the hosts and the DPUs start. */
const START_TIMEOUT_MS = 20 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function realLabDir(): string {
  return process.env.ANVIL_REAL_LAB_DIR ? path.resolve(process.env.ANVIL_REAL_LAB_DIR) : path.join(dataDir(), "real-lab");
}
const manifestPath = () => path.join(realLabDir(), "lab.json");

/** The manifest of a real lab that is running now, or undefined. */
export function runningRealLab(): RealLabManifest | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(manifestPath(), "utf8")) as RealLabManifest;
    return Number.isInteger(m.pid) && alive(m.pid) ? m : undefined;
  } catch {
    return undefined;
  }
}

function pointStorage(m: RealLabManifest): void {
  for (const [k, v] of Object.entries(m.storageEnv)) process.env[k] = v;
}

/** Before the workflow engine starts: a lab that outlived an earlier BFF is adopted (its Ceph becomes the storage). */
export function prepareRealLab(): void {
  const m = runningRealLab();
  if (m) pointStorage(m);
}

/** Starts `npm run lab -- --real` detached and waits for its manifest. */
async function launch(hosts: number, ipmiHosts: number, port: number): Promise<RealLabManifest> {
  const dir = realLabDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.rmSync(manifestPath(), { force: true });
  const log = fs.openSync(path.join(dir, "lab.log"), "a");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(REPO, "sim", "lab.ts"),
      "--real",
      "--hosts",
      String(hosts),
      "--ipmi-hosts",
      String(ipmiHosts),
      "--dir",
      path.join(dir, "run"),
      "--manifest",
      manifestPath(),
      "--port-base",
      String(21_000 + (port % 1000) * 20),
      "--quiet",
    ],
    // The agent tokens derive from Anvil's key (the seed goes by environment, not argv), as the sim lab's do.
    {
      cwd: REPO,
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, ANVIL_LAB_TOKEN_SEED: Buffer.from(derivedKey("real-lab-agent-tokens")).toString("hex") },
    },
  );
  fs.closeSync(log);
  child.unref();
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let code: number | null | undefined;
  void exited.then((c) => {
    code = c;
  });
  const until = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < until) {
    const m = runningRealLab();
    if (m && m.pid === child.pid) return m;
    if (code !== undefined) throw new Error(`the real lab exited (${code}) before it was up; see ${path.join(dir, "lab.log")}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  if (child.pid) process.kill(-child.pid, "SIGTERM");
  throw new Error(`the real lab was not up within ${START_TIMEOUT_MS / 60_000} minutes; see ${path.join(dir, "lab.log")}`);
}

export const LAB_PROVIDER_NETWORK = "lab-provider";

/** The lab's provider network in Anvil, created once by the seeded operator admin (kept when it exists). */
async function seedProviderNetwork(p: ProviderNetworkInfo): Promise<void> {
  const db = getDb();
  const [has] = await db.select({ id: providerNetworks.id }).from(providerNetworks).where(eq(providerNetworks.name, LAB_PROVIDER_NETWORK));
  if (has) return;
  const [u] = await db.select().from(users).where(eq(users.platformRole, "operator-admin")).orderBy(users.createdAt).limit(1);
  if (!u) throw new Error("the real lab's provider network needs an operator admin to create it; the seed made none");
  const { createCaller } = await import("@/server/api/root");
  const caller = createCaller({
    db,
    principal: { userId: u.id, email: u.email, name: u.name, platformRole: u.platformRole, sessionId: null, tokenScope: null },
    requestId: "real-lab",
    headers: new Headers(),
  });
  await caller.networksAdmin.createProviderNetwork({
    name: LAB_PROVIDER_NETWORK,
    description: "The real lab's provider network: its gateway is a namespace every DPU's uplink reaches",
    cidr: p.cidr,
    vlanId: p.vlanId,
    gateway: p.gateway,
    gatewayMac: p.gatewayMac,
  });
}

/** Stops the lab process group and waits (bounded) for it to finish its own cleanup. */
export async function stopRealLab(pid: number, waitMs = 60_000): Promise<void> {
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
  }
  for (let t = 0; t < waitMs && alive(pid); t += 200) await new Promise((r) => setTimeout(r, 200));
}

export async function startRealDevLab(opts: { hosts: number; ipmiHosts: number; port: number }): Promise<{ summary: string; close(): Promise<void> }> {
  const t0 = Date.now();
  let m = runningRealLab();
  const adopted = Boolean(m);
  if (!m) m = await launch(opts.hosts, opts.ipmiHosts, opts.port);
  pointStorage(m);
  const lab = m;
  const db = getDb();
  const { enrollLabHosts, inspectAndProvide } = await import("../lab-bootstrap");
  const poolRows = await db.select().from(pools);
  const have = new Set((await db.select({ name: nodes.name }).from(nodes)).map((n) => n.name));
  const fresh = lab.hosts.filter((h) => !have.has(h.name));
  const enrolled = await enrollLabHosts(db, fresh, {
    poolId: (h) => poolRows.find((p) => p.name === h.pool)?.id ?? null,
    requestId: "real-lab",
  });
  for (const f of enrolled.failed) logger.warn({ host: f.host, error: f.message }, "real lab host not enrolled");
  await inspectAndProvide(db, [...enrolled.nodeIds.values()], { createdBy: "real-lab", event: "real lab" });
  // Hosts enrolled by an earlier start keep their rows; their BMC address is the lab's (same port base).
  for (const h of lab.hosts.filter((x) => have.has(x.name))) {
    const [n] = await db.select({ id: nodes.id, state: nodes.provisionState }).from(nodes).where(eq(nodes.name, h.name));
    if (n) logger.info({ host: h.name, state: n.state }, "real lab host enrolled before");
  }
  const { seedDemoContent } = await import("../dev-lab");
  await seedDemoContent({ realImage: lab.guestImage });
  if (lab.provider) await seedProviderNetwork(lab.provider);
  return {
    summary: `real lab (${adopted ? "adopted, pid" : "started, pid"} ${lab.pid}): ${lab.hosts.length} QEMU hosts (${lab.hosts.filter((h) => h.driver === "ipmi").length} behind ipmi_sim) with emulated DPUs on Ceph RBD, ${enrolled.nodeIds.size} enrolled just now, ready in ${Math.round((Date.now() - t0) / 1000)} s; manifest ${manifestPath()}`,
    close: () => stopRealLab(lab.pid, 8_000),
  };
}
