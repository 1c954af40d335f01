"use client";
// "Rename disk pool" (operator console): one field, which shows any error.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import type { DiskPool } from "./pool-types";

export function DiskPoolRenameDialog({ pool, onClose }: { pool: DiskPool; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [name, setName] = useState(pool.name);
  const rename = useMutation(
    trpc.storage.updateDiskPool.mutationOptions({ onSuccess: (p) => done(`Disk pool renamed to ${p.name}.`, trpc.storage.pathFilter(), onClose) }),
  );
  return (
    <FormDialog
      title={`Rename disk pool ${pool.name}`}
      loading={rename.isPending}
      submitError={null /* the one field shows it */}
      submitLabel="Rename"
      onClose={onClose}
      onSubmit={() => rename.mutate({ id: pool.id, name })}
    >
      <Field label="Name" error={rename.error ? errorInfo(rename.error).message : undefined}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
