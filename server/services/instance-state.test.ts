// The one helper that changes an instance's state, against the real Postgres: every (state, event) pair of the
// transition table is tried on a real row — declared edges move it (and set what goes with them), undeclared ones
// leave it untouched, or throw when the caller said it had checked the rule.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import * as s from "@/db/schema";
import { IllegalInstanceTransition, INSTANCE_EVENTS, INSTANCE_STATES, type InstanceState, nextInstanceState } from "@/domain/instance-lifecycle";
import { useTestDb } from "@/test/db";
import { applyInstanceEvent } from "./instance-state";
import { insertInstance, insertPool, insertTenant } from "@/test/fixtures";

let db: Db;
let tenantId: string;
let poolId: string;

async function instanceIn(state: InstanceState) {
  return insertInstance(db, { tenantId, poolId, systemVolumeSizeGiB: 10, state, stateReason: "before" });
}
const stateOf = async (id: string) => (await db.select().from(s.instances).where(eq(s.instances.id, id)))[0]!;

beforeAll(async () => {
  db = useTestDb();
  tenantId = (await insertTenant(db, "lc", "Lifecycle test")).id;
  poolId = (await insertPool(db)).id;
});

describe("applyInstanceEvent", () => {
  it("walks every (state, event) pair: declared edges move the row, undeclared ones leave it as it was", async () => {
    const [op] = await db.insert(s.operations).values({ kind: "instance.test", targetType: "instance", status: "running" }).returning();
    let moved = 0;
    let refused = 0;
    for (const from of INSTANCE_STATES) {
      for (const event of INSTANCE_EVENTS) {
        const row = await instanceIn(from);
        const to = nextInstanceState(from, event);
        const changed = await applyInstanceEvent(db, row.id, event, { reason: `via ${event}`, operationId: op!.id });
        const after = await stateOf(row.id);
        if (to) {
          moved++;
          expect(changed, `${from} --${event}-->`).toBe(true);
          expect(after.state).toBe(to);
          expect(after.stateReason).toBe(`via ${event}`);
          expect(after.operationId).toBe(op!.id);
          // deleted_at goes with "deleted" (the console trigger of migration 0013 ends the instance's console on it).
          expect(after.deletedAt !== null, `${from} --${event}--> deletedAt`).toBe(to === "deleted");
        } else {
          refused++;
          expect(changed, `${from} --${event}--> must be refused`).toBe(false);
          expect(after.state).toBe(from);
          expect(after.stateReason).toBe("before");
          expect(after.operationId).toBeNull();
          await expect(applyInstanceEvent(db, row.id, event, { strict: true })).rejects.toThrow(IllegalInstanceTransition);
        }
      }
    }
    expect(moved).toBeGreaterThan(20);
    expect(moved + refused).toBe(INSTANCE_STATES.length * INSTANCE_EVENTS.length);
  });

  it("clears the reason when none is given, and honours a further condition", async () => {
    const row = await instanceIn("failed");
    expect(await applyInstanceEvent(db, row.id, "delete")).toBe(true);
    expect((await stateOf(row.id)).stateReason).toBeNull();
    const other = await instanceIn("running");
    expect(await applyInstanceEvent(db, other.id, "observed_off", { where: eq(s.instances.tenantId, crypto.randomUUID()) })).toBe(false);
    expect((await stateOf(other.id)).state).toBe("running");
    expect(await applyInstanceEvent(db, other.id, "observed_off", { where: eq(s.instances.tenantId, tenantId), reason: "seen off" })).toBe(true);
    expect(await stateOf(other.id)).toMatchObject({ state: "stopped", stateReason: "seen off" });
  });
});
