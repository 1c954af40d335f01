// Benchmark of the whole lab at fleet scale: ONE process starts 10,000 hosts + 10,000 DPU BMCs (Redfish simulator),
// the storage service and 10,000 DPU agents, then prints start time, RSS and heap after start, checks a sample of the
// wiring (DPU BMC → agent URL, agent token), and measures requests/s the process serves: GET Systems/<id> spread over
// many BMCs (and GET /v1/health over many agents) from keep-alive undici Pools in a child process for a few seconds.
//
//   npx tsx bench/lab.ts [--hosts 10000] [--clients 64] [--seconds 5] [--targets 2000]
//
// File descriptors: every BMC and every agent is one listening socket. 20,000 BMCs + 10,000 agents need ~30,000,
// above this machine's hard open-file limit (20,000), which a process cannot raise. So the bench re-runs itself in a
// private network namespace (`unshare -n`, loopback only), where the lab's "netns" address mode serves every BMC from
// ONE wildcard listener and each agent gets its own 127.20.y.z. Without unshare it falls back to "ports" mode with
// the largest fleet the open-file limit allows, and says so.

import { execFileSync, fork, spawnSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { softFileLimit } from "../sim/os-limits";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "10000" },
    clients: { type: "string", default: "64" },
    seconds: { type: "string", default: "5" },
    targets: { type: "string", default: "2000" },
    role: { type: "string" },
    address: { type: "string" },
  },
});
const self = fileURLToPath(import.meta.url);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

interface LoadTarget {
  origin: string;
  path: string;
  auth: string;
}
interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

const openFileLimit = () => softFileLimit() ?? 1024;

function inPrivateNetns(): boolean {
  const names = Object.keys(os.networkInterfaces());
  return names.length > 0 && names.every((n) => n === "lo");
}

// ---- load generator (child process, so the lab's figures are its own) --------------------------------------

