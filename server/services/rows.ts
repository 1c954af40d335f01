// Loading one row by id the way every router and workflow does: scoped to a tenant when the table is a tenant's
// (another tenant's row does not exist for this caller), optionally locked for update, and the resource's own
// "does not exist" message (a not_found domain error, NOT_FOUND at the API edge) when there is none. Also the columns
// of a select by name (columnsOf).
import { and, type Column, eq, getTableColumns, type SQL, type Table } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Db, Tx } from "@/db/client";
import { notFound } from "@/domain/errors";

type Keyed = PgTable & { id: Column };
type TenantKeyed = Keyed & { tenantId: Column };

/** Some of a table's columns by name, for a select that shows them under their own names. */
export function columnsOf<T extends Table, K extends keyof T["_"]["columns"] & string>(table: T, ...names: K[]): Pick<T["_"]["columns"], K> {
  const all = getTableColumns(table);
  return Object.fromEntries(names.map((n) => [n, all[n]])) as Pick<T["_"]["columns"], K>;
}

/** WHERE for "the row with this id, if it is this tenant's". */
export function inTenant(table: TenantKeyed, tenantId: string, id: string): SQL {
  return and(eq(table.id, id), eq(table.tenantId, tenantId)) as SQL;
}

/** The first of `rows`, or the not-found error with `message`. */
export function found<T>(rows: T[], message: string): T {
  const [row] = rows;
  if (row === undefined) throw notFound(message);
  return row;
}

/** The row of `table` matching `where`, locked for update when asked; not found with `message` when there is none. */
export async function rowWhere<T extends Keyed>(db: Db | Tx, table: T, where: SQL, message: string, lock = false): Promise<T["$inferSelect"]> {
  const q = db
    .select()
    .from(table as PgTable)
    .where(where);
  return found(lock ? await q.for("update") : await q, message) as T["$inferSelect"];
}

/** The tenant's row of `table` with this id, locked for update when asked; not found with `message` otherwise. */
export function tenantRow<T extends TenantKeyed>(db: Db | Tx, table: T, tenantId: string, id: string, message: string, lock = false) {
  return rowWhere(db, table, inTenant(table, tenantId, id), message, lock);
}

/** The row of `table` with this id (an operator's view: any tenant's), locked when asked; not found otherwise. */
export function rowById<T extends Keyed>(db: Db | Tx, table: T, id: string, message: string, lock = false) {
  return rowWhere(db, table, eq(table.id, id), message, lock);
}

/** An operation (operators' and tenants' routers alike) that is not there, or not the caller's. */
export const OPERATION_NOT_FOUND = "That operation does not exist.";
