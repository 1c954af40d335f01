"use client";
// "Rebuild <instance>", first step: pick the image; the caller then asks for confirmation (everything on the system
// disk is lost) and starts the rebuild.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";

export function InstanceRebuildDialog({
  tenant,
  name,
  onClose,
  onPick,
}: {
  tenant: string;
  name: string;
  onClose: () => void;
  onPick: (imageId: string) => void;
}) {
  const trpc = useTRPC();
  const images = useQuery(trpc.images.available.queryOptions({ tenant, limit: 200 }));
  const [imageId, setImageId] = useState("");
  return (
    <FormDialog
      title={`Rebuild ${name}`}
      loading={false /* nothing is sent yet: the caller confirms first */}
      submitError={null}
      submitLabel="Continue"
      submitDisabledReason={imageId ? null : "Choose an image first."}
      onClose={onClose}
      onSubmit={() => imageId && onPick(imageId)}
    >
      <Field label="Image">
        {(p) => (
          <select {...p} value={imageId} onChange={(e) => setImageId(e.target.value)}>
            <option value="">Choose an image</option>
            <Options of={images.data?.items} value={(i) => i.id} label={(i) => `${i.name} (${i.os} ${i.version})`} />
          </select>
        )}
      </Field>
    </FormDialog>
  );
}
