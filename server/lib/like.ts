// Text filters of the lists: a search term as a LIKE / ILIKE pattern that matches it anywhere, with the pattern's
// own characters (% _ \) escaped so a term containing them matches them literally (Postgres' default escape is \).

/** `%term%` with %, _ and \ escaped; undefined for no term (no filter). */
export function containing(q: string | undefined | null): string | undefined {
  return q ? `%${q.replace(/[%_\\]/g, (c) => `\\${c}`)}%` : undefined;
}
