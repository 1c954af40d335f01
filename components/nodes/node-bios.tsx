"use client";
// A host's BIOS settings on its node page: every attribute the BMC's registry declares with its value in effect and,
// where one waits, the pending value that applies at the next reboot; an operator admin edits them in a dialog
// whose fields and limits come from the same registry the server checks (domain/bios.ts), so a bad value is a
// field error before anything is sent.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { type Resolver, useForm } from "react-hook-form";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Options } from "@/components/ui/form";
import { FormDialog, SelectField, TextField } from "@/components/ui/form-dialog";
import { TableHead } from "@/components/ui/table-head";
import { useDone } from "@/components/ui/use-done";
import { type BiosAttributeDef, type BiosValue, checkBiosAttributes } from "@/domain/bios";
import { LIVE_MS } from "./node-status";

type BiosForm = { attributes: Record<string, string> };

const show = (v: BiosValue | undefined) => (v === undefined ? "—" : v === "" ? "(empty)" : String(v));

/** A form value (always text) as the registry's type; undefined when it is not one (the check then names it). */
function parse(def: BiosAttributeDef, raw: string): BiosValue {
  if (def.type === "Boolean") return raw === "true";
  if (def.type === "Integer") return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  return raw;
}

export function NodeBiosSection({ nodeId, nodeName, changeReason }: { nodeId: string; nodeName: string; changeReason: string | null }) {
  const trpc = useTRPC();
  // Each read asks the BMC: poll only while a change waits for a reboot, to show it applied.
  const q = useQuery({
    ...trpc.nodeBios.get.queryOptions({ id: nodeId }),
    retry: false,
    refetchInterval: (query) => (Object.keys(query.state.data?.pending ?? {}).length ? LIVE_MS : false),
  });
  const [editing, setEditing] = useState(false);
  const s = q.data;
  const defs = s?.registry ?? Object.keys(s?.current ?? {}).map((name) => ({ name, displayName: name, type: "String" as const, readOnly: true }));
  const pendingCount = Object.keys(s?.pending ?? {}).length;
  return (
    <section aria-label="BIOS" className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 className="text-sm font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400">BIOS</h2>
        <Button
          size="sm"
          disabledReason={changeReason ?? (s ? (s.registry ? null : "The BMC serves no attribute registry to edit against.") : "Loading…")}
          onClick={() => setEditing(true)}
        >
          Edit BIOS settings
        </Button>
      </div>
      {q.error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {errorInfo(q.error).message}
        </p>
      ) : !s ? (
        <p className="text-sm text-zinc-500">Reading the BIOS settings from the BMC…</p>
      ) : (
        <>
          {pendingCount ? (
            <p className="mb-2 text-sm text-amber-700 dark:text-amber-400">
              {pendingCount === 1 ? "1 change is" : `${pendingCount} changes are`} pending: they apply at the next reboot or power-on.
            </p>
          ) : null}
          <div className="overflow-x-auto">
            <table aria-label={`BIOS settings of ${nodeName}`} className="w-full text-left text-sm">
              <TableHead columns={["Attribute", "Current", "Pending"]} tone="plain" cell="py-1.5 pr-4" last="py-1.5" />
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {defs.map((d) => (
                  <tr key={d.name}>
                    <td className="py-1.5 pr-4">
                      {d.displayName} <code className="text-xs text-zinc-500">{d.name}</code>
                    </td>
                    <td className="py-1.5 pr-4 font-mono text-xs">{show(s.current[d.name])}</td>
                    <td className="py-1.5">{d.name in s.pending ? <Badge tone="amber">{show(s.pending[d.name])} at next reboot</Badge> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {editing && s?.registry ? (
        <BiosEditDialog nodeId={nodeId} nodeName={nodeName} registry={s.registry} values={{ ...s.current, ...s.pending }} onClose={() => setEditing(false)} />
      ) : null}
    </section>
  );
}

function BiosEditDialog({
  nodeId,
  nodeName,
  registry,
  values,
  onClose,
}: {
  nodeId: string;
  nodeName: string;
  registry: BiosAttributeDef[];
  values: Record<string, BiosValue>;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const writable = registry.filter((d) => !d.readOnly);
  const initial = Object.fromEntries(writable.map((d) => [d.name, values[d.name] === undefined ? "" : String(values[d.name])]));
  /** Only what the operator changed is sent (and checked): untouched attributes stay as the BMC has them. */
  const changes = (form: BiosForm) =>
    Object.fromEntries(writable.filter((d) => form.attributes[d.name] !== initial[d.name]).map((d) => [d.name, parse(d, form.attributes[d.name] ?? "")]));
  const resolver: Resolver<BiosForm> = async (form) => {
    const problems = checkBiosAttributes(registry, changes(form));
    if (!problems.length) return { values: form, errors: {} };
    const attributes = Object.fromEntries(problems.filter((p) => p.name).map((p) => [p.name, { type: "registry", message: p.message }]));
    const general = problems.find((p) => !p.name);
    return {
      values: {},
      errors: { ...(Object.keys(attributes).length ? { attributes } : {}), ...(general ? { root: { type: "registry", message: general.message } } : {}) },
    };
  };
  const form = useForm<BiosForm>({ resolver, defaultValues: { attributes: initial } });
  const m = useMutation(trpc.nodeBios.set.mutationOptions({ onSuccess: (r) => done(r.message, trpc.nodeBios.pathFilter(), onClose) }));
  return (
    <FormDialog
      title={`BIOS settings of ${nodeName}`}
      form={form}
      fields={writable.map((d) => `attributes.${d.name}`)}
      mutation={m}
      submitLabel="Save (applies at next reboot)"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => m.mutate({ id: nodeId, attributes: changes(v) }))}
      wide
      columns
    >
      <p className="text-sm text-zinc-600 sm:col-span-2 dark:text-zinc-400">
        The BMC keeps these as pending settings; the host's firmware applies them at its next reboot or power-on.
        {form.formState.errors.root ? <span className="block text-red-700 dark:text-red-400">{form.formState.errors.root.message}</span> : null}
      </p>
      {writable.map((d) =>
        d.type === "Enumeration" || d.type === "Boolean" ? (
          <SelectField key={d.name} name={`attributes.${d.name}`} label={d.displayName} hint={d.name}>
            <Options of={d.type === "Boolean" ? ["true", "false"] : (d.values ?? [])} value={(v) => v} label={(v) => v} />
          </SelectField>
        ) : (
          <TextField
            key={d.name}
            name={`attributes.${d.name}`}
            label={d.displayName}
            hint={
              d.type === "Integer"
                ? `${d.name}: ${d.lowerBound ?? "…"} to ${d.upperBound ?? "…"}`
                : `${d.name}${d.maxLength !== undefined ? `: at most ${d.maxLength} characters` : ""}`
            }
            inputMode={d.type === "Integer" ? "numeric" : undefined}
          />
        ),
      )}
    </FormDialog>
  );
}
