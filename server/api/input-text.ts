// Finds text in a procedure's raw input that Postgres cannot store: a NUL character (text columns refuse \u0000, and
// so does jsonb) or an unpaired UTF-16 surrogate (not valid UTF-8). trpc.ts refuses such input for every procedure
// before it is parsed, with the path of the field, so it never reaches a query as a 500.

export interface UnstorableText {
  /** Dotted path of the field ("name", "limits.vpcs", "ids.2"; "_" for the input itself). */
  path: string;
  problem: string;
}

const MAX_DEPTH = 32;
// Without the u flag a regexp sees UTF-16 code units: a high surrogate not followed by a low one, or a low one not
// preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why Postgres could not store `s`, or undefined when it can. */
export function unstorableTextProblem(s: string): string | undefined {
  if (s.includes("\u0000")) return "contains a NUL character (\\u0000), which cannot be stored";
  if (LONE_SURROGATE.test(s)) return "contains broken Unicode (an unpaired UTF-16 surrogate), which cannot be stored";
  return undefined;
}

export function findUnstorableText(input: unknown): UnstorableText | undefined {
  const walk = (v: unknown, path: string[], depth: number): UnstorableText | undefined => {
    const at = () => path.join(".") || "_";
    if (typeof v === "string") {
      const problem = unstorableTextProblem(v);
      return problem ? { path: at(), problem } : undefined;
    }
    if (typeof v !== "object" || v === null || v instanceof Date) return undefined;
    if (depth >= MAX_DEPTH) return { path: at(), problem: `is nested more than ${MAX_DEPTH} levels deep` };
    const entries: [string, unknown][] =
      v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x]) : v instanceof Set ? [...v].map((x, i) => [String(i), x]) : Object.entries(v);
    for (const [k, x] of entries) {
      const keyProblem = unstorableTextProblem(k);
      if (keyProblem) return { path: at(), problem: `has a key that ${keyProblem}` };
      const found = walk(x, [...path, k], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return walk(input, [], 0);
}
