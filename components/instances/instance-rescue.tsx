"use client";
// Rescue and unrescue on a tenant's instance page: the "Rescue" dialog says what happens (a rescue OS boots with the
// instance's own system disk attached as a second disk, untouched; the SSH keys it accepts) and takes an optional
// image and extra SSH keys; "Unrescue" asks before booting the own disk again. While rescued, the disks section says
// which disk boots and where the own disk is. Progress shows on the page's operation, as for the other actions.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { ActionButtons } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { useToast } from "@/components/ui/toast";

type Verdict = { ok: boolean; reason?: string };

export function InstanceRescue({
  tenant,
  id,
  name,
  state,
  allowed,
  systemDisk,
}: {
  tenant: string;
  id: string;
  name: string;
  state: string;
  allowed: { rescue: Verdict; unrescue: Verdict };
  /** The name of the instance's own system volume. */
  systemDisk: string | null;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [rescuing, setRescuing] = useState(false);
  const [unrescuing, setUnrescuing] = useState(false);
  const reason = (v: Verdict) => (v.ok ? null : (v.reason ?? "Not possible now."));
  const done = (what: string, close: () => void) => async () => {
    toast("success", what);
    close();
    await qc.invalidateQueries(trpc.instances.pathFilter());
  };
  const unrescue = useMutation(
    trpc.instances.unrescue.mutationOptions({
      onSuccess: done("Unrescuing: the own disk boots again.", () => setUnrescuing(false)),
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  return (
    <section aria-label="Rescue" className="flex flex-col gap-2">
      <div className="flex items-center justify-between">
        <h2 className="text-lg font-semibold">Rescue</h2>
        <ActionButtons
          size="sm"
          actions={[
            { label: "Rescue", disabledReason: reason(allowed.rescue), onClick: () => setRescuing(true) },
            { label: "Unrescue", disabledReason: reason(allowed.unrescue), onClick: () => setUnrescuing(true) },
          ]}
        />
      </div>
      {state === "rescue" ? (
        <ul aria-label="Disks in rescue" className="text-sm">
          <li>Boot disk: the rescue image (a temporary copy, deleted by Unrescue)</li>
          <li>Data disk: {systemDisk ?? "the instance's system disk"} (the instance's own system disk, unchanged)</li>
        </ul>
      ) : (
        <p className="text-sm text-zinc-500">Boot a rescue OS to repair the system disk when the instance no longer boots or you are locked out.</p>
      )}
      {rescuing ? (
        <RescueDialog tenant={tenant} id={id} name={name} onClose={() => setRescuing(false)} onStarted={done("Rescuing.", () => setRescuing(false))} />
      ) : null}
      <ConfirmDialog
        open={unrescuing}
        title={`Unrescue ${name}?`}
        body={<p>The server is powered off, its own system disk becomes the boot disk again and it boots; the rescue disk and anything on it is deleted.</p>}
        confirmLabel="Unrescue"
        busy={unrescue.isPending}
        onConfirm={() => unrescue.mutate({ tenant, id })}
        onClose={() => setUnrescuing(false)}
      />
    </section>
  );
}

function RescueDialog({ tenant, id, name, onClose, onStarted }: { tenant: string; id: string; name: string; onClose: () => void; onStarted: () => void }) {
  const trpc = useTRPC();
  const images = useQuery(trpc.images.available.queryOptions({ tenant, limit: 200 }));
  const keys = useQuery(trpc.sshKeys.list.queryOptions({ limit: 50 }));
  const [imageId, setImageId] = useState("");
  const [keyIds, setKeyIds] = useState<string[]>([]);
  const rescue = useMutation(trpc.instances.rescue.mutationOptions({ onSuccess: onStarted }));
  return (
    <FormDialog
      title={`Rescue ${name}`}
      mutation={rescue}
      fields={["imageId", "sshKeyIds"]}
      submitLabel="Rescue"
      onClose={onClose}
      onSubmit={() => rescue.mutate({ tenant, id, ...(imageId ? { imageId } : {}), sshKeyIds: keyIds })}
    >
      <p className="text-sm text-zinc-700 dark:text-zinc-300">
        The server is powered off and boots a rescue OS from a fresh copy of the image. Its own system disk is attached as a second disk, untouched, for you to
        mount and repair. You log in over SSH with the instance&apos;s keys and those chosen below; the hostname ends in &quot;-rescue&quot;. Unrescue boots the
        own disk again. If anything fails, the instance goes back to its own disk as before.
      </p>
      <Field label="Rescue image">
        {(p) => (
          <select {...p} value={imageId} onChange={(e) => setImageId(e.target.value)}>
            <option value="">Default (the operator&apos;s rescue image, else the instance&apos;s own)</option>
            <Options of={images.data?.items} value={(i) => i.id} label={(i) => `${i.name} (${i.os} ${i.version})`} />
          </select>
        )}
      </Field>
      {keys.data?.items.length ? (
        <fieldset className="flex flex-col gap-1 text-sm">
          <legend className="text-zinc-500">Also accept these SSH keys</legend>
          {keys.data.items.map((k) => (
            <label key={k.id} className="flex items-center gap-2">
              <input
                type="checkbox"
                checked={keyIds.includes(k.id)}
                onChange={(e) => setKeyIds((ids) => (e.target.checked ? [...ids, k.id] : ids.filter((x) => x !== k.id)))}
              />
              {k.name} <span className="font-mono text-xs text-zinc-500">{k.fingerprint}</span>
            </label>
          ))}
        </fieldset>
      ) : null}
    </FormDialog>
  );
}
