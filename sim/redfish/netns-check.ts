// Run inside a private network namespace (`unshare -n`): starts a 10,000-host + 10,000-DPU simulator in ONE process
// with the single-listener "netns" address mode, checks BMCs answer at their own addresses, prints JSON figures.
// Used by netns.test.ts and bench/sim-redfish-netns.ts.
import { startRedfishSim } from "./index";

const hosts = Number(process.argv[2] ?? 10_000);
const t0 = performance.now();
const sim = await startRedfishSim({ hosts, address: "netns" });
const startMs = performance.now() - t0;
const sample = [sim.bmcs[0]!, sim.bmcs[1]!, sim.bmcs[sim.bmcs.length - 2]!, sim.bmcs[sim.bmcs.length - 1]!];
const answers: { id: string; url: string; systemType: string }[] = [];
for (const b of sample) {
  const auth = `Basic ${Buffer.from(`${b.username}:${b.password}`).toString("base64")}`;
  const r = await fetch(`${b.url}/redfish/v1/Systems/${b.systemId}`, { headers: { authorization: auth } });
  const j = (await r.json()) as { SystemType?: string };
  answers.push({ id: b.id, url: b.url, systemType: j.SystemType ?? "?" });
}
const mem = process.memoryUsage();
console.log(
  JSON.stringify({
    bmcs: sim.bmcs.length,
    hosts: sim.bmcs.filter((b) => b.kind === "host").length,
    dpus: sim.bmcs.filter((b) => b.kind === "dpu").length,
    startMs: Math.round(startMs),
    rssMiB: Math.round(mem.rss / 2 ** 20),
    heapMiB: Math.round(mem.heapUsed / 2 ** 20),
    answers,
  }),
);
await sim.close();
