// Field rules several resources' shapes share, declared once: the DNS-label name, the description, a short required
// text. Each resource's file builds its own name rule from these (the limits and the wording differ a little).
import { z } from "zod";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const DNS_LABEL_MESSAGE = "Lowercase letters, digits and dashes; start and end with a letter or digit";

/** A required trimmed text of at most `max` characters. */
export const requiredText = (max: number) => z.string().trim().min(1, "Required").max(max, `At most ${max} characters`);

/** A DNS-label name (lowercase letters, digits, dashes) of `min`–`max` characters; `note` ends the message. */
export function dnsLabelRule(opts: { min?: number; max?: number; note?: string } = {}) {
  const min = opts.min ?? 1;
  const max = opts.max ?? 63;
  return z
    .string()
    .trim()
    .min(min, min === 1 ? "Required" : `At least ${min} characters`)
    .max(max, `At most ${max} characters`)
    .regex(DNS_LABEL, opts.note ? `${DNS_LABEL_MESSAGE} (${opts.note})` : DNS_LABEL_MESSAGE);
}

/** A resource's free-text description. */
export const descriptionRule = z.string().trim().max(500, "At most 500 characters");
/** The description of a create or update input: optional. */
export const optionalDescription = () => descriptionRule.optional();
