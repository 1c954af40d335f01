// vitest global setup for the "server" project: one real Postgres for the run — DATABASE_URL's server if
// given, else the embedded Postgres in .data/test-pg — with a fresh database, migrated, dropped at the end.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { portClaimsDir } from "../sim/port-claims";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const name = `anvil_test_${process.pid}_${Date.now()}`;
  let adminUrl: string;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    // A cluster of its own per run, so parallel runs never share (or stop) each other's Postgres.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-test-pg-"));
    fs.chmodSync(dir, 0o755);
    // A throwaway cluster: durability after a machine crash does not matter, speed does.
    const db = await startEmbeddedPostgres({ dataDir: dir, database: "postgres", fast: true });
    adminUrl = db.url;
    stopEmbedded = async () => {
      await db.stop({ immediate: true });
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  await runMigrations(url);
  project.provide("databaseUrl", url);

  return async () => {
    fs.rmSync(portClaimsDir(url), { recursive: true, force: true });
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`drop database if exists "${name}" with (force)`).catch(() => {});
    await c.end();
    await stopEmbedded?.();
  };
}
