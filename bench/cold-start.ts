// Cold start of the production server to its first served page, with a fresh data folder (initdb +
// migrations + seed) and with the existing one (reuse). Needs a production build (`npm run build`).
// Prints figures; asserts nothing.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

async function once(dataDir: string, port: number): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
    env: { ...process.env, NODE_ENV: "production", ANVIL_DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: "" },
    stdio: "ignore",
  });
  let ms = -1;
  for (let i = 0; i < 1200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/login`);
      if (r.status === 200) {
        await r.text();
        ms = performance.now() - t0;
        break;
      }
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return ms;
}

if (!fs.existsSync(".next/BUILD_ID")) {
  console.error("cold-start: no production build; run `npm run build` first.");
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-bench-"));
fs.chmodSync(dir, 0o755);
const port = 3290 + Math.floor(Math.random() * 50);
const fresh = await once(dir, port);
const reuse: number[] = [];
for (let i = 0; i < 3; i++) reuse.push(await once(dir, port));
fs.rmSync(dir, { recursive: true, force: true });
console.log(`cold start to first page, fresh data folder (initdb, migrate, seed): ${(fresh / 1000).toFixed(2)} s`);
console.log(`cold start to first page, existing data folder: ${reuse.map((m) => (m / 1000).toFixed(2)).join(" s, ")} s`);
