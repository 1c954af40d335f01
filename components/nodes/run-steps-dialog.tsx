"use client";
// The "Run steps" dialog on a host's page: an ordered list of steps (power on/off, boot device, DPU firmware, a vendor
// passthrough: raw IPMI or a Redfish OEM action, passthrough-fields.tsx), each run
// on the host, its DPUs or both (Ironic's execute_on_child_nodes / limit_child_node_execution, nodes.runStep). Steps run
// one after another: each waits for the operations it started, and the list stops at the first refusal or failure, so
// "power off the DPUs, then power them on" means what it says.
import { zodResolver } from "@hookform/resolvers/zod";
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useFieldArray, useForm } from "react-hook-form";
import { z } from "zod";
import { isFinished, WatchedOperation } from "@/components/operations/operation-progress";
import { errorInfo, useTRPC, useTRPCClient } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Options } from "@/components/ui/form";
import { FormDialog, SelectField, TextField } from "@/components/ui/form-dialog";
import { bootDeviceSchema, runStepArgsSchema, runStepKinds, runStepSchema } from "@/db/validation/nodes";
import { blankPassthrough, PassthroughFields, passthroughFormSchema, toPassthrough } from "./passthrough-fields";

const STEP_LABELS: Record<(typeof runStepKinds)[number], string> = {
  power_on: "Power on",
  power_off: "Power off",
  set_boot_device: "Set boot device",
  firmware_update: "Firmware/OS update (DPUs)",
  passthrough: "Vendor passthrough",
};
const WHERE = ["host", "dpus", "both"] as const;
const WHERE_LABELS: Record<(typeof WHERE)[number], string> = { host: "the host", dpus: "its DPUs", both: "the host and its DPUs" };

const stepRow = z
  .object({ step: runStepSchema.shape.step, on: z.enum(WHERE), args: runStepArgsSchema.pick({ device: true, imageUri: true }), pt: passthroughFormSchema })
  .superRefine((s, ctx) => {
    if (s.step !== "passthrough") return;
    const p = toPassthrough(s.pt);
    if (!p.ok) ctx.addIssue({ code: "custom", path: ["pt", p.field], message: p.message });
  });
const form = z
  .object({ steps: z.array(stepRow).min(1, "Add at least one step.").max(20, "At most 20 steps at a time."), dpuIds: z.array(z.uuid()) })
  .refine((v) => v.steps.every((s) => s.on === "host") || v.dpuIds.length > 0, { path: ["dpuIds"], message: "Choose at least one DPU." });
type Form = z.infer<typeof form>;
type Step = z.infer<typeof stepRow>;

/** What one runStep call answered for each node it ran on. */
type Result = { id: string; name: string; ok: boolean; message: string; operationId?: string };
type Run = { label: string; status: "waiting" | "running" | "done" | "failed" | "not run"; results: Result[]; error?: string };
const runTone: Record<Run["status"], BadgeTone> = { waiting: "zinc", running: "sky", done: "green", failed: "red", "not run": "zinc" };

