// The embedded Postgres: data reused across restarts, an orphaned postmaster from a SIGKILLed run detected and
// stopped on the next start, a generated password per data folder (an old folder's fixed one rotated), durable
// commits unless ANVIL_PG_FAST=1.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { passwordFile, startEmbeddedPostgres } from "./embedded";

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

  it("has a password of its own per data folder (0600 file, kept across restarts), rotates the old fixed one, and commits durably unless ANVIL_PG_FAST=1", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-pgpw-"));
    fs.chmodSync(dir, 0o755);
    const query = async (url: string, sql: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    };
    const withPassword = (url: string, pw: string) => {
      const u = new URL(url);
      u.password = pw;
      return u.toString();
    };
    const refused = (url: string) =>
      query(url, "select 1").then(
        () => "accepted",
        (e: { code?: string }) => e.code,
      );
    const savedFast = process.env.ANVIL_PG_FAST;
    try {
      // First start: a generated password, in a file only the owner can read.
      let db = await startEmbeddedPostgres({ dataDir: dir, database: "anvil" });
      const file = passwordFile(dir);
      const pw = fs.readFileSync(file, "utf8").trim();
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(pw.length).toBeGreaterThanOrEqual(32);
      expect(decodeURIComponent(new URL(db.url).password)).toBe(pw);
      expect(await refused(withPassword(db.url, "anvil-local"))).toBe("28P01");
      expect(await query(db.url, "show synchronous_commit")).toEqual([{ synchronous_commit: "on" }]);
      await query(db.url, "create table kept (v text); insert into kept values ('survives')");
      await db.stop();

      // Restart: the same password; the speed-up only when asked for.
      process.env.ANVIL_PG_FAST = "1";
      db = await startEmbeddedPostgres({ dataDir: dir, database: "anvil" });
      expect(decodeURIComponent(new URL(db.url).password)).toBe(pw);
      expect(await query(db.url, "show synchronous_commit")).toEqual([{ synchronous_commit: "off" }]);
      delete process.env.ANVIL_PG_FAST;
      // Make it a folder from before generated passwords: the fixed password, no file.
      await query(db.url, "alter role anvil password 'anvil-local'");
      await db.stop();
      fs.rmSync(file);

      // An old folder keeps working, and is moved off the fixed password on its first start.
      db = await startEmbeddedPostgres({ dataDir: dir, database: "anvil" });
      const rotated = fs.readFileSync(file, "utf8").trim();
      expect(rotated).not.toBe("anvil-local");
      expect(rotated).not.toBe(pw);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(await query(db.url, "select v from kept")).toEqual([{ v: "survives" }]);
      expect(await refused(withPassword(db.url, "anvil-local"))).toBe("28P01");
      await db.stop();
    } finally {
      if (savedFast === undefined) delete process.env.ANVIL_PG_FAST;
      else process.env.ANVIL_PG_FAST = savedFast;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
