// The pool's shape, declared once: drizzle table → zod (drizzle-zod) → router input → form resolver.
import { createInsertSchema } from "drizzle-zod";
import { z } from "zod";
import { dnsLabelRule, optionalDescription, requiredText } from "./fields";
import { pools } from "@/db/schema";

export const poolNameRule = dnsLabelRule({ min: 2 });

export const poolCreateSchema = createInsertSchema(pools, {
  name: () => poolNameRule,
  description: optionalDescription,
  resourceClass: () => requiredText(63).regex(/^[a-z0-9][a-z0-9.\-_]*$/, "Lowercase letters, digits, dots, dashes, underscores (e.g. bm.standard)"),
  maxSystemVolumeGiB: () => z.int("A whole number of GiB").min(1, "At least 1 GiB").max(65536, "At most 64 TiB").optional(),
})
  .pick({ name: true, description: true, resourceClass: true, maxSystemVolumeGiB: true })
  .strict();

export const poolUpdateSchema = poolCreateSchema.partial().extend({ id: z.uuid() }).strict();

export type PoolCreate = z.infer<typeof poolCreateSchema>;
export type PoolUpdate = z.infer<typeof poolUpdateSchema>;

export const poolSortKeys = ["name", "createdAt", "resourceClass"] as const;
