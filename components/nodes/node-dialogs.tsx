"use client";
// Dialogs for node actions: per-node results of a bulk action, maintenance reason, move to pool, boot device,
// and the DPU firmware/OS update. Each one is a small form; errors land on its field or in the dialog.
import { TableHead } from "@/components/ui/table-head";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Options } from "@/components/ui/form";
import { CheckboxField, FormDialog, SelectField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { bootDeviceSchema } from "@/db/validation/nodes";
import type { NodeChild } from "./node-status";

export interface ActionResult {
  id: string;
  name: string;
  ok: boolean;
  message: string;
  operationId?: string;
}

/** The outcome of a bulk action, node by node: a person sees which ones did not happen and why. */
export function BulkResultsDialog({ title, results, onClose }: { title: string; results: ActionResult[]; onClose: () => void }) {
  const failed = results.filter((r) => !r.ok).length;
  return (
    <Dialog open onClose={onClose} title={title} wide>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {results.length - failed} of {results.length} succeeded{failed ? `, ${failed} refused or failed` : ""}.
      </p>
      <div className="max-h-96 overflow-y-auto rounded-md border border-zinc-200 dark:border-zinc-800">
        <table aria-label="Per-node results" className="w-full text-left text-sm">
          <TableHead columns={["Node", "Result", "Message"]} tone="boxed" cell="px-3 py-1.5" />
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {results.map((r) => (
              <tr key={r.id}>
                <td className="px-3 py-1.5 font-medium whitespace-nowrap">{r.name}</td>
                <td className="px-3 py-1.5">{r.ok ? <Badge tone="green">ok</Badge> : <Badge tone="red">failed</Badge>}</td>
                <td className="px-3 py-1.5 text-zinc-700 dark:text-zinc-300">{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="flex justify-end">
        <Button variant="primary" onClick={onClose}>
          Close
        </Button>
      </div>
    </Dialog>
  );
}

/** A dialog that asks one thing before the caller acts on `count` nodes: the answer goes to onSubmit (a reason,
 *  a pool id); `busy` while the caller acts. */
type AskProps = { count: number; busy: boolean; onSubmit: (answer: string) => void; onClose: () => void };

const reasonSchema = z.object({ reason: z.string().trim().min(1, "Say why the node goes into maintenance").max(500, "At most 500 characters") });

/** Asks why before putting nodes into maintenance (the reason shows on the node and in its events). The caller acts
 *  and reports (bulk results or a toast), so the dialog has no error of its own. */
export function MaintenanceDialog({ count, busy, onSubmit, onClose }: AskProps) {
  const form = useForm<{ reason: string }>({ resolver: zodResolver(reasonSchema), defaultValues: { reason: "" } });
  return (
    <FormDialog
      title={count === 1 ? "Put the node into maintenance" : `Put ${count} nodes into maintenance`}
      form={form}
      dirty={false}
      loading={busy}
      submitError={null}
      submitLabel="Start maintenance"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => onSubmit(v.reason))}
    >
      <TextField name="reason" label="Reason" hint="Shown on the node and recorded in its events." autoFocus />
    </FormDialog>
  );
}

/** Picks the pool to move nodes (and their DPUs) to; the caller acts and reports. */
export function MoveToPoolDialog({ count, busy, onSubmit, onClose }: AskProps) {
  const trpc = useTRPC();
  const pools = useQuery(trpc.pools.list.queryOptions({ limit: 200 }));
  const [poolId, setPoolId] = useState("");
  const [err, setErr] = useState<string | null>(null);
  return (
    <FormDialog
      title={count === 1 ? "Move the node to a pool" : `Move ${count} nodes to a pool`}
      loading={busy}
      submitError={pools.error}
      submitLabel="Move"
      onClose={onClose}
      onSubmit={() => {
        if (!poolId) return setErr("Choose a pool");
        onSubmit(poolId);
      }}
    >
      <Field label="Pool" error={err ?? undefined}>
        {(p) => (
          <select
            {...p}
            value={poolId}
            onChange={(e) => {
              setPoolId(e.target.value);
              setErr(null);
            }}
          >
            <option value="">{pools.isLoading ? "Loading pools…" : "Choose a pool"}</option>
            <Options of={pools.data?.items} value={(x) => x.id} label={(x) => x.name} />
          </select>
        )}
      </Field>
    </FormDialog>
  );
}

const bootForm = z.object({ device: bootDeviceSchema, persistent: z.boolean(), uefi: z.boolean() });
type BootForm = z.infer<typeof bootForm>;

/** Sets the next (or persistent) boot device through the BMC. */
export function BootDeviceDialog({ nodeId, nodeName, onClose }: { nodeId: string; nodeName: string; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<BootForm>({ resolver: zodResolver(bootForm), defaultValues: { device: "pxe", persistent: false, uefi: true } });
  // The toast says what the BMC applied, which may differ from what was asked (a BMC that keeps every override).
  const m = useMutation(trpc.nodes.setBootDevice.mutationOptions({ onSuccess: (r) => done(`${nodeName}: ${r.message}`, trpc.nodes.pathFilter(), onClose) }));
  return (
    <FormDialog
      title={`Set boot device of ${nodeName}`}
      form={form}
      fields={[]}
      dirty={false}
      mutation={m}
      submitLabel="Set boot device"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => m.mutate({ id: nodeId, ...v }))}
    >
      <SelectField name="device" label="Boot device">
        <Options of={bootDeviceSchema.options} value={(d) => d} label={(d) => d} />
      </SelectField>
      <CheckboxField name="persistent">Persistent (otherwise next boot only)</CheckboxField>
      <CheckboxField name="uefi">UEFI boot mode</CheckboxField>
    </FormDialog>
  );
}

/** Firmware components a DPU reported at inspection (Redfish FirmwareInventory), e.g. BMC_Firmware, DPU_OS. */
export function firmwareOf(inventory: unknown): { id: string; name: string; version: string }[] {
  const f = (inventory as { firmware?: unknown } | null | undefined)?.firmware;
  if (!Array.isArray(f)) return [];
  return f.filter((x): x is { id: string; name: string; version: string } => !!x && typeof x === "object" && typeof (x as { id?: unknown }).id === "string");
}

const fwForm = z.object({ imageUri: z.url("Enter the image's URL (http, https)").max(2000), targets: z.array(z.string()) });
type FwForm = z.infer<typeof fwForm>;

/** Starts a DPU firmware/OS update (or, with `host`, a host's BMC/BIOS/NIC firmware update) from an image URL; the
 *  targets come from the node's own firmware inventory. */
export function FirmwareUpdateDialog({
  dpu,
  host = false,
  inventory,
  onStarted,
  onClose,
}: {
  dpu: Pick<NodeChild, "id" | "name">;
  host?: boolean;
  inventory: unknown;
  onStarted: (operationId: string) => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const comps = firmwareOf(inventory);
  const form = useForm<FwForm>({ resolver: zodResolver(fwForm), defaultValues: { imageUri: "", targets: [] } });
  const m = useMutation(
    trpc.nodes.firmwareUpdate.mutationOptions({
      onSuccess: (r) =>
        done(`Update of ${dpu.name} started.`, trpc.nodes.pathFilter(), () => {
          onStarted(r.operationId);
          onClose();
        }),
    }),
  );
  return (
    <FormDialog
      title={`Update ${host ? "firmware" : "firmware/OS"} of ${dpu.name}`}
      form={form}
      fields={["imageUri"]}
      dirty={false}
      mutation={m}
      submitLabel="Start update"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => m.mutate({ id: dpu.id, ...v }))}
    >
      <TextField
        name="imageUri"
        label="Image URL"
        hint={`The ${host ? "host" : "DPU"}'s BMC downloads the image from here.`}
        placeholder={host ? "http://images.example/bios-2.20.0.bin" : "http://images.example/bf-bundle.bfb"}
        autoFocus
      />
      <fieldset className="flex flex-col gap-1">
        <legend className="text-sm font-medium">Components</legend>
        {comps.length ? (
          comps.map((c) => (
            <label key={c.id} className="flex items-center gap-2 text-sm">
              <input type="checkbox" value={c.id} {...form.register("targets")} />
              <code className="text-xs">{c.id}</code> <span className="text-zinc-500">{c.version}</span>
            </label>
          ))
        ) : (
          <p className="text-xs text-zinc-500">The node reported no firmware inventory; the BMC chooses what to update.</p>
        )}
        <p className="text-xs text-zinc-500">None ticked: the BMC decides which components the image updates.</p>
      </fieldset>
    </FormDialog>
  );
}
