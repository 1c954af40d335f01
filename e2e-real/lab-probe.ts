// What the real-lab spec checks behind the browser: Ceph (RBD images, cephx identities), the DPU agents' inventory,
// the DPUs' switches (ports, NAT flows) and the hosts' QEMU processes — read from the lab's own tools with the lab's
// manifest, so a leak anywhere below Anvil shows; and the provider network's namespace, where the spec stands outside
// the VPCs to reach a floating IP.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const port = Number(process.env.E2E_REAL_PORT ?? 3299);
export const dataDir = path.resolve(`.data/e2e-real-${port}`);
export const labDir = path.join(dataDir, "real-lab");

interface Manifest {
  pid: number;
  hosts: { name: string; agent_url: string | null; agent_token: string | null }[];
  storageEnv: Record<string, string>;
  provider: { netns: string; cidr: string; gateway: string };
}
export const manifest = (): Manifest => JSON.parse(fs.readFileSync(path.join(labDir, "lab.json"), "utf8")) as Manifest;

function ceph(tool: "rbd" | "ceph", args: string[]): string {
  const e = manifest().storageEnv;
  const base = [tool, "-c", "/dev/null", "-m", e.ANVIL_CEPH_MON, "--id", e.ANVIL_CEPH_USER, "--keyring", e.ANVIL_CEPH_KEYRING, ...args, "--format", "json"];
  const argv = e.ANVIL_CEPH_NETNS ? ["nsenter", `--net=${e.ANVIL_CEPH_NETNS}`, ...base] : base;
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60_000 });
}

/** RBD images in every tenant namespace of the lab's pool ("tenant-<id>/<image>"). */
export function tenantImages(): string[] {
  const pool = manifest().storageEnv.ANVIL_CEPH_POOL ?? "rbd";
  const namespaces = (JSON.parse(ceph("rbd", ["namespace", "ls", "--pool", pool])) as { name: string }[]).map((n) => n.name);
  return namespaces
    .filter((n) => n.startsWith("tenant-"))
    .flatMap((ns) => (JSON.parse(ceph("rbd", ["ls", "--pool", pool, "--namespace", ns])) as string[]).map((i) => `${ns}/${i}`));
}

/** cephx identities Anvil made for attachments (one per target). */
export function attachmentIdentities(): string[] {
  const auth = JSON.parse(ceph("ceph", ["auth", "ls"])) as { auth_dump: { entity: string }[] };
  return auth.auth_dump.map((a) => a.entity).filter((e) => e.startsWith("client.anvil-"));
}

/** Every function (disk, seed, NIC) the DPU agents present to their hosts. */
export async function presentedFunctions(): Promise<string[]> {
  const out: string[] = [];
  for (const h of manifest().hosts) {
    if (!h.agent_url) continue;
    const r = await fetch(`${h.agent_url}/v1/inventory`, { headers: { authorization: `Bearer ${h.agent_token}` } });
    const inv = (await r.json()) as { functions: { address?: string; boundTo?: unknown }[] };
    for (const f of inv.functions) out.push(`${h.name}: ${JSON.stringify(f)}`);
  }
  return out;
}

/** Ports on the DPUs' integration bridges (a tap per NIC an instance had). */
export function dpuSwitchPorts(): string[] {
  const out: string[] = [];
  const dpus = path.join(labDir, "run");
  for (const ovs of dpuSwitches()) {
    const ports = execFileSync("ovs-vsctl", [`--db=unix:${path.join(ovs, "db.sock")}`, "list-ports", "br-int"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    out.push(...ports.map((p) => `${path.relative(dpus, ovs)}: ${p}`));
  }
  return out;
}

/** Flows on the DPUs' integration bridges that NAT (a VPC router's provider side: SNAT or a floating IP). */
export function dpuNatFlows(): string[] {
  const dpus = path.join(labDir, "run");
  return dpuSwitches().flatMap((ovs) =>
    execFileSync("ovs-ofctl", ["-O", "OpenFlow13", "--no-stats", "dump-flows", `unix:${path.join(ovs, "br-int.mgmt")}`], { encoding: "utf8" })
      .split("\n")
      .filter((l) => /[(,]nat[(),]/.test(l))
      .map((l) => `${path.relative(dpus, ovs)}: ${l.trim()}`),
  );
}

/** An HTTP GET from the provider network's namespace (a machine outside the VPCs): the body, or "" when nothing answers in time. */
export function fetchFromProvider(url: string, timeoutS = 3): string {
  try {
    return execFileSync("nsenter", [`--net=${manifest().provider.netns}`, "curl", "-sf", "-m", String(timeoutS), url], {
      encoding: "utf8",
      timeout: 10_000,
    }).trim();
  } catch {
    return "";
  }
}

/** The DPUs' switch folders (every OVS of the lab but the provider network's). */
function dpuSwitches(): string[] {
  const run = path.join(labDir, "run");
  return findDirs(run, "ovs").filter((d) => !d.startsWith(path.join(run, "provider") + path.sep));
}

function findDirs(root: string, name: string, depth = 4): string[] {
  if (depth < 0 || !fs.existsSync(root)) return [];
  const found: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = path.join(root, e.name);
    if (e.name === name && fs.existsSync(path.join(p, "db.sock"))) found.push(p);
    else found.push(...findDirs(p, name, depth - 1));
  }
  return found;
}

/** QEMU processes of this lab (one per host machine, guests or not). */
export function labQemuProcesses(): number {
  return execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("qemu-system") && l.includes(labDir)).length;
}

/** SIGKILLs the BFF (and nothing else: the lab runs in its own process group). */
export function killBff(): void {
  const pid = Number(fs.readFileSync(path.resolve(`test-results/real-bff-${port}.pid`), "utf8"));
  process.kill(pid, "SIGKILL");
}

/** Starts the BFF again on the same data and lab; resolves with its pid once it says it is running. */
export function restartBff(): Promise<number> {
  const log = path.resolve(`test-results/real-bff-restart-${port}.log`);
  const fd = fs.openSync(log, "w");
  const child = spawn("bash", ["scripts/e2e-real-server.sh"], {
    env: { ...process.env, PORT: String(port), E2E_KEEP_DATA: "1" },
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  child.unref();
  return new Promise((resolve, reject) => {
    const until = Date.now() + 10 * 60_000;
    const tick = () => {
      const text = fs.readFileSync(log, "utf8");
      if (/Anvil is running at/.test(text)) return resolve(child.pid!);
      if (child.exitCode !== null) return reject(new Error(`the restarted BFF exited: ${text.slice(-2000)}`));
      if (Date.now() > until) return reject(new Error(`the restarted BFF did not come up: ${text.slice(-2000)}`));
      setTimeout(tick, 500);
    };
    tick();
  });
}
