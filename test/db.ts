// Test helper: points this test file at the run's database (see global-setup.ts) and hands out the db.
import { inject } from "vitest";
import { inArray, sql } from "drizzle-orm";
import { type Db, getDb } from "../db/client";
import * as s from "../db/schema";
import { portClaimsDir } from "../sim/port-claims";

export function useTestDb() {
  process.env.DATABASE_URL = inject("databaseUrl");
  // Simulators of this run never reuse each other's ports (sim/port-claims.ts): one directory per run's database.
  process.env.ANVIL_SIM_PORT_CLAIMS ??= portClaimsDir(process.env.DATABASE_URL);
  process.env.ANVIL_DATA_DIR ??= ".data/test-secrets";
  return getDb();
}

export function uniq(prefix = "t"): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The test run shares one database, and a closed lab's nodes stay enrolled at their loopback addresses. Once this
 * lab listens on a port, a row still naming that address belongs to a server that is gone (two listeners cannot hold
 * one port), yet enrollment would refuse the address as "already enrolled". Such rows get their address marked
 * released so this lab's hosts enroll; nothing live is touched.
 */
export async function releaseStaleAddresses(db: Db, addresses: readonly string[]): Promise<void> {
  if (!addresses.length) return;
  await db
    .update(s.nodes)
    .set({ bmcAddress: sql`${s.nodes.bmcAddress} || '#released-' || ${s.nodes.id}::text` })
    .where(inArray(s.nodes.bmcAddress, [...addresses]));
}
