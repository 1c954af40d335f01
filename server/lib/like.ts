// Text filters of the lists: a search term as a LIKE / ILIKE pattern that matches it anywhere, with the pattern's
// own characters (% _ \) escaped so a term containing them matches them literally (Postgres' default escape is \).
import { type Column, ilike, or, type SQL } from "drizzle-orm";

/** `%term%` with %, _ and \ escaped; undefined for no term (no filter). */
export function containing(q: string | undefined | null): string | undefined {
  return q ? `%${q.replace(/[%_\\]/g, (c) => `\\${c}`)}%` : undefined;
}

/** A list's text search: any of `columns` (or expressions) contains `q`, case-insensitively; undefined for no term. */
export function matchesText(q: string | undefined | null, ...columns: (Column | SQL)[]): SQL | undefined {
  const pattern = containing(q);
  return pattern ? or(...columns.map((c) => ilike(c, pattern))) : undefined;
}
