// Cursor pagination shared by every list: keyset on (sort column, id), one page size constant.
import { TRPCError } from "@trpc/server";
import { and, asc, type Column, desc, eq, gt, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";

export const PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export const pageInput = z.object({
  cursor: z.string().max(500).nullish(),
  limit: z.number().int().min(1).max(MAX_PAGE_SIZE).default(PAGE_SIZE),
  dir: z.enum(["asc", "desc"]).default("asc"),
});

type CursorValue = string | number | null;

export function encodeCursor(sortValue: unknown, id: string): string {
  const v = sortValue instanceof Date ? { d: sortValue.toISOString() } : sortValue;
  return Buffer.from(JSON.stringify([v, id])).toString("base64url");
}

export function decodeCursor(cursor: string): { value: CursorValue | Date; id: string } {
  try {
    const [v, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    if (typeof id !== "string") throw new Error();
    const value =
      v && typeof v === "object" && "d" in v ? new Date(String((v as { d: string }).d)) : (v as CursorValue);
    return { value, id };
  } catch {
    throw new TRPCError({ code: "BAD_REQUEST", message: "Invalid input: cursor: not a cursor this list gave out" });
  }
}

/** WHERE fragment that starts after the cursor, and the ORDER BY for (sortCol, idCol). */
export function keyset(sortCol: Column | SQL, idCol: Column, dir: "asc" | "desc", cursor: string | null | undefined) {
  const order = dir === "asc" ? [asc(sortCol), asc(idCol)] : [desc(sortCol), desc(idCol)];
  if (!cursor) return { where: undefined, order };
  const { value, id } = decodeCursor(cursor);
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
