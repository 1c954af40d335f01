"use client";
// "Image from a tenant snapshot" (operator console): a public image made from a tenant's snapshot — a flattened
// copy, independent of the tenant's volume.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import { useDebounced } from "@/components/ui/use-cursor-pages";
import { useDone } from "@/components/ui/use-done";

const FIELDS = ["snapshotId", "name", "os", "version"] as const;
const LABELS = { name: "Name", os: "OS", version: "OS version" };

export function ImageFromSnapshotDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [tenant, setTenant] = useState("");
  const dt = useDebounced(tenant);
  const snaps = useQuery(trpc.storage.snapshots.queryOptions({ tenant: dt || undefined, limit: 200 }));
  const [v, setV] = useState({ snapshotId: "", name: "", os: "", version: "" });
  const [unpicked, setUnpicked] = useState(false);
  const create = useMutation(
    trpc.images.createFromSnapshot.mutationOptions({ onSuccess: (r) => done(`Image ${r.name} created.`, trpc.images.pathFilter(), onClose) }),
  );
  const errors = fieldMessages(create.error, FIELDS);
  return (
    <FormDialog
      title="Image from a tenant snapshot"
      fields={FIELDS}
      mutation={create}
      submitLabel="Create image"
      onClose={onClose}
      onSubmit={() => {
        setUnpicked(!v.snapshotId);
        if (v.snapshotId) create.mutate({ ...v, visibility: "public" });
      }}
    >
      <Field label="Tenant (slug)" hint="Narrows the snapshot list.">
        {(p) => <input {...p} value={tenant} onChange={(e) => setTenant(e.target.value)} />}
      </Field>
      <Field label="Snapshot" error={unpicked ? "Pick a snapshot" : errors.snapshotId}>
        {(p) => (
          <select {...p} value={v.snapshotId} onChange={(e) => setV({ ...v, snapshotId: e.target.value })}>
            <option value="">{snaps.isLoading ? "Loading…" : "Pick a snapshot"}</option>
            <Options of={snaps.data?.items} value={(s) => s.id} label={(s) => `${s.tenantSlug}/${s.name} (of ${s.volumeName}, ${s.sizeGiB} GiB)`} />
          </select>
        )}
      </Field>
      {(["name", "os", "version"] as const).map((k) => (
        <Field key={k} label={LABELS[k]} error={errors[k]}>
          {(p) => <input {...p} value={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.value })} />}
        </Field>
      ))}
    </FormDialog>
  );
}
