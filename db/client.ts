// The process-wide Postgres pool and drizzle instance. DATABASE_URL is set before first use: by the
// operator, or by server.ts after it starts the embedded Postgres.
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "./schema";

export type Db = NodePgDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

interface DbState {
  pool: pg.Pool;
  db: Db;
  url: string;
}

// Kept on globalThis so that the custom server and Next's separately bundled route modules share one pool.
const g = globalThis as unknown as { __anvilDb?: DbState };

export function getDb(): Db {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start Anvil through server.ts or set DATABASE_URL.");
  if (!g.__anvilDb || g.__anvilDb.url !== url) {
    const pool = new pg.Pool({ connectionString: url, max: Number(process.env.ANVIL_DB_POOL ?? 20) });
    pool.on("error", () => {}); // an idle client losing its connection must not crash the process
    g.__anvilDb = { pool, db: drizzle(pool, { schema }), url };
  }
  return g.__anvilDb.db;
}

export function getPool(): pg.Pool {
  getDb();
  return g.__anvilDb!.pool;
}

export async function closeDb(): Promise<void> {
  const s = g.__anvilDb;
  g.__anvilDb = undefined;
  if (s) await s.pool.end();
}