const blankStep: Step = { step: "power_on", on: "dpus", args: { device: "pxe" }, pt: blankPassthrough };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function RunStepsDialog({ host, onClose }: { host: { id: string; name: string; children: { id: string; name: string }[] }; onClose: () => void }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const qc = useQueryClient();
  const hasDpus = host.children.length > 0;
  const f = useForm<Form>({
    resolver: zodResolver(form),
    defaultValues: { steps: [{ ...blankStep, on: hasDpus ? "dpus" : "host" }], dpuIds: host.children.map((c) => c.id) },
  });
  const steps = useFieldArray({ control: f.control, name: "steps" });
  const watched = f.watch("steps");
  const dpuIds = f.watch("dpuIds");
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [running, setRunning] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  /** The calls one step makes, in the order that keeps DPUs powered by their host: a power-off reaches the DPUs before
   *  the host, everything else reaches the host first. */
  const callsOf = (s: Step) => {
    const pt = s.step === "passthrough" ? toPassthrough(s.pt) : null;
    const args =
      s.step === "set_boot_device"
        ? { device: s.args.device }
        : s.step === "firmware_update"
          ? { imageUri: s.args.imageUri }
          : pt?.ok
            ? { passthrough: pt.value }
            : {};
    const limit = dpuIds.length === host.children.length ? undefined : dpuIds;
    const onHost = { id: host.id, step: s.step, args, executeOnChildNodes: false };
    const onDpus = { id: host.id, step: s.step, args, executeOnChildNodes: true, limitChildNodeExecution: limit };
    if (s.on === "host") return [onHost];
    if (s.on === "dpus") return [onDpus];
    return s.step === "power_off" ? [onDpus, onHost] : [onHost, onDpus];
  };

  /** Waits until every operation the step started has ended; answers the first that did not succeed. */
  const waitFor = async (results: Result[]) => {
    for (const r of results) {
      if (!r.operationId) continue;
      for (;;) {
        const op = await qc.fetchQuery({ ...trpc.operations.get.queryOptions({ id: r.operationId }), staleTime: 0 });
        if (isFinished(op)) {
          if (op.status !== "succeeded") return `${r.name}: ${op.error ?? `the operation ${op.status}.`}`;
          break;
        }
        await sleep(1000);
      }
    }
    return null;
  };

  const submit = async (v: Form) => {
    setMessage(null);
    setRunning(true);
    const plan: Run[] = v.steps.map((s) => ({ label: `${STEP_LABELS[s.step]} on ${WHERE_LABELS[s.on]}`, status: "waiting", results: [] }));
    const show = (i: number, patch: Partial<Run>) => {
      plan[i] = { ...plan[i]!, ...patch };
      setRuns([...plan]);
    };
    setRuns([...plan]);
    try {
      for (const [i, s] of v.steps.entries()) {
        show(i, { status: "running" });
        const results: Result[] = [];
        try {
          for (const call of callsOf(s)) results.push(...(await client.nodes.runStep.mutate(call)));
        } catch (e) {
          const info = errorInfo(e);
          // The server names the field it refuses (args.imageUri, args.device, limitChildNodeExecution): put it on this step's.
          let placed = false;
          for (const [key, msgs] of Object.entries(info.fieldErrors)) {
            const field = key.startsWith("args.passthrough")
              ? `steps.${i}.pt.${key.split(".")[2] ?? "kind"}`
              : key.startsWith("args.")
                ? `steps.${i}.${key}`
                : key === "limitChildNodeExecution"
                  ? "dpuIds"
                  : null;
            if (field && msgs[0]) {
              f.setError(field as never, { message: msgs[0] });
              placed = true;
            }
          }
          show(i, { status: "failed", results, error: info.message });
          if (!placed) setMessage(`Step ${i + 1}: ${info.message}`);
          break;
        }
        show(i, { results });
        const refused = results.find((r) => !r.ok);
        const failed = refused ? `${refused.name}: ${refused.message}` : await waitFor(results);
        show(i, { status: failed ? "failed" : "done", error: failed ?? undefined });
        if (failed) break;
      }
      for (const [i, r] of plan.entries()) if (r.status === "waiting") show(i, { status: "not run" });
    } finally {
      setRunning(false);
      await qc.invalidateQueries(trpc.nodes.pathFilter());
    }
  };

  return (
    <FormDialog
      title={`Run steps on ${host.name}`}
      form={f}
      fields={[]}
      dirty={f.formState.isDirty && !runs}
      loading={running}
      submitError={message}
      submitLabel={runs ? "Run again" : "Run steps"}
      onClose={onClose}
      onSubmit={f.handleSubmit(submit)}
      wide
    >
      <ol aria-label="Steps" className="flex flex-col gap-3">
        {steps.fields.map((row, i) => (
          <li key={row.id} className="flex flex-col gap-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
            <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
              <SelectField name={`steps.${i}.step`} label={`Step ${i + 1}`}>
                <Options of={runStepKinds} value={(k) => k} label={(k) => STEP_LABELS[k]} />
              </SelectField>
              <SelectField name={`steps.${i}.on`} label={`Step ${i + 1} runs on`} disabled={!hasDpus}>
                <Options of={WHERE} value={(w) => w} label={(w) => WHERE_LABELS[w]} />
              </SelectField>
              {watched[i]?.step === "set_boot_device" ? (
                <SelectField name={`steps.${i}.args.device`} label={`Step ${i + 1} boot device`} hint="For the next boot, UEFI mode.">
                  <Options of={bootDeviceSchema.options} value={(d) => d} label={(d) => d} />
                </SelectField>
              ) : null}
              {watched[i]?.step === "firmware_update" ? (
                <TextField
                  name={`steps.${i}.args.imageUri`}
                  label={`Step ${i + 1} image URL`}
                  hint="The DPU's BMC downloads it; it must be on the management network."
                  placeholder="http://images.example/bf-bundle.bfb"
                  rules={{ setValueAs: (u: string) => u || undefined }}
                />
              ) : null}
              {watched[i]?.step === "passthrough" ? <PassthroughFields i={i} /> : null}
            </div>
            <div className="flex gap-2">
              <Button
                size="sm"
                aria-label={`Move step ${i + 1} up`}
                disabledReason={i === 0 ? "It is the first step." : null}
                onClick={() => steps.move(i, i - 1)}
              >
                Up
              </Button>
              <Button
                size="sm"
                aria-label={`Move step ${i + 1} down`}
                disabledReason={i === steps.fields.length - 1 ? "It is the last step." : null}
                onClick={() => steps.move(i, i + 1)}
              >
                Down
              </Button>
              <Button
                size="sm"
                aria-label={`Remove step ${i + 1}`}
                disabledReason={steps.fields.length === 1 ? "A list needs one step." : null}
                onClick={() => steps.remove(i)}
              >
                Remove
              </Button>
            </div>
          </li>
        ))}
      </ol>
      <div>
        <Button
          size="sm"
          disabledReason={steps.fields.length >= 20 ? "At most 20 steps at a time." : null}
          onClick={() => steps.append({ ...blankStep, on: hasDpus ? "dpus" : "host" })}
        >
          Add step
        </Button>
      </div>
      {hasDpus ? (
        <fieldset className="flex flex-col gap-1 text-sm">
          <legend className="mb-1 font-medium">DPUs the steps run on</legend>
          {host.children.map((c) => (
            <label key={c.id} className="flex items-center gap-2">
              <input
                type="checkbox"
                checked={dpuIds.includes(c.id)}
                onChange={(e) =>
                  f.setValue("dpuIds", e.target.checked ? [...dpuIds, c.id] : dpuIds.filter((x) => x !== c.id), { shouldDirty: true, shouldValidate: true })
                }
              />
              {c.name}
            </label>
          ))}
          {f.formState.errors.dpuIds ? <p className="text-sm text-red-700 dark:text-red-300">{f.formState.errors.dpuIds.message}</p> : null}
        </fieldset>
      ) : null}
      {runs ? <RunResults runs={runs} /> : null}
    </FormDialog>
  );
}

