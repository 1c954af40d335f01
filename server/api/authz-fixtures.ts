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

/** A node row for calls that act on one (BMC address on a closed port: any real BMC call fails fast). */
export async function nodeFixture(
  fx: Fixtures,
  over: Partial<typeof s.nodes.$inferInsert> = {},
): Promise<typeof s.nodes.$inferSelect> {
  const { seal } = await import("@/server/lib/secrets");
  const id = crypto.randomUUID();
  const [row] = await fx.db
    .insert(s.nodes)
    .values({
      id,
      name: `authz-${id.slice(0, 8)}`,
      bmcDriver: "redfish",
      bmcAddress: `http://127.0.0.1:1/${id}`,
      bmcCredentials: seal(JSON.stringify({ username: "u", password: "p" })),
      bmcCredentialsFingerprint: "f",
      provisionState: "manageable",
      powerState: "off",
      ...over,
    })
    .returning();
  return row!;
}

export async function operationFixture(fx: Fixtures) {
  const [row] = await fx.db.insert(s.operations).values({ kind: "node.inspect", targetType: "node", steps: [] }).returning();
  return row!;
}
