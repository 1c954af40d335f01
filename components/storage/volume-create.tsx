"use client";
// "Create volume": blank, from an image (a thin clone of its golden snapshot) or from a snapshot. Server refusals
// (quota, pool capacity, image minimum) land on the field or the form's alert.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { CheckboxField, FormDialog, SelectField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { sizeGiBRule, storageNameRule } from "@/db/validation/storage";

const createForm = z.object({
  name: storageNameRule,
  sizeGiB: z.coerce.number().pipe(sizeGiBRule),
  source: z.enum(["blank", "image", "snapshot"]),
  imageId: z.string().optional(),
  snapshotId: z.string().optional(),
  multiAttach: z.boolean(),
});
type CreateForm = z.input<typeof createForm>;

export function VolumeCreateDialog({
  tenant,
  onClose,
  snapshot,
}: {
  tenant: string;
  onClose: () => void;
  snapshot?: { id: string; name: string; sizeGiB: number };
}) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<CreateForm, unknown, z.output<typeof createForm>>({
    resolver: zodResolver(createForm),
    defaultValues: { name: "", sizeGiB: snapshot?.sizeGiB ?? 10, source: snapshot ? "snapshot" : "blank", snapshotId: snapshot?.id, multiAttach: false },
  });
  const source = form.watch("source");
  const images = useQuery({ ...trpc.images.available.queryOptions({ tenant, limit: 200 }), enabled: source === "image" });
  const snaps = useQuery({ ...trpc.snapshots.list.queryOptions({ tenant, limit: 200 }), enabled: source === "snapshot" && !snapshot });
  const create = useMutation(
    trpc.volumes.create.mutationOptions({
      onSuccess: (v) => done(`Volume ${v.name} created.`, [trpc.volumes.pathFilter(), trpc.snapshots.pathFilter()], onClose),
    }),
  );
  const submit = form.handleSubmit((v) => {
    if (v.source === "image" && !v.imageId) return form.setError("imageId", { message: "Pick an image" });
    if (v.source === "snapshot" && !v.snapshotId) return form.setError("snapshotId", { message: "Pick a snapshot" });
    create.mutate({
      tenant,
      name: v.name,
      sizeGiB: v.sizeGiB,
      multiAttach: v.multiAttach,
      imageId: v.source === "image" ? v.imageId : undefined,
      snapshotId: v.source === "snapshot" ? v.snapshotId : undefined,
    });
  });
  const imageHint = (id?: string) => {
    const img = images.data?.items.find((i) => i.id === id);
    return img ? `${img.os} ${img.version}; at least ${img.minSizeGiB} GiB.` : undefined;
  };
  return (
    <FormDialog
      title={snapshot ? `Create volume from snapshot ${snapshot.name}` : "Create volume"}
      form={form}
      fields={["name", "sizeGiB", "imageId", "snapshotId"]}
      mutation={create}
      submitLabel="Create volume"
      onClose={onClose}
      onSubmit={submit}
    >
      <TextField name="name" label="Name" hint="Letters, digits, '.', '_' and '-'." autoFocus />
      {snapshot ? null : (
        <Field label="Source">
          {(p) => (
            <select {...p} {...form.register("source")}>
              <option value="blank">Blank volume</option>
              <option value="image">From an image (system disk)</option>
              <option value="snapshot">From a snapshot</option>
            </select>
          )}
        </Field>
      )}
      {source === "image" ? (
        <SelectField
          name="imageId"
          label="Image"
          hint={imageHint(form.watch("imageId"))}
          rules={{
            onChange: (e) => {
              const img = images.data?.items.find((i) => i.id === e.target.value);
              if (img && Number(form.getValues("sizeGiB")) < img.minSizeGiB) form.setValue("sizeGiB", img.minSizeGiB);
            },
          }}
        >
          <option value="">{images.isLoading ? "Loading…" : "Pick an image"}</option>
          <Options of={images.data?.items} value={(i) => i.id} label={(i) => `${i.name} (${i.os} ${i.version})`} />
        </SelectField>
      ) : null}
      {source === "snapshot" && !snapshot ? (
        <SelectField name="snapshotId" label="Snapshot">
          <option value="">{snaps.isLoading ? "Loading…" : "Pick a snapshot"}</option>
          <Options of={snaps.data?.items} value={(s) => s.id} label={(s) => `${s.name} (of ${s.volumeName}, ${s.sizeGiB} GiB)`} />
        </SelectField>
      ) : null}
      <TextField name="sizeGiB" label="Size (GiB)" type="number" min={1} step={1} />
      <CheckboxField name="multiAttach">Multi-attach (may be attached to several servers at once)</CheckboxField>
    </FormDialog>
  );
}
