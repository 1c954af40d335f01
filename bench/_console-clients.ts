// Load side of bench/console.ts, run in its own process so its CPU and memory are not counted as the BFF's:
// browser-like WebSocket clients of /api/console/<nodeId>. Reads its job from ANVIL_CONSOLE_JOB (JSON) and
// prints one JSON line of results (and "READY" lines the parent waits for).
import { ConsoleWs, until } from "../server/console/test-helpers";

interface Job {
  mode: "rtt" | "flood" | "many";
  url: string;
  headers: Record<string, string>;
  nodeIds: string[];
  keystrokes?: number;
  floodBytes?: number;
  holdSeconds?: number;
}
const job = JSON.parse(process.env.ANVIL_CONSOLE_JOB!) as Job;
const open = (id: string) => ConsoleWs.open(`${job.url}/api/console/${id}`, job.headers);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** Gets a shell prompt on a lab console (logs in when the getty asks). */
async function shell(c: ConsoleWs) {
  await c.waitState("connected", 0, 20_000);
  const mark = c.text.length;
  c.type("\r");
  await until("a prompt", () => /login: $|\$ $/.test(c.text.slice(mark)), 20_000);
  if (/login: $/.test(c.text)) {
    c.type("bench\r");
    await c.waitText("Password: ", 20_000);
    c.type("pw\r");
    await until("shell prompt", () => /\$ $/.test(c.text), 20_000);
  }
}

if (job.mode === "rtt") {
  const c = await open(job.nodeIds[0]!);
  await shell(c);
  const times: number[] = [];
  const n = job.keystrokes ?? 300;
  for (let i = 0; i < n; i++) {
    if (i % 50 === 49) {
      // Ctrl-C: the shell cancels the line and prints a new prompt; keeps lines short.
      const mark = c.text.length;
      c.type("\x03");
      await until("prompt after ^C", () => /\$ $/.test(c.text.slice(mark)), 10_000);
      continue;
    }
    const ch = String.fromCharCode(97 + (i % 26));
    const got = new Promise<void>((resolve) => {
      c.onOutput = (chunk) => {
        if (chunk.includes(ch)) resolve();
      };
    });
    const t0 = performance.now();
    c.type(ch);
    await got;
    times.push(performance.now() - t0);
  }
  c.onOutput = null;
  await c.close();
  console.log(JSON.stringify({ mode: "rtt", n: times.length, p50: pct(times, 50), p99: pct(times, 99), max: Math.max(...times) }));
} else if (job.mode === "flood") {
  const c = await open(job.nodeIds[0]!);
  let bytes = 0;
  let t0 = 0;
  const want = job.floodBytes ?? 64 * 1024 * 1024;
  const done = new Promise<number>((resolve) => {
    c.onOutput = (chunk) => {
      if (!t0) t0 = performance.now();
      bytes += chunk.length;
      if (bytes >= want) resolve(performance.now());
    };
  });
  // The text copy in ConsoleWs would dominate at this rate; count bytes only.
  c.text = "";
  Object.defineProperty(c, "text", { get: () => "", set: () => {} });
  await c.waitState("connected", 0, 20_000);
  const t1 = await done;
  await c.close();
  console.log(JSON.stringify({ mode: "flood", bytes, seconds: (t1 - t0) / 1000, closedEarly: c.closed }));
} else {
  const t0 = performance.now();
  const clients = await Promise.all(job.nodeIds.map((id) => open(id)));
  await Promise.all(clients.map((c) => shell(c)));
  const connectS = (performance.now() - t0) / 1000;
  console.log("READY");
  // Steady state: every console gets a keystroke a second (and its echo back) for holdSeconds.
  const end = Date.now() + (job.holdSeconds ?? 10) * 1000;
  let echoes = 0;
  while (Date.now() < end) {
    await Promise.all(
      clients.map(async (c) => {
        const mark = c.text.length;
        c.type("x");
        await until("echo", () => c.text.length > mark, 10_000);
        echoes++;
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  await Promise.all(clients.map((c) => c.close()));
  console.log(
    JSON.stringify({
      mode: "many",
      consoles: clients.length,
      connectSeconds: connectS,
      echoes,
      dropped: clients.filter((c) => c.closed && c.closed.code !== 1000).length,
    }),
  );
}
process.exit(0);
