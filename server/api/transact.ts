// One transaction per mutation, with what the database refuses turned into an error a person can act on: the shape
// every write procedure had as try { db.transaction(…) } catch { throw mapDbError(…) }, written once. `uniques` names,
// per unique constraint, the field and message a duplicate becomes (see mapDbError).
import type { Db, Tx } from "@/db/client";
import { mapDbError } from "./errors";

export async function transact<T>(db: Db, fn: (tx: Tx) => Promise<T>, uniques?: Record<string, { field: string; message: string }>): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (e) {
    throw mapDbError(e, uniques);
  }
}
