// The instance create input, declared once: router input and (later) the tenant's create form. User data is
// checked here as cloud-init would read it — a #cloud-config document must parse as a YAML mapping — so a typo
// is a field error at submit time instead of a server that boots without its configuration.
import { parseDocument } from "yaml";
import { z } from "zod";
import { traitsRule } from "./traits";
import { dnsLabelRule, optionalDescription } from "./fields";

/** cloud-init's limit on the NoCloud seed is larger, but the DPU agent refuses more than 64 KiB (agent/schemas.ts). */
export const USER_DATA_MAX_BYTES = 64 * 1024;

export const instanceNameRule = dnsLabelRule({ note: "it becomes the host name" });

/** Why a user-data text would not work, or null when it is fine (empty means none). */
export function userDataProblem(text: string): string | null {
  if (text === "") return null;
  if (Buffer.byteLength(text, "utf8") > USER_DATA_MAX_BYTES) return "At most 64 KiB; put large payloads behind #include or in the image";
  if (text.startsWith("#!")) return null; // a script: cloud-init runs it as is
  if (!text.startsWith("#cloud-config")) return "Must start with #cloud-config (or #! for a script)";
  // Silently: the yaml package reports warnings (an unknown tag, a bad directive) through process.emitWarning, which
  // prints the tenant's text to the server's stderr. Problems go back to the caller, and nowhere else.
  let doc: unknown;
  try {
    const parsed = parseDocument(text, { logLevel: "silent" });
    if (parsed.errors.length > 0) return `Not valid YAML: ${parsed.errors[0]!.message.split("\n")[0]}`;
    doc = parsed.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return `Not valid YAML: ${(e as Error).message.split("\n")[0]}`;
  }
  if (doc !== null && (typeof doc !== "object" || Array.isArray(doc))) return "A #cloud-config document must be a YAML mapping (key: value lines)";
  return null;
}

export const userDataRule = z
  .string()
  .max(USER_DATA_MAX_BYTES * 2)
  .default("")
  .superRefine((s, ctx) => {
    const problem = userDataProblem(s);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** An address typed by a person: empty means "the subnet's next free one" (IPAM checks the rest). */
const optionalAddress = z.string().trim().max(45, "Not an IP address").optional();

/** One NIC of the create input: a subnet of any of the tenant's VPCs, optionally a fixed address, its groups. */
export const nicSpecSchema = z
  .object({
    subnetId: z.uuid("Choose a subnet"),
    address: optionalAddress,
    securityGroupIds: z.array(z.uuid()).max(16, "At most 16 security groups").default([]),
  })
  .strict();

/** Add a NIC to an instance (the same fields as one NIC of the create). */
export const nicAddSchema = nicSpecSchema;
/** Move a NIC to another subnet (a new address from it; the groups follow, or the new VPC's default group). */
export const nicMoveSchema = z.object({ subnetId: z.uuid("Choose a subnet"), address: optionalAddress }).strict();

export const instanceCreateSchema = z
  .object({
    name: instanceNameRule,
    description: optionalDescription(),
    poolId: z.uuid("Choose a pool"),
    imageId: z.uuid("Choose an image"),
    /** Defaults to the image's minimum size. */
    systemVolumeSizeGiB: z.int().min(1, "At least 1 GiB").max(16_384, "At most 16 TiB").optional(),
    /** The primary NIC's subnet (NIC 0) when `nics` is not given. */
    subnetId: z.uuid("Choose a subnet").optional(),
    securityGroupIds: z.array(z.uuid()).max(16, "At most 16 security groups").default([]),
    /** Every NIC in order (the first is the primary, eth0): instead of subnetId / securityGroupIds. */
    nics: z.array(nicSpecSchema).min(1, "At least one NIC").max(8, "At most 8 NICs").optional(),
    sshKeyIds: z.array(z.uuid()).max(32, "At most 32 SSH keys").default([]),
    userData: userDataRule,
    recoveryPolicy: z.enum(["manual", "reprovision"]).default("manual"),
    /** Host traits the instance needs, on top of its pool's (chosen among the traits the pool's hosts have). */
    requiredTraits: traitsRule.default([]),
    /** Existing data volumes of the tenant to attach from the first boot. */
    dataVolumeIds: z.array(z.uuid()).max(16, "At most 16 data volumes").default([]),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.nics && v.subnetId && v.nics[0]!.subnetId !== v.subnetId)
      ctx.addIssue({ code: "custom", path: ["subnetId"], message: "Give the primary NIC's subnet once: in nics[0] or in subnetId" });
    if (!v.nics && !v.subnetId) ctx.addIssue({ code: "custom", path: ["subnetId"], message: "Choose a subnet" });
  });

export type InstanceCreate = z.infer<typeof instanceCreateSchema>;
