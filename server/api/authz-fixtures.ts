// Objects the authorization coverage test consumes (a fresh one per call, so a delete can succeed).
import * as s from "@/db/schema";
import type { Fixtures } from "@/test/fixtures";

export async function poolsFixture(fx: Fixtures) {
  const [row] = await fx.db
    .insert(s.pools)
    .values({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, resourceClass: "bm.test" })
    .returning();
  return row!;
}
