// Serial console proxy figures: keystroke echo round trip (browser-side WebSocket client → BFF proxy → lab
// Redfish BMC console → back; p50/p99), output throughput into one viewer (MB/s, from a BMC console that
// writes as fast as the link takes), and 100 concurrent consoles on one BFF (memory, CPU). The BFF side (the
// proxy, with its Postgres for sessions and audit) runs in this process; the lab simulator and the clients run
// in their own processes so their CPU is not counted here. Prints figures; asserts nothing.
//   npx tsx bench/console.ts [consoles=100]
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { allowServerOnlyOutsideNext } from "../server/console/register";
import { benchDataDir, benchPostgres, spawnRedfishSim } from "./_setup";

const consoles = Number(process.argv[2] ?? 100);
const dir = benchDataDir("console");
Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "test" }); // quiet better-auth logging
process.env.ANVIL_MGMT_ALLOW ??= "127.0.0.0/8"; // the lab is on loopback (server/lib/mgmt-network.ts)
allowServerOnlyOutsideNext();

const children: import("node:child_process").ChildProcess[] = [];
const { proc: sim, out } = await spawnRedfishSim<{ bmcs: { id: string; kind: string; url: string; username: string; password: string }[] }>(
  dir,
  `{ hosts: ${consoles}, dpuEvery: 0, initialPower: "On", allBootable: true }`,
  "{ admin: sim.adminUrl, bmcs: sim.bmcs }",
);
children.push(sim);
const { bmcs } = out;

const pg = await benchPostgres(dir);
const { getDb, closeDb } = await import("../db/client");
const { createUserWithPassword } = await import("../db/seed");
const { createConsoleProxy } = await import("../server/console/proxy");
const { backendForNode } = await import("../server/console/backends");
const { RedfishConsoleBackend } = await import("../server/console/redfish-ws");
const { insertNode, serveProxy, signInCookie, TEST_ORIGIN } = await import("../server/console/test-helpers");
const db = getDb();

// A console that prints as fast as the link takes (64 KiB frames, sent when the socket has drained).
const floodChunk = Buffer.alloc(64 * 1024, "0123456789abcdef\r\n");
const floodHttp = http.createServer();
const floodWss = new WebSocketServer({ server: floodHttp, perMessageDeflate: false });
floodWss.on("connection", (ws) => {
  const pump = () => {
    while (ws.readyState === ws.OPEN && ws.bufferedAmount < 1024 * 1024) ws.send(floodChunk);
    if (ws.readyState === ws.OPEN) setImmediate(pump);
  };
  pump();
});
await new Promise<void>((r) => floodHttp.listen(0, "127.0.0.1", r));
const floodUrl = `ws://127.0.0.1:${(floodHttp.address() as AddressInfo).port}/console/flood`;

const ids: string[] = [];
for (const b of bmcs.filter((x) => x.kind === "host")) {
  ids.push(await insertNode(db, { name: `bench-${b.id}`, bmcDriver: "redfish", bmcAddress: b.url, username: b.username, password: b.password }));
}
const floodId = await insertNode(db, { name: "bench-flood", bmcDriver: "redfish", bmcAddress: "http://127.0.0.1:1/flood", username: "u", password: "p" });
await createUserWithPassword(db, { email: "bench@test.local", name: "Bench", password: "bench password 1", platformRole: "operator-admin" });
const cookie = await signInCookie("bench@test.local", "bench password 1");

const proxy = createConsoleProxy({
  db,
  allowedOrigin: TEST_ORIGIN,
  maxBufferedBytes: 32 * 1024 * 1024,
  backendFor: (n) =>
    n.id === floodId ? new RedfishConsoleBackend({ address: "flood", credentials: { username: "u", password: "p" }, consoleUri: floodUrl }) : backendForNode(n),
});
const srv = await serveProxy(proxy);

function clients(job: object, onReady?: () => void): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ["--import", "tsx", "bench/_console-clients.ts"], {
      env: { ...process.env, ANVIL_CONSOLE_JOB: JSON.stringify({ url: srv.url, headers: { cookie, origin: TEST_ORIGIN }, ...job }) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(c);
    let out = "";
    c.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("READY\n") && onReady) {
        const f = onReady;
        onReady = undefined;
        f();
      }
    });
    c.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last));
      else reject(new Error(`console clients (${JSON.stringify(job)}) exited ${code}: ${out}`));
    });
  });
}

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
try {
  const rtt = (await clients({ mode: "rtt", nodeIds: [ids[0]], keystrokes: 500 })) as { n: number; p50: number; p99: number; max: number };
  console.log(
    `keystroke echo round trip (client → BFF → lab BMC console → back), ${rtt.n} keys: p50 ${rtt.p50.toFixed(2)} ms, p99 ${rtt.p99.toFixed(2)} ms, max ${rtt.max.toFixed(2)} ms`,
  );

  global.gc?.();
  const before = process.memoryUsage();
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  let ready: { rss: number; heap: number; external: number } | null = null;
  const hold = 10;
  const many = (await clients({ mode: "many", nodeIds: ids.slice(0, consoles), holdSeconds: hold }, () => {
    const m = process.memoryUsage();
    ready = { rss: m.rss, heap: m.heapUsed, external: m.external };
    cpu0 = process.cpuUsage();
    t0 = performance.now();
  })) as { consoles: number; connectSeconds: number; echoes: number; dropped: number };
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  const r = ready as { rss: number; heap: number; external: number } | null;
  console.log(
    `${many.consoles} concurrent consoles on one BFF: all connected with a shell prompt in ${many.connectSeconds.toFixed(1)} s; ` +
      `RSS ${mib(before.rss)} → ${mib(r?.rss ?? 0)} (+${mib((r?.rss ?? 0) - before.rss)}), JS heap +${mib((r?.heap ?? 0) - before.heapUsed)}, buffers +${mib((r?.external ?? 0) - before.external)} (scrollback rings: ${mib(consoles * 256 * 1024)} reserved); ` +
      `steady state (one keystroke per console per second, ${many.echoes} echoes in ${hold} s): BFF CPU ${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1)}% of one core; dropped viewers ${many.dropped}`,
  );
  const floodBytes = 256 * 1024 * 1024;
  const cpuF = process.cpuUsage();
  const tF = performance.now();
  const flood = (await clients({ mode: "flood", nodeIds: [floodId], floodBytes })) as { bytes: number; seconds: number; closedEarly: unknown };
  const cpuFs = process.cpuUsage(cpuF);
  const wallF = (performance.now() - tF) / 1000;
  console.log(
    `output throughput into one viewer (BMC WebSocket → BFF → viewer WebSocket): ${(flood.bytes / 1024 / 1024 / flood.seconds).toFixed(0)} MiB/s over ${mib(flood.bytes)} (BFF CPU ${(((cpuFs.user + cpuFs.system) / 1e6 / wallF) * 100).toFixed(0)}% of one core)`,
  );
  await proxy.hub.get(floodId)?.end("bench");
  console.log(`sessions open after the viewers left (lingering for the scrollback): ${proxy.hub.size}`);
} finally {
  await srv.close();
  floodWss.close();
  floodHttp.close();
  for (const c of children) c.kill("SIGTERM");
  await closeDb();
  await pg.stop({ immediate: true });
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
