// A tiny YAML emitter for the cidata files (meta-data, network-config). cloud-init and netplan read YAML; we only
// ever write JSON-shaped data, so block style with JSON-quoted strings is enough and avoids a YAML dependency.
// Strings are always double-quoted (a JSON string is a valid YAML double-quoted scalar), so values like "no",
// "on" or "0123" cannot turn into booleans or numbers under YAML 1.1.

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const YAML11_KEYWORDS = /^(y|n|yes|no|true|false|on|off|null)$/i;

function key(k: string): string {
  return PLAIN_KEY.test(k) && !YAML11_KEYWORDS.test(k) ? k : JSON.stringify(k);
}

function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error("cannot write a non-finite number to YAML");
    return String(v);
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v) && v.length === 0) return "[]";
  if (typeof v === "object" && Object.keys(v as object).length === 0 && !Array.isArray(v)) return "{}";
  return undefined;
}

function lines(v: unknown): string[] {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) {
      const s = scalar(item);
      if (s !== undefined) {
        out.push(`- ${s}`);
        continue;
      }
      const inner = lines(item);
      out.push(`- ${inner[0]}`, ...inner.slice(1).map((l) => `  ${l}`));
    }
    return out;
  }
  const out: string[] = [];
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    const s = scalar(val);
    if (s !== undefined) out.push(`${key(k)}: ${s}`);
    else out.push(`${key(k)}:`, ...lines(val).map((l) => `  ${l}`));
  }
  return out;
}

/** Serializes a JSON-compatible object as a YAML document (block style). */
export function toYaml(value: Record<string, unknown>): string {
  return `${lines(value).join("\n")}\n`;
}
