"use client";
// "Back up <instance>": the system disk becomes a private image of the tenant (optionally with snapshots of the
// attached data volumes).
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

export function InstanceBackupDialog({ tenant, id, name, onClose }: { tenant: string; id: string; name: string; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [imageName, setImageName] = useState(`${name}-backup`);
  const [withData, setWithData] = useState(false);
  const backup = useMutation(
    trpc.instances.backup.mutationOptions({
      onSuccess: () => done("Backing up: the image appears among your images when it is done.", trpc.instances.pathFilter(), onClose),
    }),
  );
  return (
    <FormDialog
      title={`Back up ${name}`}
      fields={["imageName"]}
      mutation={backup}
      submitLabel="Back up"
      onClose={onClose}
      onSubmit={() => backup.mutate({ tenant, id, imageName, includeDataVolumes: withData })}
    >
      <Field
        label="Image name"
        hint="The system disk becomes a private image of this tenant; create an instance from it to restore."
        error={fieldMessages(backup.error, ["imageName"]).imageName}
      >
        {(p) => <input {...p} value={imageName} onChange={(e) => setImageName(e.target.value)} />}
      </Field>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={withData} onChange={(e) => setWithData(e.target.checked)} />
        Also snapshot the attached data volumes
      </label>
    </FormDialog>
  );
}
