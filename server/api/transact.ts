// One transaction per mutation, with what the database refuses turned into an error a person can act on: the shape
// every write procedure had as try { db.transaction(…) } catch { throw mapDbError(…) }, written once. `uniques` names,
// per unique (or exclusion) constraint, the field and message a violation becomes (see mapDbError).
import type { Db, Tx } from "@/db/client";
import { type ConstraintFields, mapDbError } from "./errors";

export async function transact<T>(db: Db, fn: (tx: Tx) => Promise<T>, uniques?: ConstraintFields): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (e) {
    throw mapDbError(e, uniques);
  }
}
