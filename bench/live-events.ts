// Time from a fault logged at a BMC to Anvil knowing it — the node row showing the new health and the browser
// notification sent (the NOTIFY that GET /api/events/stream passes on) — with live events (a Redfish event stream per
// BMC, server/live-events), with pushed events (the same BMCs switched to push subscriptions only: each POSTs its events
// to Anvil's receiver, /api/bmc-events/<token> behind the front door) and with the power/health sync's polling alone (every ANVIL_SYNC_INTERVAL_S, 30 s, its polls
// spread over the interval as in production). Prints figures, asserts nothing.
//   npx tsx bench/live-events.ts [hosts] [live trials] [polling trials]
import os from "node:os";
import { benchDataDir, benchPostgres, spawnRedfishSim } from "./_setup";

const hosts = Number(process.argv[2] ?? 20);
const liveTrials = Number(process.argv[3] ?? 10);
const pollTrials = Number(process.argv[4] ?? 3);

const dir = benchDataDir("live-events");
process.env.ANVIL_MGMT_ALLOW ??= "127.0.0.0/8"; // the lab is on loopback (server/lib/mgmt-network.ts)
const { proc: simProc, out: sim } = await spawnRedfishSim<{ adminUrl: string; bmcs: { id: string; kind: string; url: string }[] }>(
  dir,
  `{ hosts: ${hosts}, powerTransitionMs: 0 }`,
  "{ adminUrl: sim.adminUrl, bmcs: sim.bmcs.map((b) => ({ id: b.id, kind: b.kind, url: b.url })) }",
);
process.on("exit", () => simProc.kill("SIGKILL"));
const pg = await benchPostgres(dir);
const { getDb, closeDb } = await import("../db/client");
const s = await import("../db/schema");
const { eq } = await import("drizzle-orm");
const { seal } = await import("../server/lib/secrets");
const { SYNC_SHARDS, shardOf } = await import("../server/workflows/enroll");
const { SYNC_INTERVAL_S, syncShard } = await import("../server/workflows/sync");
const { LiveEvents, startLiveEvents } = await import("../server/live-events/service");
const { createFrontDoor } = await import("../server/front-door");
const { receivePush } = await import("../server/live-events/push");
const { watchHardwareEvents } = await import("../server/live-events/browser");
const db = getDb();

const hostBmcs = sim.bmcs.filter((b) => b.kind === "host");
const nodeOf = new Map<string, string>();
for (const b of hostBmcs) {
  const id = crypto.randomUUID();
  await db.insert(s.nodes).values({
    id,
    name: b.id,
    bmcDriver: "redfish",
    bmcAddress: b.url,
    bmcCredentials: seal(JSON.stringify({ username: "admin", password: "password" })),
    bmcCredentialsFingerprint: "bench",
    provisionState: "manageable",
    syncShard: shardOf(id),
  });
  nodeOf.set(b.id, id);
}

const notified = new Map<string, number>();
const watch = watchHardwareEvents((n) => {
  const at = performance.now();
  for (const id of n.nodes === "*" ? [] : n.nodes) notified.set(id, at);
});
await watch.ready;

