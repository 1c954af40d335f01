"use client";
// "Attach a volume": an available data volume, or a multi-attach one attached elsewhere; no reboot needed.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";

export function InstanceAttachDialog({ tenant, id, name, onClose }: { tenant: string; id: string; name: string; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const vols = useQuery(trpc.volumes.list.queryOptions({ tenant, limit: 200 }));
  const [volumeId, setVolumeId] = useState("");
  const [unpicked, setUnpicked] = useState(false);
  const attach = useMutation(
    trpc.instances.attachVolume.mutationOptions({
      onSuccess: () => done("Attaching the volume; it appears in the server without a reboot.", trpc.instances.pathFilter(), onClose),
    }),
  );
  const choices = (vols.data?.items ?? []).filter((v) => v.kind === "data" && (v.state === "available" || (v.multiAttach && v.state === "attached")));
  return (
    <FormDialog
      title={`Attach a volume to ${name}`}
      loading={attach.isPending}
      submitError={unpicked ? "Choose a volume." : attach.error}
      submitLabel="Attach"
      onClose={onClose}
      onSubmit={() => {
        setUnpicked(!volumeId);
        if (volumeId) attach.mutate({ tenant, id, volumeId });
      }}
    >
      <Field
        label="Volume"
        hint={
          choices.length ? "Available data volumes, and multi-attach volumes attached elsewhere." : "No volume can be attached: create a data volume first."
        }
      >
        {(p) => (
          <select {...p} value={volumeId} onChange={(e) => setVolumeId(e.target.value)}>
            <option value="">Choose a volume</option>
            <Options of={choices} value={(v) => v.id} label={(v) => `${v.name} (${v.sizeGiB} GiB${v.multiAttach ? ", multi-attach" : ""})`} />
          </select>
        )}
      </Field>
    </FormDialog>
  );
}
