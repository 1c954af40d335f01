// 10,000 hosts + 10,000 DPU BMCs in ONE simulator process (address mode "netns", inside `unshare -n`): start time,
// memory, and that BMCs answer at their own addresses. Prints figures only.
import { execFileSync } from "node:child_process";

const hosts = Number(process.argv[2] ?? 10_000);
const out = execFileSync("unshare", ["-n", "sh", "-c", `ip link set lo up && exec "${process.execPath}" --import tsx sim/redfish/netns-check.ts ${hosts}`], {
  encoding: "utf8",
  timeout: 300_000,
});
const r = JSON.parse(out.trim().split("\n").at(-1)!);
console.log(`redfish sim, netns mode: ${r.hosts} hosts + ${r.dpus} DPU BMCs in one process`);
console.log(`  start ${r.startMs} ms, RSS ${r.rssMiB} MiB, heap ${r.heapMiB} MiB`);
console.log(`  sample: ${r.answers.map((a: { id: string; url: string; systemType: string }) => `${a.id} ${a.url} ${a.systemType}`).join("; ")}`);
