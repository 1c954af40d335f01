// Shapes of the tenancy area, declared once: tenants, users, members, quotas, API tokens, SSH keys.
// Router inputs and the forms' resolvers both use these.
import { createInsertSchema } from "drizzle-zod";
import { z } from "zod";
import { dnsLabelRule, requiredText } from "./fields";
import { QUOTA_DEFAULTS, type QuotaResource, sshKeys, tenants } from "@/db/schema";

export const tenantSlugRule = dnsLabelRule({ min: 2, max: 40 }).refine((s) => !["ops", "api", "login", "new", "account"].includes(s), "That slug is reserved");

export const displayNameRule = requiredText(100);

export const tenantCreateSchema = createInsertSchema(tenants, { slug: () => tenantSlugRule, name: () => displayNameRule })
  .pick({ slug: true, name: true })
  .strict();
export const tenantRenameSchema = z.object({ id: z.uuid(), name: displayNameRule }).strict();
export const tenantSortKeys = ["name", "slug", "createdAt"] as const;

export const emailRule = z.string().trim().toLowerCase().max(254, "At most 254 characters").pipe(z.email("Not an email address"));
export const passwordRule = z.string().min(12, "At least 12 characters").max(256, "At most 256 characters");
export const platformRoleInput = z.enum(["operator-admin", "operator-viewer"]).nullable();
export const tenantRoleInput = z.enum(["tenant-admin", "tenant-member"]);

export const userCreateSchema = z
  .object({
    email: emailRule,
    name: displayNameRule,
    platformRole: platformRoleInput.default(null),
    /** Leave empty to have one generated; either way it is shown once and must be changed by the user. */
    password: passwordRule.optional(),
  })
  .strict();
export const userSortKeys = ["email", "name", "createdAt"] as const;

/** Add an existing user by email, or invite a new one (name given → created with a temporary password). */
// Not strict on its own: the tenant procedure's input merges it with `tenant`; the operator variant is strict.
export const memberAddSchema = z.object({ email: emailRule, name: displayNameRule.optional(), role: tenantRoleInput.default("tenant-member") });

const limit = z.number().int("A whole number").min(0, "At least 0").max(1_000_000, "At most 1,000,000");
export const quotaLimitsSchema = z
  .object(Object.fromEntries(Object.keys(QUOTA_DEFAULTS).map((k) => [k, limit.optional()])) as Record<QuotaResource, z.ZodOptional<typeof limit>>)
  .strict();

export const apiTokenCreateSchema = z
  .object({
    name: requiredText(63),
    expiresInDays: z.number().int("A whole number of days").min(1, "At least 1 day").max(365, "At most 365 days (1 year)"),
    scope: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("tenant"), tenant: z.string().min(1).max(63), role: tenantRoleInput }).strict(),
      z.object({ kind: z.literal("platform"), role: z.enum(["operator-admin", "operator-viewer"]) }).strict(),
    ]),
  })
  .strict();

export const sshKeyAddSchema = createInsertSchema(sshKeys, {
  name: () => requiredText(63),
  publicKey: () => z.string().trim().min(1, "Paste a public key").max(16_384, "Too long for a public key"),
})
  .pick({ name: true, publicKey: true })
  .strict();

export type TenantCreate = z.infer<typeof tenantCreateSchema>;
export type UserCreate = z.infer<typeof userCreateSchema>;
export type MemberAdd = z.infer<typeof memberAddSchema>;
export type ApiTokenCreate = z.infer<typeof apiTokenCreateSchema>;
export type SshKeyAdd = z.infer<typeof sshKeyAddSchema>;
