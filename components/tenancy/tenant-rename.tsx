"use client";
// "Rename <tenant>" (operator console): one field, which shows any error.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { oneFieldError } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

export function TenantRenameDialog({ id, name, onClose }: { id: string; name: string; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [value, setValue] = useState(name);
  const rename = useMutation(trpc.tenants.rename.mutationOptions({ onSuccess: () => done(null, trpc.tenants.pathFilter(), onClose) }));
  return (
    <FormDialog
      title={`Rename ${name}`}
      loading={rename.isPending}
      submitError={null /* the one field shows it */}
      submitLabel="Save"
      onClose={onClose}
      onSubmit={() => rename.mutate({ id, name: value })}
    >
      <Field label="Name" autoFocus error={oneFieldError(rename.error, "name")}>
        {(p) => <input {...p} value={value} onChange={(e) => setValue(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
