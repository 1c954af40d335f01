"use client";
// "Resize volume": one number (volumes only grow), which shows any error.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { oneFieldError } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

export function VolumeResizeDialog({
  tenant,
  volume,
  onClose,
}: {
  tenant: string;
  volume: { id: string; name: string; sizeGiB: number };
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const [size, setSize] = useState(String(volume.sizeGiB * 2));
  const resize = useMutation(
    trpc.volumes.resize.mutationOptions({ onSuccess: (v) => done(`Volume ${v.name} is now ${v.sizeGiB} GiB.`, trpc.volumes.pathFilter(), onClose) }),
  );
  return (
    <FormDialog
      title={`Resize volume ${volume.name}`}
      loading={resize.isPending}
      submitError={null /* the one field shows it */}
      submitLabel="Resize"
      onClose={onClose}
      onSubmit={() => resize.mutate({ tenant, id: volume.id, sizeGiB: Number(size) })}
    >
      <Field label="New size (GiB)" hint={`Now ${volume.sizeGiB} GiB. Volumes only grow.`} error={oneFieldError(resize.error, "sizeGiB")}>
        {(p) => <input {...p} type="number" min={volume.sizeGiB} value={size} onChange={(e) => setSize(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
