// Benchmark of the DPU agent in lab mode: memory of N simulated agents (default 10,000) in one process, idle and
// provisioned (one boot disk, one seed image, one NIC each), and requests/s of a NIC PUT + DELETE cycle over HTTP.
//   npx tsx --expose-gc bench/agent.ts [--agents 10000] [--seconds 5] [--concurrency 32]
// Prints figures; never asserts timings.
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { type AgentServer, createAgentServer } from "@/agent/server";

const { values } = parseArgs({
  options: { agents: { type: "string", default: "10000" }, seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "32" } },
});
const N = Number(values.agents);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const gc = (globalThis as { gc?: () => void }).gc;

function mem() {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 };
}
const fmt = (n: number, d = 1) => n.toFixed(d);

let dispatcher = new Agent({ connections: 4, keepAliveTimeout: 10_000 });
/** Drops the bench client's keep-alive sockets so memory figures are the agents', not the client's. */
async function dropClientConnections() {
  await dispatcher.destroy();
  dispatcher = new Agent({ connections: 4, keepAliveTimeout: 10_000 });
  await new Promise((r) => setTimeout(r, 500));
}
async function call(url: string, token: string, method: "PUT" | "DELETE" | "GET", path: string, body?: unknown): Promise<number> {
  const res = await request(url + path, {
    method,
    dispatcher,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

const rules = {
  ingress: [
    { id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "10.0.0.0/8" },
    { id: "web", ethertype: "ipv4", protocol: "tcp", portMin: 80, portMax: 443, cidr: "0.0.0.0/0" },
  ],
  egress: [{ id: "all", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
};

const before = mem();
const started = performance.now();
const agents: { server: AgentServer; url: string; token: string }[] = [];
for (let i = 0; i < N; i++) {
  const token = `bench-token-${i.toString().padStart(6, "0")}`;
  const server = createAgentServer({ token });
  const { url } = await server.listen(0);
  agents.push({ server, url, token });
}
const startMs = performance.now() - started;
const idle = mem();
console.log(`agents: ${N} listening on 127.0.0.1 ephemeral ports in ${fmt(startMs / 1000, 2)} s`);
console.log(
  `idle:        heap +${fmt(idle.heapMiB - before.heapMiB)} MiB (${fmt(((idle.heapMiB - before.heapMiB) * 1024) / N, 2)} KiB/agent), rss +${fmt(idle.rssMiB - before.rssMiB)} MiB (${fmt(((idle.rssMiB - before.rssMiB) * 1024) / N, 2)} KiB/agent)`,
);

const provStart = performance.now();
await pool(
  agents.map((a, i) => ({ ...a, i })),
  64,
  async (a) => {
    const i = a.i;
    const s1 = await call(a.url, a.token, "PUT", "/v1/disks/boot", {
      transport: "nvme-tcp",
      target: { nqn: `nqn.2024-01.io.anvil:vol-${i}`, address: "10.9.0.1" },
      hostNqn: `nqn.2014-08.org.nvmexpress:uuid:dpu-${i}`,
      role: "boot",
    });
    const s2 = await call(a.url, a.token, "PUT", "/v1/cidata/seed", {
      userData: "#cloud-config\nhostname: h\n",
      metaData: { "instance-id": `i-${i}`, "local-hostname": `h${i}` },
      networkConfig: {
        version: 2,
        ethernets: { eth0: { match: { macaddress: "02:00:00:00:00:01" }, addresses: ["10.0.0.5/24"], routes: [{ to: "default", via: "10.0.0.1" }] } },
      },
    });
    const s3 = await call(a.url, a.token, "PUT", "/v1/nics/eth0", { mac: "02:00:00:00:00:01", network: { type: "vlan", vlanId: 100 }, rules });
    if (s1 !== 201 || s2 !== 201 || s3 !== 201) throw new Error(`provisioning agent ${i} failed: ${s1} ${s2} ${s3}`);
  },
);
const provMs = performance.now() - provStart;
await dropClientConnections();
const provisioned = mem();
console.log(
  `provisioned: ${N * 3} PUTs in ${fmt(provMs / 1000, 2)} s (${fmt((N * 3) / (provMs / 1000), 0)} req/s); heap +${fmt(provisioned.heapMiB - before.heapMiB)} MiB (${fmt(((provisioned.heapMiB - before.heapMiB) * 1024) / N, 2)} KiB/agent), rss +${fmt(provisioned.rssMiB - before.rssMiB)} MiB`,
);

// NIC PUT + DELETE cycles: each worker drives its own agent over a kept-alive connection (as the BFF does while
// provisioning one host), so the figure is the agent's request handling, not TCP connection set-up.
let cycles = 0;
const latencies: number[] = [];
const deadline = performance.now() + SECONDS * 1000;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, w) => {
    const a = agents[(w * Math.floor(N / CONCURRENCY)) % N];
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const put = await call(a.url, a.token, "PUT", "/v1/nics/bench", { mac: "02:00:00:00:ff:01", network: { type: "vxlan", vni: 5000 }, rules });
      const del = await call(a.url, a.token, "DELETE", "/v1/nics/bench");
      if (put !== 201 || del !== 204) throw new Error(`cycle failed: PUT ${put} DELETE ${del}`);
      latencies.push(performance.now() - t0);
      cycles++;
    }
  }),
);
latencies.sort((x, y) => x - y);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
console.log(
  `NIC PUT+DELETE: ${cycles} cycles in ${SECONDS} s = ${fmt(cycles / SECONDS, 0)} cycles/s (${fmt((2 * cycles) / SECONDS, 0)} req/s), concurrency ${CONCURRENCY}, cycle p50 ${fmt(pct(0.5), 2)} ms p99 ${fmt(pct(0.99), 2)} ms`,
);

await Promise.all(agents.map((a) => a.server.close()));
await dispatcher.close();