/** Each step's outcome: its status, what each node answered, and the operations it started (live, linked to the node's page). */
function RunResults({ runs }: { runs: Run[] }) {
  return (
    <ol aria-label="Step results" className="flex flex-col gap-2 text-sm">
      {runs.map((r, i) => (
        <li key={`${i}-${r.label}`} aria-label={`Result of step ${i + 1}`} className="flex flex-col gap-1">
          <div className="flex items-center gap-2">
            <span className="font-medium">
              {i + 1}. {r.label}
            </span>
            <Badge tone={runTone[r.status]}>{r.status}</Badge>
          </div>
          {r.results.map((x) => (
            <div key={`${x.id}-${x.operationId ?? ""}`} className="pl-4">
              <span className={x.ok ? "" : "text-red-700 dark:text-red-300"}>
                {x.name}: {x.message}
              </span>{" "}
              <Link href={`/ops/nodes/${x.id}`} className="text-sky-700 underline dark:text-sky-400">
                Operations of {x.name}
              </Link>
              {x.operationId ? <WatchedOperation id={x.operationId} compact /> : null}
            </div>
          ))}
          {r.error && r.status === "failed" ? <p className="pl-4 text-red-700 dark:text-red-300">{r.error}</p> : null}
        </li>
      ))}
    </ol>
  );
}
