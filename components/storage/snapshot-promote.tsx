"use client";
// "Save snapshot as an image": the backup path — a flattened copy, private to the tenant, that outlives the volume.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

const FIELDS = ["name", "os", "version"] as const;
const LABELS = { name: "Image name", os: "OS", version: "OS version" };

export function SnapshotPromoteDialog({ tenant, snapshot, onClose }: { tenant: string; snapshot: { id: string; name: string }; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [v, setV] = useState({ name: `${snapshot.name}-image`, os: "", version: "" });
  const promote = useMutation(
    trpc.snapshots.promote.mutationOptions({
      onSuccess: (img) => done(`Image ${img.name} saved; only your tenant sees it.`, trpc.images.pathFilter(), onClose),
    }),
  );
  const errors = fieldMessages(promote.error, FIELDS);
  return (
    <FormDialog
      title={`Save snapshot ${snapshot.name} as an image`}
      fields={FIELDS}
      mutation={promote}
      submitLabel="Save as image"
      onClose={onClose}
      onSubmit={() => promote.mutate({ tenant, id: snapshot.id, ...v })}
    >
      {FIELDS.map((k) => (
        <Field key={k} label={LABELS[k]} error={errors[k]}>
          {(p) => <input {...p} value={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.value })} />}
        </Field>
      ))}
    </FormDialog>
  );
}
