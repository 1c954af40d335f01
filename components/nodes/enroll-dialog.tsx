"use client";
// "Enroll node": the same zod schema as `nodes.enroll`; "Test connection" asks `nodes.probe` (nothing stored);
// server field errors ("address", "dpu.address", "name"…) land on their fields. The optional DPU section
// enrolls the host's DPU through its own BMC.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { type FieldPath, useForm } from "react-hook-form";
import type { z } from "zod";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { useToast } from "@/components/ui/toast";
import { enrollSchema } from "@/db/validation/nodes";

type In = z.input<typeof enrollSchema>;
type Out = z.output<typeof enrollSchema>;

const emptyDpu = { address: "", username: "", password: "", agentUrl: "", agentToken: "" };
const KNOWN: ReadonlySet<string> = new Set([
  "name",
  "poolId",
  "driver",
  "address",
  "username",
  "password",
  "verifyTls",
  "dedicatedPower",
  "dpu.address",
  "dpu.username",
  "dpu.password",
  "dpu.agentUrl",
  "dpu.agentToken",
]);

export function EnrollDialog({ onClose, onEnrolled }: { onClose: () => void; onEnrolled?: (nodeId: string) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const pools = useQuery(trpc.pools.list.queryOptions({ limit: 200 }));
  const [hasDpu, setHasDpu] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [probeResult, setProbeResult] = useState<{ ok: boolean; text: string } | null>(null);
  const form = useForm<In, unknown, Out>({
    resolver: zodResolver(enrollSchema),
    defaultValues: { name: "", poolId: null, driver: "redfish", address: "", username: "", password: "", verifyTls: true, dedicatedPower: false, dpu: emptyDpu },
  });
  const errors = form.formState.errors;

  const onError = (e: unknown) => {
    const info = errorInfo(e);
    let placed = false;
    for (const [field, msgs] of Object.entries(info.fieldErrors)) {
      if (KNOWN.has(field)) {
        form.setError(field as FieldPath<In>, { message: msgs[0] });
        if (field.startsWith("dpu.")) setHasDpu(true);
        placed = true;
      }
    }
    if (!placed) setSubmitError(info.message);
  };
  const enroll = useMutation(
    trpc.nodes.enroll.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Node ${form.getValues("name")} enrolled${"dpuId" in r && r.dpuId ? " with its DPU" : ""}.`);
        await qc.invalidateQueries(trpc.nodes.pathFilter());
        if ("nodeId" in r && r.nodeId) onEnrolled?.(r.nodeId);
        onClose();
      },
      onError,
    }),
  );
  const probe = useMutation(
    trpc.nodes.probe.mutationOptions({
      onSuccess: (r) =>
        setProbeResult(
          r.ok
            ? { ok: true, text: `Connected: ${[r.manufacturer, r.model].filter(Boolean).join(" ") || "BMC"} (${r.systemType}), power ${r.power}.` }
            : { ok: false, text: r.message },
        ),
      onError: (e) => {
        const info = errorInfo(e);
        if (info.fieldErrors.address) form.setError("address", { message: info.fieldErrors.address[0] });
        setProbeResult({ ok: false, text: info.message });
      },
    }),
  );

  const testConnection = async () => {
    setProbeResult(null);
    const ok = await form.trigger(["driver", "address", "username", "password"]);
    if (!ok) return;
    const v = form.getValues();
    probe.mutate({ driver: v.driver, address: v.address, username: v.username, password: v.password, verifyTls: v.verifyTls ?? true });
  };

  const close = () => {
    if (form.formState.isDirty && !enroll.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  const submit = form.handleSubmit((values) => {
    setSubmitError(null);
    const { dpu, ...rest } = values;
    enroll.mutate(hasDpu && dpu ? { ...rest, dpu } : rest);
  });
  const driver = form.watch("driver");

  return (
    <Dialog open onClose={close} title="Enroll node" wide>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <FormError message={submitError} />
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <Field label="Name" hint="Letters, digits, dots, dashes, underscores." error={errors.name}>
            {(p) => <input {...p} autoFocus {...form.register("name")} />}
          </Field>
          <Field label="Pool" error={errors.poolId}>
            {(p) => (
              <select {...p} {...form.register("poolId", { setValueAs: (v) => v || null })}>
                <option value="">No pool</option>
                {pools.data?.items.map((x) => (
                  <option key={x.id} value={x.id}>
                    {x.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="BMC driver" error={errors.driver}>
            {(p) => (
              <select {...p} {...form.register("driver")}>
                <option value="redfish">Redfish</option>
                <option value="ipmi">IPMI</option>
              </select>
            )}
          </Field>
          <Field
            label="BMC address"
            hint={driver === "redfish" ? "Base URL, e.g. https://10.0.0.5" : "Host or host:port, e.g. 10.0.0.5:623"}
            error={errors.address}
          >
            {(p) => <input {...p} {...form.register("address")} />}
          </Field>
          <Field label="BMC username" error={errors.username}>
            {(p) => <input {...p} autoComplete="off" {...form.register("username")} />}
          </Field>
          <Field label="BMC password" error={errors.password}>
            {(p) => <input {...p} type="password" autoComplete="new-password" {...form.register("password")} />}
          </Field>
        </div>
        <div className="flex flex-wrap gap-x-6 gap-y-2 text-sm">
          <label className="flex items-center gap-2">
            <input type="checkbox" {...form.register("verifyTls")} /> Verify TLS certificate
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" {...form.register("dedicatedPower")} /> DPU has dedicated power
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={hasDpu} onChange={(e) => setHasDpu(e.target.checked)} /> Enroll its DPU's BMC too
          </label>
        </div>
        {hasDpu ? (
          <fieldset className="grid grid-cols-1 gap-4 rounded-md border border-zinc-200 p-3 sm:grid-cols-2 dark:border-zinc-800">
            <legend className="px-1 text-sm font-medium">DPU BMC</legend>
            <Field label="DPU BMC address" hint="Redfish base URL of the DPU's BMC." error={errors.dpu?.address}>
              {(p) => <input {...p} {...form.register("dpu.address")} />}
            </Field>
            <Field label="DPU BMC username" hint="Empty: same as the host's." error={errors.dpu?.username}>
              {(p) => <input {...p} autoComplete="off" {...form.register("dpu.username")} />}
            </Field>
            <Field label="DPU BMC password" hint="Empty: same as the host's." error={errors.dpu?.password}>
              {(p) => <input {...p} type="password" autoComplete="new-password" {...form.register("dpu.password")} />}
            </Field>
            <Field label="Agent URL" hint="Where the DPU's Anvil agent listens (optional)." error={errors.dpu?.agentUrl}>
              {(p) => <input {...p} {...form.register("dpu.agentUrl")} />}
            </Field>
            <Field label="Agent token" error={errors.dpu?.agentToken}>
              {(p) => <input {...p} type="password" autoComplete="off" {...form.register("dpu.agentToken")} />}
            </Field>
          </fieldset>
        ) : null}
        {probeResult ? (
          <p role="status" className={`text-sm ${probeResult.ok ? "text-emerald-700 dark:text-emerald-300" : "text-red-700 dark:text-red-300"}`}>
            {probeResult.text}
          </p>
        ) : null}
        <div className="flex justify-between gap-2">
          <Button onClick={testConnection} busy={probe.isPending}>
            Test connection
          </Button>
          <div className="flex gap-2">
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary" busy={enroll.isPending}>
              Enroll
            </Button>
          </div>
        </div>
      </form>
    </Dialog>
  );
}
