// BIOS change shape, declared once for the router input and the edit dialog: attribute name → new value
// (the registry's types: text for Enumeration/String, a whole number for Integer, true/false for Boolean).
import { z } from "zod";

export const biosValueSchema = z.union([z.string().max(1024), z.number().int(), z.boolean()]);

export const biosChangeSchema = z.object({
  id: z.uuid(),
  attributes: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,127}$/, "A BIOS attribute name is letters, digits, dots and underscores"), biosValueSchema)
    .refine((a) => Object.keys(a).length > 0 && Object.keys(a).length <= 100, "Change from 1 to 100 BIOS attributes at a time"),
});
