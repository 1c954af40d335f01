// Network shapes, declared once: drizzle tables → zod (drizzle-zod) → router inputs → form resolvers.
// Syntax (is this a CIDR, an address, a port range in order) is checked here so forms show it inline; rules that need
// the database (inside the VPC, overlap with siblings, the tenant's public-range permission) are the routers'.
import { createInsertSchema } from "drizzle-zod";
import { z } from "zod";
import { dnsLabelRule, optionalDescription } from "./fields";
import { ports, providerNetworks, securityGroupRules, securityGroups, subnets, vpcs } from "@/db/schema";
import { parseAddress, parseCidr } from "@/domain/cidr";

export const netNameRule = dnsLabelRule();

/** Adds an issue saying what is wrong with a CIDR string (and which network was meant). */
function cidrProblem(v: string, ctx: z.RefinementCtx): void {
  const p = parseCidr(v);
  if (!p.ok) ctx.addIssue({ code: "custom", message: p.reason });
}

/** A CIDR string with host bits zero; the message says what is wrong (and which network was meant). */
export const cidrText = z.string().trim().min(1, "Required").max(64).superRefine(cidrProblem);

export const addressText = z
  .string()
  .trim()
  .min(1, "Required")
  .max(45)
  .refine((v) => parseAddress(v) !== null, "Not an IP address (e.g. 10.0.1.1)");

const vlanId = z.number().int("Whole number").min(1, "VLAN ids are 1–4094").max(4094, "VLAN ids are 1–4094");

/** An optional CIDR: empty means none (null). */
const optionalCidrText = () =>
  z
    .string()
    .trim()
    .max(64)
    .optional()
    .nullable()
    .transform((v) => (v ? v : null))
    .superRefine((v, ctx) => {
      if (v) cidrProblem(v, ctx);
    });

/** An optional gateway address: empty means the default (undefined). */
const optionalGateway = (example: string) =>
  z
    .string()
    .trim()
    .max(45)
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || parseAddress(v) !== null, `Not an IP address (e.g. ${example})`);

export const vpcCreateSchema = createInsertSchema(vpcs, {
  name: () => netNameRule,
  description: optionalDescription,
  cidr: () => cidrText,
  ipv6Cidr: optionalCidrText,
})
  .pick({ name: true, description: true, cidr: true, ipv6Cidr: true })
  .strict();
export const vpcUpdateSchema = z.object({ id: z.uuid(), name: netNameRule.optional(), description: optionalDescription() }).strict();

export const reservedRangeSchema = z.object({ start: addressText, end: addressText }).strict();

export const subnetCreateSchema = createInsertSchema(subnets, {
  name: () => netNameRule,
  description: optionalDescription,
  cidr: () => cidrText,
  // Optional: the first usable address when left empty.
  gateway: () => optionalGateway("10.0.1.1"),
  // Dual stack (optional): a /64 of the VPC's IPv6 range; its gateway defaults to the /64's ::1.
  ipv6Cidr: optionalCidrText,
  ipv6Gateway: () => optionalGateway("fd00::1"),
  reservedRanges: () => z.array(reservedRangeSchema).max(32, "At most 32 reserved ranges").default([]),
  dnsServers: () => z.array(addressText).max(4, "At most 4 DNS servers").default([]),
  vlanId: () => vlanId.nullable().optional(),
})
  .pick({
    vpcId: true,
    name: true,
    description: true,
    cidr: true,
    gateway: true,
    ipv6Cidr: true,
    ipv6Gateway: true,
    reservedRanges: true,
    dnsServers: true,
    vlanId: true,
  })
  .extend({ vpcId: z.uuid() })
  .strict();
/** `ipv6Cidr`: a /64 adds (or changes) the subnet's IPv6 range, null removes it; left out, it stays as it is. */
export const subnetUpdateSchema = z
  .object({
    id: z.uuid(),
    name: netNameRule.optional(),
    description: optionalDescription(),
    dnsServers: z.array(addressText).max(4, "At most 4 DNS servers").optional(),
    reservedRanges: z.array(reservedRangeSchema).max(32, "At most 32 reserved ranges").optional(),
    ipv6Cidr: z
      .string()
      .trim()
      .max(64)
      .nullable()
      .optional()
      .transform((v) => (v === "" ? null : v))
      .superRefine((v, ctx) => {
        if (v) cidrProblem(v, ctx);
      }),
    ipv6Gateway: optionalGateway("fd00::1"),
  })
  .strict();

export const securityGroupCreateSchema = createInsertSchema(securityGroups, { name: () => netNameRule, description: optionalDescription })
  .pick({ vpcId: true, name: true, description: true })
  .extend({ vpcId: z.uuid() })
  .strict();
export const securityGroupUpdateSchema = z.object({ id: z.uuid(), name: netNameRule.optional(), description: optionalDescription() }).strict();

const port = z.number().int("Whole number").min(1, "Ports are 1–65535").max(65535, "Ports are 1–65535");

/** One rule's fields (the object before cross-field checks, so routers can add `tenant` to it). */
export const securityGroupRuleFields = createInsertSchema(securityGroupRules, {
  portMin: () => port.nullable().optional(),
  portMax: () => port.nullable().optional(),
  remoteCidr: () =>
    z
      .string()
      .trim()
      .max(64)
      .nullable()
      .optional()
      .transform((v) => (v ? v : null)),
  remoteGroupId: () => z.uuid().nullable().optional(),
  description: optionalDescription,
})
  .pick({ direction: true, ethertype: true, protocol: true, portMin: true, portMax: true, remoteCidr: true, remoteGroupId: true, description: true })
  .extend({ groupId: z.uuid() });