async function loadRole(): Promise<void> {
  const { Pool } = await import("undici");
  // The target list is too big for an environment variable (E2BIG), so it comes over the IPC channel.
  const cfg = await new Promise<{ targets: LoadTarget[]; seconds: number; clients: number }>((resolve) => process.once("message", (m) => resolve(m as never)));
  const pools = cfg.targets.map((t) => ({ pool: new Pool(t.origin, { connections: 1 }), path: t.path, auth: t.auth }));
  const get = async (i: number) => {
    const p = pools[i % pools.length];
    const r = await p.pool.request({ path: p.path, method: "GET", headers: { authorization: p.auth } });
    await r.body.text();
    return r.statusCode;
  };
  // Warm-up: open every keep-alive connection once (not measured).
  let w = 0;
  await Promise.all(
    Array.from({ length: cfg.clients }, async () => {
      while (w < pools.length) await get(w++);
    }),
  );
  const lat: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  const end = t0 + cfg.seconds * 1000;
  await Promise.all(
    Array.from({ length: cfg.clients }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        if ((await get(next++)) !== 200) errors++;
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(pools.map(({ pool }) => pool.close()));
  lat.sort((a, b) => a - b);
  const res: LoadResult = { requests: lat.length, errors, seconds, p50: lat[Math.floor(lat.length * 0.5)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0 };
  process.send?.(res, () => process.exit(0));
}

function runLoad(targets: LoadTarget[], seconds: number, clients: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(self, ["--role", "load"]);
    child.send({ targets, seconds, clients });
    child.once("message", (m) => resolve(m as LoadResult));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

// ---- the lab under measurement ----------------------------------------------------------------------------

async function labRole(hosts: number, address: "netns" | "ports"): Promise<void> {
  const { startLab } = await import("../sim/lab");
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const nTargets = Number(values.targets);

  global.gc?.();
  const t0 = performance.now();
  const lab = await startLab({ hosts, address, quiet: true });
  const startMs = performance.now() - t0;
  global.gc?.();
  const mem = process.memoryUsage();
  const bmcs = lab.redfish.bmcs;
  console.log(`lab: ${hosts} hosts + ${bmcs.length - hosts} DPU BMCs + ${lab.agents.size} agents + storage in ONE process (address mode ${address})`);
  console.log(`  start      ${(startMs / 1000).toFixed(2)} s`);
  console.log(`  memory     RSS ${mib(mem.rss)}, heap used ${mib(mem.heapUsed)} (of ${mib(mem.heapTotal)})`);

  // The wiring holds at scale: a few DPUs advertise their own agent, which answers its own token only.
  const basic = `Basic ${Buffer.from(`${bmcs[0].username}:${bmcs[0].password}`).toString("base64")}`;
  const sample = [0, 1, Math.floor(hosts / 2), hosts - 1].map((i) => lab.hosts[i]).filter((h) => h?.agent_url);
  for (const h of sample) {
    const dpu = lab.redfish.byId(`${h.name}-dpu`);
    if (!dpu) throw new Error(`no DPU BMC for ${h.name}`);
    const sys = (await (await fetch(`${dpu.url}/redfish/v1/Systems/${dpu.systemId}`, { headers: { authorization: basic } })).json()) as {
      Oem: { Anvil: { AgentUrl: string } };
    };
    const own = await fetch(`${h.agent_url}/v1/health`, { headers: { authorization: `Bearer ${h.agent_token}` } });
    const other = await fetch(`${h.agent_url}/v1/health`, {
      headers: { authorization: `Bearer ${lab.hosts.find((x) => x !== h && x.agent_token)?.agent_token}` },
    });
    await Promise.all([own.body?.cancel(), other.body?.cancel()]);
    if (sys.Oem.Anvil.AgentUrl !== h.agent_url || own.status !== 200 || other.status !== 401)
      throw new Error(`wiring broken at ${h.name}: AgentUrl ${sys.Oem.Anvil.AgentUrl} vs ${h.agent_url}, own token ${own.status}, other token ${other.status}`);
  }
  console.log(`  wiring     ok on ${sample.map((h) => h.name).join(", ")} (DPU AgentUrl = agent, own token 200, other token 401)`);

  // Spread the load over many BMCs (every k-th, hosts and DPUs alike) so it is not one hot socket.
  const step = Math.max(1, Math.floor(bmcs.length / nTargets));
  const rfTargets = bmcs
    .filter((_, i) => i % step === 0)
    .slice(0, nTargets)
    .map((b) => ({ origin: b.url, path: `/redfish/v1/Systems/${b.systemId}`, auth: basic }));
  const r = await runLoad(rfTargets, seconds, clients);
  console.log(
    `  redfish    GET Systems/<id> over ${rfTargets.length} BMCs, ${clients} in flight: ${Math.round(r.requests / r.seconds)} req/s ` +
      `(p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors, ${r.requests} requests in ${r.seconds.toFixed(1)} s)`,
  );

  const agents = lab.hosts.filter((h) => h.agent_url);
  const aStep = Math.max(1, Math.floor(agents.length / nTargets));
  const agTargets = agents
    .filter((_, i) => i % aStep === 0)
    .slice(0, nTargets)
    .map((h) => ({ origin: h.agent_url as string, path: "/v1/health", auth: `Bearer ${h.agent_token}` }));
  const a = await runLoad(agTargets, Math.max(1, Math.round(seconds / 2)), clients);
  console.log(
    `  agents     GET /v1/health over ${agTargets.length} agents, ${clients} in flight: ${Math.round(a.requests / a.seconds)} req/s ` +
      `(p50 ${a.p50.toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms, ${a.errors} errors)`,
  );
  const after = process.memoryUsage();
  console.log(`  after load RSS ${mib(after.rss)}, heap used ${mib(after.heapUsed)}`);

  const t1 = performance.now();
  await lab.close();
  console.log(`  close      ${((performance.now() - t1) / 1000).toFixed(2)} s`);
}

// ---- entry ------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (values.role === "load") return loadRole();
  const hosts = Number(values.hosts);
  if (!Number.isInteger(hosts) || hosts < 1) throw new Error(`--hosts must be a positive integer, got ${values.hosts}`);
  if (values.role === "lab") return labRole(hosts, (values.address as "netns" | "ports") ?? "netns");

  if (inPrivateNetns()) return labRole(hosts, "netns");
  const needed = hosts * 3 + 512;
  if (needed <= openFileLimit()) return labRole(hosts, "ports");

  // Re-run inside a fresh network namespace (only lo, brought up), where "netns" mode needs one descriptor for all BMCs.
  console.log(
    `bench/lab: ${hosts} hosts need ~${needed} file descriptors in "ports" mode (limit ${openFileLimit()}); re-running under \`unshare -n\` in "netns" mode`,
  );
  const args = process.argv
    .slice(2)
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(" ");
  const r = spawnSync(
    "unshare",
    ["-n", "sh", "-c", `ip link set lo up && exec "${process.execPath}" --import tsx "${self}" --role lab --address netns ${args}`],
    {
      stdio: "inherit",
    },
  );
  if (r.status === 0) return;
  if (r.error || r.status === 1) {
    // unshare missing or not permitted: measure the largest fleet the open-file limit allows, and say so clearly.
    let why = r.error?.message ?? `exit ${r.status}`;
    try {
      execFileSync("unshare", ["-n", "true"], { stdio: "ignore" });
    } catch (err) {
      why = (err as Error).message;
      const fit = Math.floor((openFileLimit() - 512) / 3);
      console.log(`bench/lab: cannot use a private network namespace (${why}); measuring ${fit} hosts in "ports" mode instead of ${hosts}`);
      return labRole(fit, "ports");
    }
  }
  process.exitCode = r.status ?? 1;
}

await main();
