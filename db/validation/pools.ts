// The pool's shape, declared once: drizzle table → zod (drizzle-zod) → router input → form resolver.
import { createInsertSchema } from "drizzle-zod";
import { z } from "zod";
import { pools } from "@/db/schema";

export const poolNameRule = z
  .string()
  .trim()
  .min(2, "At least 2 characters")
  .max(63, "At most 63 characters")
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "Lowercase letters, digits and dashes; start and end with a letter or digit");

export const poolCreateSchema = createInsertSchema(pools, {
  name: () => poolNameRule,
  description: () => z.string().trim().max(500, "At most 500 characters").optional(),
  resourceClass: (s) =>
    s
      .trim()
      .min(1, "Required")
      .max(63, "At most 63 characters")
      .regex(/^[a-z0-9][a-z0-9.\-_]*$/, "Lowercase letters, digits, dots, dashes, underscores (e.g. bm.standard)"),
  maxSystemVolumeGiB: () => z.int("A whole number of GiB").min(1, "At least 1 GiB").max(65536, "At most 64 TiB").optional(),
})
  .pick({ name: true, description: true, resourceClass: true, maxSystemVolumeGiB: true })
  .strict();

export const poolUpdateSchema = poolCreateSchema.partial().extend({ id: z.uuid() }).strict();

export type PoolCreate = z.infer<typeof poolCreateSchema>;
export type PoolUpdate = z.infer<typeof poolUpdateSchema>;

export const poolSortKeys = ["name", "createdAt", "resourceClass"] as const;