async function admin(method: string, path: string, body?: unknown) {
  const r = await fetch(`${sim.adminUrl}/admin/bmcs/${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) throw new Error(`admin ${method} ${path}: ${r.status}`);
}

const healthOf = async (nodeId: string) => (await db.select({ h: s.nodes.health }).from(s.nodes).where(eq(s.nodes.id, nodeId)))[0]!.h;

/** Logs a warning SEL entry at a BMC (which degrades its health) and times until the row and the notification say so. */
async function trial(bmcId: string, timeoutMs: number): Promise<number | null> {
  const nodeId = nodeOf.get(bmcId)!;
  notified.delete(nodeId);
  const t0 = performance.now();
  await admin("POST", `${bmcId}/sel`, {
    Severity: "Warning",
    Message: `Fan below threshold (${Date.now()}).`,
    SensorType: "Fan",
    MessageId: "OpenBMC.0.1.FanLow",
  });
  let rowAt: number | null = null;
  while (performance.now() - t0 < timeoutMs) {
    if (rowAt === null && (await healthOf(nodeId)) === "warning") rowAt = performance.now();
    const n = notified.get(nodeId);
    if (rowAt !== null && n !== undefined) return Math.max(rowAt, n) - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

/** Puts every trial BMC back to OK health and lets Anvil see it (one sync pass), so each trial starts from "ok". */
async function reset(bmcIds: string[]) {
  for (const b of bmcIds) await admin("DELETE", `${b}/faults`);
  for (let sh = 0; sh < SYNC_SHARDS; sh++) await syncShard(sh, 0);
}

const ms = (v: number) => `${Math.round(v)} ms`;
function summary(name: string, xs: (number | null)[]) {
  const ok = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const missed = xs.length - ok.length;
  const p = (q: number) => ok[Math.min(ok.length - 1, Math.floor(q * ok.length))]!;
  console.log(
    `${name.padEnd(34)} trials ${xs.length}` +
      (ok.length ? `  min ${ms(ok[0]!)}  p50 ${ms(p(0.5))}  p95 ${ms(p(0.95))}  max ${ms(ok[ok.length - 1]!)}` : "") +
      (missed ? `  not seen in time ${missed}` : ""),
  );
}

console.log(`live-events: ${hostBmcs.length} hosts (${sim.bmcs.length} BMCs with DPUs, only hosts enrolled); sync interval ${SYNC_INTERVAL_S} s`);
console.log(
  `load before: ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")} (${os.cpus().length} cores)`,
);

// Live events: one process holding every shard, a stream to every enrolled BMC.
const trialBmcs = hostBmcs.slice(0, Math.max(liveTrials, pollTrials)).map((b) => b.id);
await reset(trialBmcs);
const live = new LiveEvents({ maxStreams: 100_000, rescanMs: 1000, noStreamRetryMs: 60_000, debounceMs: 50 });
live.start();
const t0 = performance.now();
while (live.watching().length < hostBmcs.length || !live.idle()) await new Promise((r) => setTimeout(r, 50));
console.log(`streams open: ${live.watching().length} in ${ms(performance.now() - t0)}`);
const liveTimes: (number | null)[] = [];
for (let i = 0; i < liveTrials; i++) {
  liveTimes.push(await trial(trialBmcs[i % trialBmcs.length]!, 20_000));
  await new Promise((r) => setTimeout(r, 200));
}
await live.stop();

// Pushed events: the BMCs offer no stream now, only subscriptions; the receiver runs behind the real front door.
for (const b of hostBmcs) await admin("PUT", `${b.id}/dialect`, { sse: false });
await reset(trialBmcs);
// The front door with only the receiver behind it (the rest of the app is not needed to time this path).
const app = createFrontDoor({
  async handle(req, res) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = await receivePush(
      new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) }),
    );
    res.writeHead(r.status).end(await r.text());
  },
});
await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
const appUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
const pushed = startLiveEvents({ maxStreams: 100_000, rescanMs: 1000, noStreamRetryMs: 60_000, debounceMs: 50, pushBaseUrl: appUrl });
const t1 = performance.now();
while (!hostBmcs.every((b) => pushed.deliveryOf(nodeOf.get(b.id)!) === "push") || !pushed.idle()) await new Promise((r) => setTimeout(r, 50));
console.log(`push subscriptions made: ${hostBmcs.length} in ${ms(performance.now() - t1)}`);
const pushTimes: (number | null)[] = [];
for (let i = 0; i < liveTrials; i++) {
  pushTimes.push(await trial(trialBmcs[i % trialBmcs.length]!, 20_000));
  await new Promise((r) => setTimeout(r, 200));
}
await pushed.stop();
app.closeAllConnections();
app.close();

// Polling alone: the sync's schedule (every SYNC_INTERVAL_S, each shard's polls spread over 80% of it), the fault
// logged at a random moment of the cycle.
await reset(trialBmcs);
let ticking = true;
const passes: Promise<unknown>[] = [];
const ticker = (async () => {
  while (ticking) {
    const start = performance.now();
    passes.push(Promise.all(Array.from({ length: SYNC_SHARDS }, (_, sh) => syncShard(sh, SYNC_INTERVAL_S * 800))));
    while (ticking && performance.now() - start < SYNC_INTERVAL_S * 1000) await new Promise((r) => setTimeout(r, 100));
  }
})();
const pollTimes: (number | null)[] = [];
for (let i = 0; i < pollTrials; i++) {
  await new Promise((r) => setTimeout(r, Math.random() * SYNC_INTERVAL_S * 1000));
  pollTimes.push(await trial(trialBmcs[i % trialBmcs.length]!, (SYNC_INTERVAL_S + 15) * 1000));
}
ticking = false;
await ticker;
await Promise.all(passes); // the last pass may still be polling: the database stays until it is done

summary("live events (stream → row + notify)", liveTimes);
summary("pushed events (POST → row + notify)", pushTimes);
summary("polling alone (sync → row + notify)", pollTimes);
console.log(
  `load after: ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
watch.stop();
await closeDb();
await pg.stop();
process.exit(0);
