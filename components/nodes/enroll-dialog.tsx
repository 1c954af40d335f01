"use client";
// "Enroll node": the same zod schema as `nodes.enroll`; "Test connection" asks `nodes.probe` (nothing stored);
// server field errors ("address", "dpu.address", "name"…) land on their fields. The optional DPU section
// enrolls the host's DPU through its own BMC.
import { zodResolver } from "@hookform/resolvers/zod";
import { Options } from "@/components/ui/form";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { CheckboxField, FormDialog, SelectField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { enrollSchema } from "@/db/validation/nodes";

type In = z.input<typeof enrollSchema>;
type Out = z.output<typeof enrollSchema>;

const emptyDpu = { driver: "redfish" as const, address: "", username: "", password: "", agentUrl: "", agentToken: "" };
const FIELDS = [
  "name",
  "poolId",
  "driver",
  "address",
  "username",
  "password",
  "verifyTls",
  "dedicatedPower",
  "dpu.driver",
  "dpu.address",
  "dpu.username",
  "dpu.password",
  "dpu.agentUrl",
  "dpu.agentToken",
];

export function EnrollDialog({ onClose, onEnrolled }: { onClose: () => void; onEnrolled?: (nodeId: string) => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const pools = useQuery(trpc.pools.list.queryOptions({ limit: 200 }));
  const [hasDpu, setHasDpu] = useState(false);
  const [probeResult, setProbeResult] = useState<{ ok: boolean; text: string } | null>(null);
  const form = useForm<In, unknown, Out>({
    resolver: zodResolver(enrollSchema),
    defaultValues: {
      name: "",
      poolId: null,
      driver: "redfish",
      address: "",
      username: "",
      password: "",
      verifyTls: true,
      dedicatedPower: false,
      dpu: emptyDpu,
    },
  });
  const enroll = useMutation(
    trpc.nodes.enroll.mutationOptions({
      onSuccess: (r) =>
        done(`Node ${form.getValues("name")} enrolled${"dpuId" in r && r.dpuId ? " with its DPU" : ""}.`, trpc.nodes.pathFilter(), () => {
          if ("nodeId" in r && r.nodeId) onEnrolled?.(r.nodeId);
          onClose();
        }),
      // A refusal about the DPU's fields shows them.
      onError: (e) => Object.keys(errorInfo(e).fieldErrors).some((f) => f.startsWith("dpu.")) && setHasDpu(true),
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

  const submit = form.handleSubmit((values) => {
    const { dpu, ...rest } = values;
    enroll.mutate(hasDpu && dpu ? { ...rest, dpu } : rest);
  });
  const driver = form.watch("driver");

  return (
    <FormDialog
      title="Enroll node"
      wide
      form={form}
      fields={FIELDS}
      mutation={enroll}
      submitLabel="Enroll"
      onClose={onClose}
      onSubmit={submit}
      extraActions={
        <Button onClick={testConnection} busy={probe.isPending}>
          Test connection
        </Button>
      }
    >
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <TextField name="name" label="Name" hint="Letters, digits, dots, dashes, underscores." autoFocus />
        <SelectField name="poolId" label="Pool" rules={{ setValueAs: (v) => v || null }}>
          <option value="">No pool</option>
          <Options of={pools.data?.items} value={(x) => x.id} label={(x) => x.name} />
        </SelectField>
        <SelectField name="driver" label="BMC driver">
          <option value="redfish">Redfish</option>
          <option value="ipmi">IPMI</option>
        </SelectField>
        <TextField
          name="address"
          label="BMC address"
          hint={driver === "redfish" ? "Base URL, e.g. https://10.0.0.5" : "Host or host:port, e.g. 10.0.0.5:623"}
        />
        <TextField name="username" label="BMC username" autoComplete="off" />
        <TextField name="password" label="BMC password" type="password" autoComplete="new-password" />
      </div>
      <div className="flex flex-wrap gap-x-6 gap-y-2 text-sm">
        <CheckboxField name="verifyTls">Verify TLS certificate</CheckboxField>
        <CheckboxField name="dedicatedPower">DPU has dedicated power</CheckboxField>
        <label className="flex items-center gap-2">
          <input type="checkbox" checked={hasDpu} onChange={(e) => setHasDpu(e.target.checked)} /> Enroll its DPU's BMC too
        </label>
      </div>
      {hasDpu ? (
        <fieldset className="grid grid-cols-1 gap-4 rounded-md border border-zinc-200 p-3 sm:grid-cols-2 dark:border-zinc-800">
          <legend className="px-1 text-sm font-medium">DPU BMC</legend>
          <SelectField name="dpu.driver" label="DPU BMC driver">
            <option value="redfish">Redfish</option>
            <option value="ipmi">IPMI</option>
          </SelectField>
          <TextField
            name="dpu.address"
            label="DPU BMC address"
            hint="Redfish base URL or IPMI host:port of the DPU's BMC. Redfish, empty: the DPU the host's BMC names (give its credentials)."
          />
          <TextField name="dpu.username" label="DPU BMC username" hint="Empty: same as the host's." autoComplete="off" />
          <TextField name="dpu.password" label="DPU BMC password" hint="Empty: same as the host's." type="password" autoComplete="new-password" />
          <TextField name="dpu.agentUrl" label="Agent URL" hint="Where the DPU's Anvil agent listens (optional)." />
          <TextField name="dpu.agentToken" label="Agent token" type="password" autoComplete="off" />
        </fieldset>
      ) : null}
      {probeResult ? (
        <p role="status" className={`text-sm ${probeResult.ok ? "text-emerald-700 dark:text-emerald-300" : "text-red-700 dark:text-red-300"}`}>
          {probeResult.text}
        </p>
      ) : null}
    </FormDialog>
  );
}
