// Storage shapes, declared once: drizzle tables → zod (drizzle-zod) → router inputs → form resolvers.
// Volumes, snapshots and images come from db/schema/storage.ts; disk and logical pools live only on the storage
// service, so their shapes are plain zod mirroring the service's API (sim/storage/openapi.yaml).
// Tenant inputs are not .strict(): tenantProcedure merges its own `tenant` key into them.
import { createInsertSchema } from "drizzle-zod";
import { z } from "zod";
import { optionalDescription, requiredText } from "./fields";
import { images, snapshots, volumes } from "@/db/schema";

export const GiB = 1024 ** 3;
export const MAX_VOLUME_GIB = 65536;

export const storageNameRule = requiredText(63).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Letters, digits, '.', '_' and '-', starting with a letter or digit");
export const sizeGiBRule = z
  .number({ error: "A whole number of GiB" })
  .int("A whole number of GiB")
  .min(1, "At least 1 GiB")
  .max(MAX_VOLUME_GIB, `At most ${MAX_VOLUME_GIB} GiB`);

export const volumeCreateSchema = createInsertSchema(volumes, {
  name: () => storageNameRule,
  description: optionalDescription,
  sizeGiB: () => sizeGiBRule,
})
  .pick({ name: true, description: true, sizeGiB: true, kind: true, multiAttach: true })
  .extend({
    /** Thin clone of this image's golden snapshot (a system disk). */
    imageId: z.uuid().optional(),
    /** Thin clone of this snapshot of one of the tenant's volumes. */
    snapshotId: z.uuid().optional(),
  });
export const volumeUpdateSchema = z.object({ id: z.uuid(), name: storageNameRule.optional(), description: optionalDescription() });
export const volumeResizeSchema = z.object({ id: z.uuid(), sizeGiB: sizeGiBRule });
export const volumeStates = volumes.state.enumValues;

export const snapshotCreateSchema = createInsertSchema(snapshots, { name: () => storageNameRule, description: optionalDescription })
  .pick({ name: true, description: true })
  .extend({ volumeId: z.uuid() });

const imageMeta = createInsertSchema(images, {
  name: () => storageNameRule,
  description: optionalDescription,
  os: () => requiredText(63),
  version: () => requiredText(63),
  minSizeGiB: () => sizeGiBRule,
}).pick({ name: true, description: true, os: true, version: true, minSizeGiB: true, visibility: true, tenantId: true });

/** Name, OS, version, minimum size and who sees it; minSizeGiB defaults to the image's size. */
export const imageMetaSchema = imageMeta.extend({ minSizeGiB: sizeGiBRule.optional(), tenantId: z.uuid().nullish() }).strict();
export const imageFromSnapshotSchema = imageMetaSchema.extend({ snapshotId: z.uuid() }).strict();
export const imageCloneSchema = imageMetaSchema.partial().extend({ id: z.uuid(), name: storageNameRule }).strict();
export const imageUpdateSchema = imageMeta
  .pick({ name: true, description: true, os: true, version: true, minSizeGiB: true })
  .partial()
  .extend({ id: z.uuid(), rescue: z.boolean().optional() })
  .strict();
/** A tenant's "backup": promote one of its snapshots to an image only that tenant sees. */
export const snapshotPromoteSchema = imageMeta
  .pick({ name: true, description: true, os: true, version: true })
  .extend({ id: z.uuid(), minSizeGiB: sizeGiBRule.optional() });

export const diskPoolCreateSchema = z
  .object({ name: storageNameRule, diskIds: z.array(z.string().min(1).max(200)).min(1, "Pick at least one disk").max(10_000) })
  .strict();
export const diskPoolUpdateSchema = z.object({ id: z.string().min(1).max(200), name: storageNameRule }).strict();

export const redundancySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("replica"), copies: z.number().int().min(1, "1 to 3 copies").max(3, "1 to 3 copies") }).strict(),
  z
    .object({
      type: z.literal("ec"),
      data: z.number().int().min(2, "At least 2 data fragments").max(16, "At most 16 data fragments"),
      parity: z.number().int().min(1, "At least 1 parity fragment").max(4, "At most 4 parity fragments"),
    })
    .strict(),
]);
export const overcommitRule = z.number().min(1, "At least 1.0 (no over-commit)").max(20, "At most 20");
export const logicalPoolCreateSchema = z
  .object({
    name: storageNameRule,
    diskPoolId: z.string().min(1, "Pick a disk pool").max(200),
    redundancy: redundancySchema,
    thinProvisioned: z.boolean().default(true),
    overcommitRatio: overcommitRule.optional(),
  })
  .strict();
export const logicalPoolUpdateSchema = z
  .object({ id: z.string().min(1).max(200), name: storageNameRule.optional(), overcommitRatio: overcommitRule.optional() })
  .strict();

export type VolumeCreate = z.infer<typeof volumeCreateSchema>;
export type SnapshotCreate = z.infer<typeof snapshotCreateSchema>;
export type ImageMeta = z.infer<typeof imageMetaSchema>;
export type LogicalPoolCreate = z.infer<typeof logicalPoolCreateSchema>;

/** A SHA-256 as 64 hex digits (either case; stored lower-case). */
export const sha256Rule = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{64}$/, "A SHA-256 is 64 hexadecimal digits.");
/** Import an image from an http(s) URL: the metadata, the URL, optionally the format and the checksum to expect. */
export const imageImportSchema = imageMetaSchema
  .extend({
    url: z
      .string()
      .trim()
      .max(2048)
      .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), "Give an http:// or https:// URL."),
    format: z.enum(["raw", "qcow2"]).optional(),
    sha256: sha256Rule.optional(),
  })
  .strict();
export type ImageImportInput = z.infer<typeof imageImportSchema>;
