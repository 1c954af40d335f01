"use client";
// Create/edit pool form: the same zod schema as the router's input; server field errors (e.g. duplicate
// name) land on the field; closing with unsaved changes asks first (the FormDialog shell).
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextAreaField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { type PoolCreate, poolCreateSchema } from "@/db/validation/pools";

export interface PoolRow {
  id: string;
  name: string;
  description: string;
  resourceClass: string;
  maxSystemVolumeGiB: number;
  requiredTraits: string[];
  nodeCount: number;
  createdAt: Date;
}

export function PoolEditDialog({ pool, onClose }: { pool: PoolRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<PoolCreate>({
    resolver: zodResolver(poolCreateSchema),
    defaultValues: {
      name: pool?.name ?? "",
      resourceClass: pool?.resourceClass ?? "bm.standard",
      description: pool?.description ?? "",
      maxSystemVolumeGiB: pool?.maxSystemVolumeGiB ?? 2048,
    },
  });
  const onSuccess = (r: { name: string }) => done(pool ? `Pool ${r.name} saved.` : `Pool ${r.name} created.`, trpc.pools.pathFilter(), onClose);
  const create = useMutation(trpc.pools.create.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.pools.update.mutationOptions({ onSuccess }));
  const mutation = pool ? update : create;
  return (
    <FormDialog
      title={pool ? `Edit pool ${pool.name}` : "Create pool"}
      form={form}
      loading={create.isPending || update.isPending}
      submitError={mutation.error}
      submitLabel={pool ? "Save" : "Create pool"}
      onClose={onClose}
      onSubmit={form.handleSubmit((values) => (pool ? update.mutate({ id: pool.id, ...values }) : create.mutate(values)))}
    >
      <TextField name="name" label="Name" hint="Lowercase letters, digits and dashes." autoFocus />
      <TextField name="resourceClass" label="Resource class" hint="The hardware class of every host in the pool, e.g. bm.standard." />
      <TextField
        name="maxSystemVolumeGiB"
        label="Largest system volume (GiB)"
        hint="The flavour's limit: instances (and image minimums) above it do not fit this pool."
        type="number"
        min={1}
        max={65536}
        rules={{ valueAsNumber: true }}
      />
      <TextAreaField name="description" label="Description" rows={3} />
    </FormDialog>
  );
}
