"use client";
// Create/edit pool form: the same zod schema as the router's input; server field errors (e.g. duplicate
// name) land on the field; closing with unsaved changes asks first.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { useToast } from "@/components/ui/toast";
import { type PoolCreate, poolCreateSchema } from "@/db/validation/pools";

export interface PoolRow {
  id: string;
  name: string;
  description: string;
  resourceClass: string;
  maxSystemVolumeGiB: number;
  nodeCount: number;
  createdAt: Date;
}

export function PoolFormDialog({ pool, onClose }: { pool: PoolRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<PoolCreate>({
    resolver: zodResolver(poolCreateSchema),
    defaultValues: { name: pool?.name ?? "", resourceClass: pool?.resourceClass ?? "bm.standard", description: pool?.description ?? "", maxSystemVolumeGiB: pool?.maxSystemVolumeGiB ?? 2048 },
  });
  const onError = (e: unknown) => {
    const info = errorInfo(e);
    let placed = false;
    for (const [field, msgs] of Object.entries(info.fieldErrors)) {
      if (field === "name" || field === "resourceClass" || field === "description" || field === "maxSystemVolumeGiB") {
        form.setError(field, { message: msgs[0] });
        placed = true;
      }
    }
    if (!placed) setSubmitError(info.message);
  };
  const done = async (name: string) => {
    toast("success", pool ? `Pool ${name} saved.` : `Pool ${name} created.`);
    await qc.invalidateQueries(trpc.pools.pathFilter());
    onClose();
  };
  const create = useMutation(trpc.pools.create.mutationOptions({ onSuccess: (r) => done(r.name), onError }));
  const update = useMutation(trpc.pools.update.mutationOptions({ onSuccess: (r) => done(r.name), onError }));
  const busy = create.isPending || update.isPending;

  const close = () => {
    if (form.formState.isDirty && !busy && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  const submit = form.handleSubmit((values) => {
    setSubmitError(null);
    if (pool) update.mutate({ id: pool.id, ...values });
    else create.mutate(values);
  });

  return (
    <Dialog open onClose={close} title={pool ? `Edit pool ${pool.name}` : "Create pool"}>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <FormError message={submitError} />
        <Field label="Name" hint="Lowercase letters, digits and dashes." error={form.formState.errors.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field label="Resource class" hint="The hardware class of every host in the pool, e.g. bm.standard." error={form.formState.errors.resourceClass}>
          {(p) => <input {...p} {...form.register("resourceClass")} />}
        </Field>
        <Field label="Largest system volume (GiB)" hint="The flavour's limit: instances (and image minimums) above it do not fit this pool." error={form.formState.errors.maxSystemVolumeGiB}>
          {(p) => <input {...p} type="number" min={1} max={65536} {...form.register("maxSystemVolumeGiB", { valueAsNumber: true })} />}
        </Field>
        <Field label="Description" error={form.formState.errors.description}>
          {(p) => <textarea {...p} rows={3} {...form.register("description")} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {pool ? "Save" : "Create pool"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
