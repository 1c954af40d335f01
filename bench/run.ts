// `npm run bench`: runs every benchmark script in bench/ in turn and prints their figures.
// Benchmarks print numbers; they never assert timings. Pass names to run a subset: npm run bench -- cold-start
import { spawnSync } from "node:child_process";
import fs from "node:fs";

const only = process.argv.slice(2);
const scripts = fs
  .readdirSync("bench")
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();
let failed = 0;
for (const name of scripts) {
  console.log(`\n=== bench/${name}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", `bench/${name}.ts`], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
