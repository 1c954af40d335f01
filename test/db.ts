// Test helper: points this test file at the run's database (see global-setup.ts) and hands out the db.
import { inject } from "vitest";
import { getDb } from "../db/client";

export function useTestDb() {
  process.env.DATABASE_URL = inject("databaseUrl");
  process.env.ANVIL_DATA_DIR ??= ".data/test-secrets";
  return getDb();
}

export function uniq(prefix = "t"): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
