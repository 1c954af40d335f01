"use client";
// "Create disk pool" (operator console): a name and the unassigned disks it groups. The storage service's refusal is
// shown as it says it.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { formatBytes, serviceMessage } from "./shared";

export function DiskPoolCreateDialog({
  disks,
  onClose,
}: {
  disks: { id: string; name: string; nodeId: string; sizeBytes: number; media: string }[];
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const [name, setName] = useState("");
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const create = useMutation(
    trpc.storage.createDiskPool.mutationOptions({ onSuccess: (p) => done(`Disk pool ${p.name} created.`, trpc.storage.pathFilter(), onClose) }),
  );
  const errors = errorInfo(create.error ?? new Error()).fieldErrors;
  return (
    <FormDialog
      title="Create disk pool"
      wide
      loading={create.isPending}
      submitError={serviceMessage(create.error)}
      submitLabel="Create disk pool"
      onClose={onClose}
      onSubmit={() => create.mutate({ name, diskIds: [...picked] })}
    >
      <Field label="Name" error={errors.name?.[0]}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <fieldset className="max-h-64 overflow-y-auto rounded-md border border-zinc-200 p-2 text-sm dark:border-zinc-800">
        <legend className="px-1 font-medium">Unassigned disks ({disks.length})</legend>
        {disks.length === 0 ? <p className="text-zinc-500">Every disk already belongs to a disk pool.</p> : null}
        {disks.map((disk) => (
          <label key={disk.id} className="flex items-center gap-2">
            <input
              type="checkbox"
              checked={picked.has(disk.id)}
              onChange={(e) => {
                const next = new Set(picked);
                if (e.target.checked) next.add(disk.id);
                else next.delete(disk.id);
                setPicked(next);
              }}
            />
            {disk.name} ({disk.media}, {formatBytes(disk.sizeBytes)})
          </label>
        ))}
      </fieldset>
      {errors.diskIds ? <p className="text-xs text-red-600">{errors.diskIds[0]}</p> : null}
    </FormDialog>
  );
}
