// The SET of an update procedure, built from the fields the caller sent: only columns of the table (an input also
// carries `tenant`, `id`…), never undefined values (a field sent as undefined means "leave it"). An update that
// changes nothing answers with the row as it is, instead of handing Postgres an empty SET.
import { getTableColumns, type Table } from "drizzle-orm";

/** The columns to set, or undefined when there is nothing to change. */
export function updateSet<T extends Record<string, unknown>>(table: Table, changes: T): Partial<T> | undefined {
  const columns = getTableColumns(table);
  const set = Object.fromEntries(Object.entries(changes).filter(([k, v]) => v !== undefined && Object.hasOwn(columns, k))) as Partial<T>;
  return Object.keys(set).length ? set : undefined;
}
