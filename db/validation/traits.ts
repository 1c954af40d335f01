// Trait lists as entered (node page, pool, instance create): each normalized (domain/traits.ts), the list
// de-duplicated and sorted, a malformed trait refused with the rule in words.
import { z } from "zod";
import { MAX_TRAITS, normalizeTraits } from "@/domain/traits";

export const traitsRule = z
  .array(z.string().max(255, "A trait has at most 255 characters"))
  .max(MAX_TRAITS * 2, `At most ${MAX_TRAITS} traits`)
  .transform((raw, ctx) => {
    const r = normalizeTraits(raw);
    if (r.ok) return r.traits;
    ctx.addIssue({ code: "custom", message: r.message });
    return z.NEVER;
  });

export const nodeTraitsSchema = z.object({ id: z.uuid(), traits: traitsRule }).strict();
export const poolTraitsSchema = z.object({ id: z.uuid(), requiredTraits: traitsRule }).strict();
