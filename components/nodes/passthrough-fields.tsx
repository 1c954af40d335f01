"use client";
// The vendor-passthrough step's fields in the "Run steps" dialog (issue #17 point 5): a raw IPMI command (network
// function, command, data bytes as hex) or a Redfish OEM action (a path under the BMC's /redfish/v1 ending in
// Actions/Oem/<Action>, and its JSON body). Form values are strings shaped for typing; toPassthrough turns them into
// nodes.runStep's args.passthrough (db/validation/nodes.ts passthroughSchema), whose rules the form checks too.
import { useFormContext } from "react-hook-form";
import { z } from "zod";
import { Options } from "@/components/ui/form";
import { SelectField, TextAreaField, TextField } from "@/components/ui/form-dialog";
import { type PassthroughInput, passthroughSchema } from "@/db/validation/nodes";

const KINDS = ["redfish_oem", "ipmi_raw"] as const;
const KIND_LABELS: Record<(typeof KINDS)[number], string> = { redfish_oem: "Redfish OEM action", ipmi_raw: "Raw IPMI command" };

/** The passthrough as the form holds it (every field a string; the body as JSON text). */
export const passthroughFormSchema = z.object({
  kind: z.enum(KINDS),
  netfn: z.string(),
  cmd: z.string(),
  data: z.string(),
  path: z.string(),
  body: z.string(),
});
export type PassthroughForm = z.infer<typeof passthroughFormSchema>;

export const blankPassthrough: PassthroughForm = { kind: "redfish_oem", netfn: "0x06", cmd: "0x01", data: "", path: "", body: "{}" };

/** The request the form describes, or the first problem with it (field name within the passthrough, message). */
export function toPassthrough(v: PassthroughForm): { ok: true; value: PassthroughInput } | { ok: false; field: string; message: string } {
  let body: unknown = {};
  if (v.kind === "redfish_oem") {
    try {
      body = JSON.parse(v.body || "{}");
    } catch {
      return { ok: false, field: "body", message: "The body is not JSON." };
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, field: "body", message: "The body is a JSON object, {…}." };
  }
  const r = passthroughSchema.safeParse(
    v.kind === "ipmi_raw" ? { kind: v.kind, netfn: v.netfn, cmd: v.cmd, data: v.data } : { kind: v.kind, path: v.path, body },
  );
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  return { ok: false, field: String(issue.path[0] ?? "kind"), message: issue.message };
}

/** The fields of step `i`'s passthrough (named steps.<i>.pt.*). */
export function PassthroughFields({ i }: { i: number }) {
  const kind = useFormContext().watch(`steps.${i}.pt.kind`) as PassthroughForm["kind"];
  const name = (f: keyof PassthroughForm) => `steps.${i}.pt.${f}`;
  return (
    <>
      <SelectField name={name("kind")} label={`Step ${i + 1} vendor request`} hint="Sent as is; the BMC's refusal stops the list.">
        <Options of={KINDS} value={(k) => k} label={(k) => KIND_LABELS[k]} />
      </SelectField>
      {kind === "ipmi_raw" ? (
        <>
          <TextField name={name("netfn")} label={`Step ${i + 1} network function`} placeholder="0x06" />
          <TextField name={name("cmd")} label={`Step ${i + 1} command`} placeholder="0x01" />
          <TextField name={name("data")} label={`Step ${i + 1} data bytes`} hint="Hex, separated by spaces; empty for none." placeholder="0x01 0x02" />
        </>
      ) : (
        <>
          <TextField
            name={name("path")}
            label={`Step ${i + 1} action path`}
            hint="Under the BMC's /redfish/v1, ending in Actions/Oem/<Action>."
            placeholder="/redfish/v1/Managers/BMC/Actions/Oem/AnvilManager.HostBmcAccess"
          />
          <TextAreaField name={name("body")} label={`Step ${i + 1} JSON body`} rows={3} placeholder='{"Enabled": true}' />
        </>
      )}
    </>
  );
}
