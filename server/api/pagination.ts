// Cursor pagination shared by every list: keyset on (sort column, id), one page size constant.
// A cursor is opaque to clients but not trusted: it is decoded against the columns it is used with (the sort value's
// type must be the sort column's, the id must look like the id column's), and anything else is BAD_REQUEST
// "Invalid cursor" — a forged cursor must not reach Postgres as a value of the wrong type.
import { TRPCError } from "@trpc/server";
import { and, asc, Column, desc, eq, gt, gte, is, lt, lte, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { unstorableTextProblem } from "./input-text";

export const PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export const pageInput = z.object({
  cursor: z.string().max(500).nullish(),
  limit: z.number().int().min(1).max(MAX_PAGE_SIZE).default(PAGE_SIZE),
  dir: z.enum(["asc", "desc"]).default("asc"),
});

/** The page input of a log-like list (audit, events, operations, invitations): newest first unless asked otherwise. */
export const newestFirstPageInput = pageInput.extend({ dir: z.enum(["asc", "desc"]).default("desc") });

type CursorValue = string | number | boolean | null;

export function encodeCursor(sortValue: unknown, id: string): string {
  const v = sortValue instanceof Date ? { d: sortValue.toISOString() } : sortValue;
  return Buffer.from(JSON.stringify([v, id])).toString("base64url");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT_RANGE: Record<string, [number, number]> = {
  PgSmallInt: [-32768, 32767],
  PgSmallSerial: [1, 32767],
  PgInteger: [-2147483648, 2147483647],
  PgSerial: [1, 2147483647],
};

function invalidCursor(): never {
  throw new TRPCError({ code: "BAD_REQUEST", message: "Invalid cursor: not a cursor this list gave out; start again from the first page." });
}

const textOk = (v: unknown): v is string => typeof v === "string" && v.length <= 500 && !unstorableTextProblem(v);

/** Whether `v` (from a cursor) is a value `col` can be compared with. An SQL expression takes text or a number. */
function sortValueFits(v: unknown, col: Column | SQL): boolean {
  if (!is(col, Column)) return v === null || textOk(v) || (typeof v === "number" && Number.isFinite(v));
  const c = col as Column;
  if (v === null) return !c.notNull;
  switch (c.dataType) {
    case "date":
      return v instanceof Date && !Number.isNaN(v.getTime()) && v.getUTCFullYear() >= 1 && v.getUTCFullYear() <= 9999;
    case "number": {
      if (typeof v !== "number" || !Number.isFinite(v)) return false;
      const range = INT_RANGE[c.columnType];
      if (range) return Number.isInteger(v) && v >= range[0] && v <= range[1];
      return c.columnType.includes("BigInt") || c.columnType.includes("BigSerial") ? Number.isSafeInteger(v) : true;
    }
    case "boolean":
      return typeof v === "boolean";
    case "string": {
      if (!textOk(v)) return false;
      if (c.columnType === "PgUUID") return UUID.test(v);
      const values = (c as Column & { enumValues?: string[] }).enumValues;
      return c.columnType === "PgEnumColumn" && values ? values.includes(v) : true;
    }
    default:
      return false;
  }
}

/** Decodes a cursor for a list keyed on (sortCol, idCol); BAD_REQUEST "Invalid cursor" unless it fits those columns. */
export function decodeCursor(cursor: string, sortCol: Column | SQL, idCol: Column): { value: CursorValue | Date; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) invalidCursor();
  const [raw, id] = parsed as [unknown, unknown];
  if (!textOk(id) || (idCol.columnType === "PgUUID" && !UUID.test(id))) invalidCursor();
  let value: unknown = raw;
  if (raw !== null && typeof raw === "object") {
    const keys = Object.keys(raw);
    const d = (raw as { d?: unknown }).d;
    if (keys.length !== 1 || typeof d !== "string" || d.length > 40) invalidCursor();
    value = new Date(d);
  }
  if (!sortValueFits(value, sortCol)) invalidCursor();
  return { value: value as CursorValue | Date, id };
}

/** WHERE fragment that starts after the cursor, and the ORDER BY for (sortCol, idCol). */
export function keyset(sortCol: Column | SQL, idCol: Column, dir: "asc" | "desc", cursor: string | null | undefined) {
  const order = dir === "asc" ? [asc(sortCol), asc(idCol)] : [desc(sortCol), desc(idCol)];
  if (!cursor) return { where: undefined, order };
  const { value, id } = decodeCursor(cursor, sortCol, idCol);
  const cmp = dir === "asc" ? gt : lt;
  const where = or(cmp(sortCol as Column, value), and(eq(sortCol as Column, value), cmp(idCol, id)));
  return { where, order };
}

/** Fetch limit+1 rows, return the page and the cursor of the next one. */
export function page<T extends { id: string }>(rows: T[], limit: number, sortValue: (row: T) => unknown) {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor(sortValue(last), last.id) : null };
}

/** What a list adds to its select: WHERE, ORDER BY, LIMIT (a drizzle select before its WHERE has these). */
interface ListQuery<T> {
  where(where: SQL | undefined): { orderBy(...order: SQL[]): { limit(limit: number): PromiseLike<T[]> } };
}

/**
 * One page of a list, the shape every list has: `query`'s rows that pass every filter of `where`, after the cursor in
 * (sort column, id) order, `input.limit` of them, and the next page's cursor. `sort` names the columns a caller may
 * sort by (`input.sort` picks one; a list without a choice names just one), `id` the tie-breaker.
 */
export async function listPage<T extends { id: string }, K extends keyof T & string>(
  query: ListQuery<T>,
  input: { cursor?: string | null; limit: number; dir: "asc" | "desc"; sort?: K },
  order: { sort: Record<K, Column | SQL>; id: Column },
  ...where: (SQL | undefined)[]
) {
  const key = input.sort ?? (Object.keys(order.sort)[0] as K);
  const ks = keyset(order.sort[key], order.id, input.dir, input.cursor);
  const rows = await query
    .where(and(...where, ks.where))
    .orderBy(...ks.order)
    .limit(input.limit + 1);
  return page(rows, input.limit, (r) => r[key]);
}

/** A list's filter on one column: equal to `value` when the caller gave one (an empty string is none), else no filter. */
export function eqIf(col: Column, value: string | null | undefined): SQL | undefined {
  return value ? eq(col, value) : undefined;
}

/** A list's time filter: `col` from `from` and up to `to`, each only when given. */
export function within(col: Column, range: { from?: Date; to?: Date }): SQL | undefined {
  return and(range.from ? gte(col, range.from) : undefined, range.to ? lte(col, range.to) : undefined);
}
