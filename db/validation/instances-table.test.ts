// Constraint tests of the instances table (db/schema/compute.ts; kept out of db/schema because drizzle-kit loads every file there) against the real Postgres (migrated by test/global-setup): one
// instance per node, names unique per tenant among live instances (case-insensitive), sizes positive.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { type Fixtures, insertHost, insertPool, makeFixtures } from "@/test/fixtures";

let fx: Fixtures;
let poolId: string;
let nodeId: string;

/** Postgres error code of a failed statement (drizzle wraps the driver error in `cause`). */
async function pgCode(p: Promise<unknown>): Promise<string | undefined> {
  const e = (await p.then(
    () => null,
    (x: unknown) => x,
  )) as { code?: string; cause?: { code?: string } } | null;
  return e ? (e.cause?.code ?? e.code) : undefined;
}

beforeAll(async () => {
  fx = await makeFixtures(useTestDb());
  poolId = (await insertPool(fx.db)).id;
  nodeId = (await insertHost(fx.db, { poolId })).id;
});

const base = () => ({ tenantId: fx.tenant.id, poolId, systemVolumeSizeGiB: 20 });

describe("instances table", () => {
  it("defaults a new instance to creating with empty lists", async () => {
    const [row] = await fx.db
      .insert(s.instances)
      .values({ ...base(), name: uniq("web") })
      .returning();
    expect(row!.state).toBe("creating");
    expect(row!.sshKeyIds).toEqual([]);
    expect(row!.recoveryPolicy).toBe("manual");
  });

  it("allows one instance per node", async () => {
    await fx.db.insert(s.instances).values({ ...base(), name: uniq("a"), nodeId });
    expect(await pgCode(fx.db.insert(s.instances).values({ ...base(), name: uniq("b"), nodeId }))).toBe("23505");
  });

  it("keeps names unique per tenant, case-insensitively, but frees the name once deleted", async () => {
    const name = uniq("db");
    const [first] = await fx.db
      .insert(s.instances)
      .values({ ...base(), name })
      .returning();
    expect(await pgCode(fx.db.insert(s.instances).values({ ...base(), name: name.toUpperCase() }))).toBe("23505");
    // Another tenant may use the same name.
    await fx.db.insert(s.instances).values({ ...base(), tenantId: fx.otherTenant.id, name });
    await fx.db.update(s.instances).set({ state: "deleted" }).where(eq(s.instances.id, first!.id));
    await fx.db.insert(s.instances).values({ ...base(), name });
  });

  it("refuses a non-positive system volume size", async () => {
    expect(await pgCode(fx.db.insert(s.instances).values({ ...base(), name: uniq("z"), systemVolumeSizeGiB: 0 }))).toBe("23514");
  });
});
