// The SET of an update procedure, built from the fields the caller sent: only columns of the table (an input also
// carries `tenant`, `id`…), never undefined values (a field sent as undefined means "leave it"). An update that
// changes nothing answers with the row as it is, instead of handing Postgres an empty SET. `updateRow` is the whole
// update most resources have after their own checks: set, audit, answer with the new row; `updateById` is the whole
// procedure (transaction, locked row, checks, updateRow). `insertRow` and `deleteRow` are the create's and delete's counterparts.
import { type Column, eq, getTableColumns, type Table } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Db, Tx } from "@/db/client";
import type { Principal } from "@/server/auth/principal";
import { audit } from "@/server/services/audit";
import { rowById, tenantRow } from "@/server/services/rows";
import type { ConstraintFields } from "./errors";
import { transact } from "./transact";

/** The columns to set, or undefined when there is nothing to change. */
export function updateSet<T extends Record<string, unknown>>(table: Table, changes: T): Partial<T> | undefined {
  const columns = getTableColumns(table);
  const set = Object.fromEntries(Object.entries(changes).filter(([k, v]) => v !== undefined && Object.hasOwn(columns, k))) as Partial<T>;
  return Object.keys(set).length ? set : undefined;
}

/** Each field of `set` that differs from `before`, as { from, to }: what an audit row records of an update. */
export function changedFields(before: object, set: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const was = before as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(set)
      .filter(([k, v]) => v !== undefined && was[k] !== v)
      .map(([k, v]) => [k, { from: was[k], to: v }]),
  );
}

/**
 * Updates `before`'s row of `table` with the fields the caller sent (none: answers with `before`), audited in the
 * same transaction as "<type>.update" on that row with what was set — or, with `diff`, each changed field's from/to.
 */
export async function updateRow<R extends { id: string; name: string }>(
  tx: Tx,
  ctx: { principal: Principal | null; requestId: string },
  table: PgTable & { id: Column },
  before: R,
  changes: Record<string, unknown>,
  target: { type: string; tenantId?: string | null; diff?: boolean },
): Promise<R> {
  const set = updateSet(table, changes);
  if (!set) return before;
  const [row] = (await tx.update(table).set(set).where(eq(table.id, before.id)).returning()) as R[];
  await audit(tx, ctx, {
    action: `${target.type}.update`,
    targetType: target.type,
    targetId: before.id,
    targetName: row!.name,
    tenantId: target.tenantId,
    details: target.diff ? changedFields(before, set) : set,
  });
  return row!;
}

/**
 * A whole update procedure: in one transaction (duplicates of `uniques` become field errors), the row with `input.id`
 * — the tenant's when `tenantId` is given, else anyone's — locked for update (NOT_FOUND with `notFound`), the
 * resource's own `check`s, then updateRow with the other fields of `input`.
 */
export function updateById<T extends PgTable & { id: Column; tenantId?: Column }, I extends { id: string }>(
  ctx: { db: Db; principal: Principal | null; requestId: string },
  table: T,
  input: I,
  opts: {
    type: string;
    notFound: string;
    tenantId?: string;
    uniques?: ConstraintFields;
    diff?: boolean;
    check?: (tx: Tx, before: T["$inferSelect"], input: I) => Promise<void> | void;
  },
): Promise<T["$inferSelect"]> {
  const { id, ...changes } = input;
  return transact(
    ctx.db,
    async (tx) => {
      const before = opts.tenantId
        ? await tenantRow(tx, table as T & { tenantId: Column }, opts.tenantId, id, opts.notFound, true)
        : await rowById(tx, table, id, opts.notFound, true);
      await opts.check?.(tx, before, input);
      const row = before as T["$inferSelect"] & { id: string; name: string };
      return updateRow(tx, ctx, table, row, changes, { type: opts.type, tenantId: opts.tenantId, diff: opts.diff });
    },
    opts.uniques,
  );
}

/** Inserts one row of `table` and audits it ("<type>.create", or `verb`) in the caller's transaction; returns the row. */
export async function insertRow<T extends PgTable>(
  tx: Tx,
  ctx: { principal: Principal | null; requestId: string },
  table: T,
  values: T["$inferInsert"],
  target: { type: string; verb?: string; tenantId?: string | null; details?: Record<string, unknown> },
): Promise<T["$inferSelect"]> {
  const [row] = (await tx.insert(table).values(values).returning()) as unknown as (T["$inferSelect"] & { id: string; name: string })[];
  await audit(tx, ctx, {
    action: `${target.type}.${target.verb ?? "create"}`,
    targetType: target.type,
    targetId: row!.id,
    targetName: row!.name,
    tenantId: target.tenantId,
    details: target.details,
  });
  return row!;
}

/** Deletes `row` of `table` and audits it as "<type>.delete" in the caller's transaction (`name`: the audit's name for it). */
export async function deleteRow(
  tx: Tx,
  ctx: { principal: Principal | null; requestId: string },
  table: PgTable & { id: Column },
  row: { id: string; name: string },
  target: { type: string; tenantId?: string | null; details?: Record<string, unknown> },
): Promise<void> {
  await tx.delete(table).where(eq(table.id, row.id));
  await audit(tx, ctx, {
    action: `${target.type}.delete`,
    targetType: target.type,
    targetId: row.id,
    targetName: row.name,
    tenantId: target.tenantId,
    details: target.details,
  });
}