type RuleFields = z.infer<typeof securityGroupRuleFields>;

/** Cross-field rule checks: remote CIDR xor remote group; ports only for tcp/udp, min ≤ max; CIDR family = ethertype. */
export function checkRuleFields(r: RuleFields, ctx: z.RefinementCtx): void {
  const ranged = r.protocol === "tcp" || r.protocol === "udp";
  const hasPorts = r.portMin != null || r.portMax != null;
  if (hasPorts && !ranged) ctx.addIssue({ code: "custom", path: ["portMin"], message: "Ports apply to TCP and UDP only" });
  if (r.portMax != null && r.portMin == null) ctx.addIssue({ code: "custom", path: ["portMin"], message: "Give the first port of the range" });
  if (r.portMin != null && r.portMax != null && r.portMin > r.portMax)
    ctx.addIssue({ code: "custom", path: ["portMax"], message: `The last port (${r.portMax}) is before the first (${r.portMin})` });
  if (!r.remoteCidr && !r.remoteGroupId) ctx.addIssue({ code: "custom", path: ["remoteCidr"], message: "Give a remote CIDR or a remote security group" });
  if (r.remoteCidr && r.remoteGroupId) ctx.addIssue({ code: "custom", path: ["remoteGroupId"], message: "Give a remote CIDR or a remote group, not both" });
  if (r.remoteCidr) {
    const p = parseCidr(r.remoteCidr);
    if (!p.ok) ctx.addIssue({ code: "custom", path: ["remoteCidr"], message: p.reason });
    else if ((p.cidr.family === 4 ? "ipv4" : "ipv6") !== r.ethertype)
      ctx.addIssue({ code: "custom", path: ["remoteCidr"], message: `${r.remoteCidr} is not an ${r.ethertype === "ipv4" ? "IPv4" : "IPv6"} range` });
  }
}

export const securityGroupRuleSchema = securityGroupRuleFields.strict().superRefine(checkRuleFields);
export type SecurityGroupRuleInput = z.infer<typeof securityGroupRuleSchema>;

export const portCreateSchema = createInsertSchema(ports, { name: () => netNameRule, description: optionalDescription })
  .pick({ subnetId: true, name: true, description: true })
  .extend({
    subnetId: z.uuid(),
    /** A fixed address; empty means "the next free one". */
    address: z
      .string()
      .trim()
      .max(45)
      .optional()
      .transform((v) => (v ? v : undefined)),
    /** A fixed IPv6 address on a dual-stack subnet; empty means "the next free one". */
    ipv6Address: z
      .string()
      .trim()
      .max(45)
      .optional()
      .transform((v) => (v ? v : undefined)),
    /** Groups to attach; empty means the VPC's default group. */
    securityGroupIds: z.array(z.uuid()).max(5, "At most 5 security groups per port").optional(),
  })
  .strict();
export const portUpdateSchema = z
  .object({
    id: z.uuid(),
    name: netNameRule.optional(),
    description: optionalDescription(),
    securityGroupIds: z.array(z.uuid()).max(5, "At most 5 security groups per port").optional(),
  })
  .strict();

/** An optional IPv4 address field: empty means "none" (null); absent means "unchanged" on updates. */
const optionalAddress = z
  .string()
  .trim()
  .max(45)
  .nullable()
  .optional()
  .transform((v) => (v === undefined ? undefined : v ? v : null))
  .refine((v) => !v || parseAddress(v)?.family === 4, "Not an IPv4 address (e.g. 203.0.113.1)");
/** An optional MAC address field (aa:bb:cc:dd:ee:ff, lower-cased). */
const optionalMac = z
  .string()
  .trim()
  .max(17)
  .nullable()
  .optional()
  .transform((v) => (v === undefined ? undefined : v ? v.toLowerCase() : null))
  .refine((v) => !v || /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v), "Not a MAC address (e.g. 52:54:00:12:34:56)")
  .refine((v) => !v || (parseInt(v.slice(0, 2), 16) & 1) === 0, "A gateway's MAC is unicast (the first octet is even)");

export const providerNetworkCreateSchema = createInsertSchema(providerNetworks, {
  name: () => netNameRule,
  description: optionalDescription,
  cidr: () => cidrText,
  vlanId: () => vlanId,
})
  .pick({ name: true, description: true, cidr: true, vlanId: true })
  .extend({ gateway: optionalAddress, gatewayMac: optionalMac })
  .strict();
/** Gateway and its MAC go together; range start and end go together (empty = the default range). */
export const providerNetworkUpdateSchema = z
  .object({
    id: z.uuid(),
    name: netNameRule.optional(),
    description: optionalDescription(),
    gateway: optionalAddress,
    gatewayMac: optionalMac,
    rangeStart: optionalAddress,
    rangeEnd: optionalAddress,
  })
  .strict();

/** Floating IPs (router inputs and the dialogs' resolvers). */
export const floatingIpAllocateSchema = z.object({ providerNetworkId: z.uuid("Pick a provider network") }).strict();
export const floatingIpAttachSchema = z.object({ id: z.uuid(), portId: z.uuid("Pick an instance NIC") }).strict();
export const vpcExternalGatewaySchema = z.object({ id: z.uuid(), providerNetworkId: z.uuid().nullable() }).strict();
