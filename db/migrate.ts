// Applies the generated SQL migrations in db/migrations (drizzle's migrator; idempotent).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function runMigrations(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // One migrator at a time when several replicas start together.
    await client.query("select pg_advisory_lock(724242)");
    await migrate(drizzle(client), { migrationsFolder: path.join(here, "migrations") });
  } finally {
    await client.query("select pg_advisory_unlock(724242)").catch(() => {});
    await client.end();
  }
}
