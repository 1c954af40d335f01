// The embedded Postgres: data reused across restarts, and an orphaned postmaster from a SIGKILLed run
// detected and stopped on the next start.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "./embedded";

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("embedded Postgres", () => {
  it("recovers from a killed run: stops the orphan postmaster, starts again on the same data", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-orphan-"));
    fs.chmodSync(dir, 0o755);
    const child = spawn(process.execPath, ["--import", "tsx", "test/orphan-child.ts", dir], { stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
        const m = /READY (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (c) => reject(new Error(`child exited ${c}`)));
    });
    const c1 = new pg.Client({ connectionString: url });
    await c1.connect();
    await c1.query("create table kept (v text); insert into kept values ('survives')");
    await c1.end();
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const pidFile = path.join(dir, "pg", "postmaster.pid");
    const orphan = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
    expect(alive(orphan)).toBe(true); // the postmaster outlived its parent

    const db = await startEmbeddedPostgres({ dataDir: dir, database: "anvil" });
    try {
      expect(alive(orphan)).toBe(false);
      const c2 = new pg.Client({ connectionString: db.url });
      await c2.connect();
      const r = await c2.query("select v from kept");
      await c2.end();
      expect(r.rows).toEqual([{ v: "survives" }]);
    } finally {
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
