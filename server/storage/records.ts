// Anvil's rows for the objects it keeps on the storage service (volumes, snapshots, images) are made and removed
// around the service call, so that neither side leaks: a row in state "creating" commits first (with its quota and
// audit) and is removed again when the service refuses; a delete marks the row "deleting", removes the service's
// object, and only then the row, with its audit row — or gives the row its state back when the service refuses.
import { type Column, eq } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Db, Tx } from "@/db/client";
import { tenantRow } from "@/server/services/rows";
import type { Principal } from "@/server/auth/principal";
import { storageError } from "@/server/api/errors";
import { deleteRow } from "@/server/api/updates";
import { audit } from "@/server/services/audit";

interface Actor {
  db: Db;
  principal: Principal | null;
  requestId: string;
}
type RecordTable = PgTable & { id: Column; state: Column };
/** The audit target of a record: `type` is both the target type and the action's prefix. */
type Target = { type: string; tenantId: string | null };

/** A delete on the storage service where an object that is already gone counts as deleted. */
export function goneIsDone(call: Promise<void>): Promise<void> {
  return call.catch((e) => {
    // Already gone on the service: the record is what remains to clean up.
    if (!(e instanceof Error && "status" in e && (e as { status: number }).status === 404)) throw e;
  });
}

/** The service refused to make `row`'s object: the row goes, audited as "<type>.create.failed" with the reason. */
export async function dropFailedCreate(ctx: Actor, table: RecordTable, row: { id: string; name: string }, target: Target, cause: unknown): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await tx.delete(table).where(eq(table.id, row.id));
    await audit(tx, ctx, {
      action: `${target.type}.create.failed`,
      targetType: target.type,
      targetId: row.id,
      targetName: row.name,
      tenantId: target.tenantId,
      details: { error: cause instanceof Error ? cause.message : String(cause) },
    });
  });
}

/**
 * The first half of a delete, in one transaction: the tenant's row locked (not found: `notFound`), the resource's
 * `check`s (what still depends on it), then the row marked "deleting". Returns the row as it was.
 */
export async function startDelete<T extends RecordTable & { tenantId: Column }>(
  ctx: Actor,
  table: T,
  scope: { tenantId: string; id: string; notFound: string },
  check: (tx: Tx, row: T["$inferSelect"]) => Promise<void>,
): Promise<T["$inferSelect"]> {
  return ctx.db.transaction(async (tx) => {
    const row = await tenantRow(tx, table, scope.tenantId, scope.id, scope.notFound, true);
    await check(tx, row);
    await tx
      .update(table as RecordTable)
      .set({ state: "deleting" })
      .where(eq(table.id, scope.id));
    return row;
  });
}

/**
 * The rest of a delete once `row` is marked "deleting": `removeObjects` on the service; when it refuses, the row gets
 * its state back and the refusal is reported (`refusal`: who refused what); else the row goes, audited as
 * "<type>.delete" with `details`.
 */
export async function finishDelete(
  ctx: Actor,
  table: RecordTable,
  row: { id: string; name: string; state: string },
  removeObjects: () => Promise<void>,
  target: Target & { refusal: string; details?: Record<string, unknown> },
): Promise<void> {
  try {
    await removeObjects();
  } catch (e) {
    await ctx.db.update(table).set({ state: row.state }).where(eq(table.id, row.id));
    throw storageError(e, {}, target.refusal);
  }
  await ctx.db.transaction((tx) => deleteRow(tx, ctx, table, row, target));
}
