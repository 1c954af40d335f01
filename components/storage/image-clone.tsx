"use client";
// "Clone image" (operator console): the copy's name.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

export function ImageCloneDialog({ image, onClose }: { image: { id: string; name: string }; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [name, setName] = useState(`${image.name}-copy`);
  const clone = useMutation(trpc.images.clone.mutationOptions({ onSuccess: (r) => done(`Image ${r.name} created.`, trpc.images.pathFilter(), onClose) }));
  return (
    <FormDialog
      title={`Clone image ${image.name}`}
      fields={["name"]}
      mutation={clone}
      submitLabel="Clone"
      onClose={onClose}
      onSubmit={() => clone.mutate({ id: image.id, name })}
    >
      <Field label="Name of the copy" error={fieldMessages(clone.error, ["name"]).name}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
    </FormDialog>
  );
}
