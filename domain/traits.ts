// Host traits: text labels of what a host offers (OpenStack Placement's form: upper-case letters, digits and
// underscores, standard ones like HW_CPU_X86_AVX512F or an operator's own CUSTOM_GPU). Normalized the same way
// everywhere they are entered (node page, pool, instance create), so "custom-gpu " and "CUSTOM_GPU" are one trait.

export const MAX_TRAITS = 50;
export const TRAIT_RULE = /^[A-Z][A-Z0-9_]{0,254}$/;

/** Upper-case, spaces and dashes as underscores, trimmed. */
export function normalizeTrait(raw: string): string {
  return raw
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, "_");
}

/** The normalized, de-duplicated, sorted set, or the first problem with it (a person can act on the message). */
export function normalizeTraits(raw: readonly string[]): { ok: true; traits: string[] } | { ok: false; message: string } {
  const out = new Set<string>();
  for (const r of raw) {
    const t = normalizeTrait(r);
    if (!t) continue;
    if (!TRAIT_RULE.test(t)) return { ok: false, message: `"${r}" is not a trait: letters, digits and underscores, starting with a letter (e.g. CUSTOM_GPU).` };
    out.add(t);
  }
  if (out.size > MAX_TRAITS) return { ok: false, message: `At most ${MAX_TRAITS} traits.` };
  return { ok: true, traits: [...out].sort() };
}

/** Traits in `required` the host lacks (empty: it qualifies). */
export function missingTraits(required: readonly string[], has: readonly string[]): string[] {
  const own = new Set(has);
  return required.filter((t) => !own.has(t));
}
