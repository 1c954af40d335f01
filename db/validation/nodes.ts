// Node shapes, declared once for the router inputs and the forms (enroll, bulk actions, filters).
import { z } from "zod";
import { requiredText } from "./fields";
import { PROVISION_STATES } from "@/domain/node-lifecycle";
import { isOemActionPath } from "@/domain/passthrough";
import { traitsRule } from "./traits";

export const nodeNameRule = requiredText(63).regex(
  /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/,
  "Letters, digits, dots, dashes and underscores; start and end with a letter or digit",
);

/** Redfish: an http(s) base URL; IPMI: host or host:port. Normalised (no trailing slash, lower-case scheme/host). */
export function normaliseBmcAddress(driver: "redfish" | "ipmi", raw: string): { ok: true; value: string } | { ok: false; message: string } {
  const a = raw.trim();
  if (driver === "redfish") {
    let u: URL;
    try {
      u = new URL(a);
    } catch {
      return { ok: false, message: "Enter the BMC's base URL, e.g. https://10.0.0.5 or http://127.0.0.1:8443" };
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return { ok: false, message: "The BMC URL must start with https:// or http://" };
    if (u.username || u.password) return { ok: false, message: "Put credentials in the username and password fields, not in the URL" };
    const path = u.pathname.replace(/\/+$/, "").replace(/\/redfish\/v1$/, "");
    return { ok: true, value: `${u.protocol}//${u.host}${path}` };
  }
  if (!/^[a-zA-Z0-9.-]+(:\d{1,5})?$/.test(a) && !/^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(a))
    return { ok: false, message: "Enter the BMC's host or host:port, e.g. 10.0.0.5 or 10.0.0.5:623" };
  const port = a.match(/:(\d+)$/)?.[1];
  if (port && (Number(port) < 1 || Number(port) > 65535)) return { ok: false, message: "The port must be 1–65535" };
  return { ok: true, value: a.toLowerCase() };
}

const secret = z.string().min(1, "Required").max(256, "At most 256 characters");

export const enrollSchema = z
  .object({
    name: nodeNameRule,
    poolId: z.uuid().nullable().default(null),
    driver: z.enum(["redfish", "ipmi"]),
    address: z.string().trim().min(1, "Required").max(300),
    username: z.string().trim().min(1, "Required").max(128),
    password: secret,
    verifyTls: z.boolean().default(true),
    dedicatedPower: z.boolean().default(false),
    /** The host's traits from the start (the enroll CSV's `traits` column); normalized like the node page's. */
    traits: traitsRule.default([]),
    dpu: z
      .object({
        // A DPU's BMC speaks Redfish or IPMI, whatever its host's speaks.
        driver: z.enum(["redfish", "ipmi"]).default("redfish"),
        address: z.string().trim().max(300).default(""),
        username: z.string().trim().max(128).default(""),
        password: z.string().max(256).default(""),
        agentUrl: z.string().trim().max(300).default(""),
        agentToken: z.string().max(512).default(""),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const a = normaliseBmcAddress(v.driver, v.address);
    if (!a.ok) ctx.addIssue({ code: "custom", path: ["address"], message: a.message });
    if (v.dpu?.address) {
      const d = normaliseBmcAddress(v.dpu.driver, v.dpu.address);
      if (!d.ok) ctx.addIssue({ code: "custom", path: ["dpu", "address"], message: d.message });
    } else if (v.dpu?.driver === "ipmi" && (v.dpu.username || v.dpu.password))
      // Only a Redfish host BMC names its DPU's BMC; an IPMI one has to be given.
      ctx.addIssue({ code: "custom", path: ["dpu", "address"], message: "Enter the IPMI DPU BMC's host or host:port, e.g. 10.0.1.5:623" });
    if (v.dpu?.agentUrl) {
      try {
        const u = new URL(v.dpu.agentUrl);
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
      } catch {
        ctx.addIssue({ code: "custom", path: ["dpu", "agentUrl"], message: "Enter the agent's URL, e.g. https://10.0.1.5:8443" });
      }
    }
  });
export type EnrollInput = z.input<typeof enrollSchema>;

export const nodeSortKeys = ["name", "provisionState", "powerState", "health", "createdAt"] as const;
export const healthValues = ["ok", "warning", "critical", "unknown"] as const;
export const powerValues = ["on", "off", "powering_on", "powering_off", "unknown"] as const;

export const nodeFilterSchema = z.object({
  q: z.string().trim().max(100).optional(),
  poolId: z.uuid().optional(),
  state: z.enum(PROVISION_STATES).optional(),
  power: z.enum(powerValues).optional(),
  health: z.enum(healthValues).optional(),
  maintenance: z.boolean().optional(),
  fault: z.boolean().optional(),
  hasDpu: z.boolean().optional(),
  includeChildren: z.boolean().default(false),
});

export const powerActionSchema = z.enum(["on", "off", "soft_off", "reboot", "soft_reboot", "power_cycle", "nmi"]);
export const bootDeviceSchema = z.enum(["disk", "pxe", "cdrom", "bios", "uefi_http"]);
/** The ISO a host boots once from (nodes.virtualMediaBoot): the BMC downloads it, so http(s) only. */
export const isoUrlSchema = z
  .url("Enter the ISO's URL (http, https)")
  .max(2000)
  .refine((u) => /^https?:\/\//i.test(u), "The BMC mounts images from http:// or https:// URLs.")
  // The URL is kept with the operation, the audit and the workflow engine's records: no password may ride in it.
  .refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), "Put no user name or password in the URL.");
/** The steps nodes.runStep runs on a host and/or its DPU children (the "Run steps" dialog builds a list of them). */
export const runStepKinds = ["power_on", "power_off", "set_boot_device", "firmware_update", "passthrough"] as const;
const hexByte = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^(0x)?[0-9a-f]{1,2}$/i, `${what}: one hex byte, e.g. 0x06`);
/** Data bytes as hex, separated by spaces ("0x01 0x02" or "01 02"); empty for none. */
const hexBytes = z
  .string()
  .trim()
  .max(400)
  .regex(/^((0x)?[0-9a-f]{1,2}(\s+(0x)?[0-9a-f]{1,2})*)?$/i, "Data: hex bytes separated by spaces, e.g. 0x01 0x02");
/** Where the step's OEM action is: a path under /redfish/v1 ending in Actions/Oem/<Action> (never a URL or another resource). */
export const oemActionPathSchema = z
  .string()
  .trim()
  .max(500)
  .refine(isOemActionPath, "A vendor action's path: /redfish/v1/…/Actions/Oem/<Action> on this node's BMC (no host, no other resource).");
/** The vendor-passthrough step: a raw IPMI request (ipmitool raw) or a Redfish OEM action with its JSON body. */
export const passthroughSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ipmi_raw"), netfn: hexByte("Network function"), cmd: hexByte("Command"), data: hexBytes.default("") }).strict(),
  z
    .object({
      kind: z.literal("redfish_oem"),
      path: oemActionPathSchema,
      body: z.record(z.string().max(200), z.json()).refine((b) => JSON.stringify(b).length <= 8000, "The body is at most 8000 characters of JSON."),
    })
    .strict(),
]);
export type PassthroughInput = z.infer<typeof passthroughSchema>;
/** A hex byte ("0x06", "6") as a number. */
export const hexByteValue = (b: string) => Number.parseInt(b.replace(/^0x/i, ""), 16);
/** One step's arguments: a boot device for set_boot_device, an image URL (and optional update targets) for
 *  firmware_update, the request for passthrough. */
export const runStepArgsSchema = z.object({
  device: bootDeviceSchema.optional(),
  imageUri: z.url("Enter the image's URL (http, https)").max(2000).optional(),
  targets: z.array(z.string().max(200)).max(10).optional(),
  passthrough: passthroughSchema.optional(),
});
/** nodes.runStep: Ironic's execute_on_child_nodes / limit_child_node_execution decide whether the host or its DPUs run it. */
export const runStepSchema = z
  .object({
    id: z.uuid(),
    step: z.enum(runStepKinds),
    args: runStepArgsSchema.default({}),
    executeOnChildNodes: z.boolean().default(false),
    limitChildNodeExecution: z.array(z.uuid()).max(16).optional(),
  })
  .strict();
export const idsSchema = z.array(z.uuid()).min(1, "Select at least one node").max(1000, "At most 1000 nodes at a time");

/** A DPU BMC's own credentials (the "Set DPU BMC credentials" dialog): probed before they are stored. */
export const dpuBmcCredentialsSchema = z
  .object({
    id: z.uuid(),
    username: z.string().trim().min(1, "Required").max(128),
    password: secret,
  })
  .strict();
export type DpuBmcCredentialsInput = z.infer<typeof dpuBmcCredentialsSchema>;
