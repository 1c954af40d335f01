"use client";
// "Snapshot volume": the snapshot's name, which shows any error.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { oneFieldError } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

export function VolumeSnapshotDialog({ tenant, volume, onClose }: { tenant: string; volume: { id: string; name: string }; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [name, setName] = useState(`${volume.name}-snap`);
  const create = useMutation(
    trpc.snapshots.create.mutationOptions({
      onSuccess: (s) => done(`Snapshot ${s.name} created.`, [trpc.snapshots.pathFilter(), trpc.volumes.pathFilter()], onClose),
    }),
  );
  return (
    <FormDialog
      title={`Snapshot volume ${volume.name}`}
      loading={create.isPending}
      submitError={null /* the one field shows it */}
      submitLabel="Create snapshot"
      onClose={onClose}
      onSubmit={() => create.mutate({ tenant, volumeId: volume.id, name })}
    >
      <Field label="Snapshot name" error={oneFieldError(create.error, "name")}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
