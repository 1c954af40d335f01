"use client";
// "Start rollout": a DPU OS image, how many hosts may be out at once, what happens to hosts running instances, and the
// hosts — a pool's, or a selection (the hosts' own checkboxes, searched by name). The form's resolver is the router's
// schema (db/validation/rollouts.ts); server field errors land on their fields.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { Options } from "@/components/ui/form";
import { FormDialog, SelectField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { type RolloutStartInput, rolloutStartSchema } from "@/db/validation/rollouts";

export function RolloutStartDialog({ onClose, onStarted }: { onClose: () => void; onStarted: (id: string) => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [scope, setScope] = useState<"pool" | "hosts">("hosts");
  const [q, setQ] = useState("");
  const pools = useQuery(trpc.pools.list.queryOptions({ sort: "name", dir: "asc", cursor: null, limit: 200 }));
  const hosts = useQuery(trpc.nodes.list.queryOptions({ kind: "host", hasDpu: true, q: q || undefined, sort: "name", dir: "asc", cursor: null, limit: 50 }));
  const f = useForm<RolloutStartInput>({
    resolver: zodResolver(rolloutStartSchema),
    defaultValues: { imageUri: "", maxUnavailable: 1, instancePolicy: "skip", hostIds: [] },
  });
  const chosen = f.watch("hostIds") ?? [];
  const start = useMutation(
    trpc.rollouts.start.mutationOptions({
      onSuccess: (r) => done("Rollout started.", trpc.rollouts.pathFilter(), () => onStarted(r.id)),
    }),
  );
  const pick = (next: "pool" | "hosts") => {
    setScope(next);
    // Exactly one of the two goes to the server.
    f.setValue("poolId", next === "pool" ? (pools.data?.items[0]?.id ?? undefined) : undefined);
    f.setValue("hostIds", next === "hosts" ? [] : undefined);
  };
  return (
    <FormDialog
      title="Start a DPU OS rollout"
      form={f}
      loading={start.isPending}
      submitError={start.error}
      submitLabel="Start rollout"
      onClose={onClose}
      onSubmit={f.handleSubmit((v) => start.mutate(v))}
      wide
    >
      <TextField
        name="imageUri"
        label="DPU OS image URL"
        hint="Each DPU's BMC downloads it (UpdateService.SimpleUpdate); it must be on the management network."
        placeholder="http://images.example/bf-bundle-2.9.1-40_25.04_ubuntu-22.04_prod.bfb"
        autoFocus
      />
      <TextField name="maxUnavailable" label="Hosts updated at once (max unavailable)" type="number" min={1} max={100} rules={{ valueAsNumber: true }} />
      <SelectField
        name="instancePolicy"
        label="Hosts running instances"
        hint="Skipped: a DPU OS update reboots the DPU, which carries the instance's network and disks, and Anvil cannot move a running instance. Update such hosts once their instances are gone."
      >
        <Options of={["skip"] as const} value={(p) => p} label={() => "Skip them"} />
      </SelectField>
      <fieldset className="flex flex-col gap-2 text-sm">
        <legend className="mb-1 font-medium">Hosts</legend>
        <div className="flex gap-4">
          <label className="flex items-center gap-2">
            <input type="radio" name="scope" checked={scope === "hosts"} onChange={() => pick("hosts")} /> Selected hosts
          </label>
          <label className="flex items-center gap-2">
            <input type="radio" name="scope" checked={scope === "pool"} onChange={() => pick("pool")} /> Every host of a pool
          </label>
        </div>
        {scope === "pool" ? (
          <SelectField name="poolId" label="Pool">
            <Options of={pools.data?.items ?? []} value={(p) => p.id} label={(p) => `${p.name} (${p.nodeCount} hosts)`} />
          </SelectField>
        ) : (
          <>
            <input
              type="search"
              aria-label="Search hosts"
              placeholder="Search hosts with DPUs by name"
              className="rounded-md border border-zinc-300 px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
              value={q}
              onChange={(e) => setQ(e.target.value)}
            />
            <div className="flex max-h-48 flex-col gap-1 overflow-y-auto">
              {(hosts.data?.items ?? []).map((h) => (
                <label key={h.id} className="flex items-center gap-2">
                  <input
                    type="checkbox"
                    aria-label={`Update ${h.name}`}
                    checked={chosen.includes(h.id)}
                    onChange={(e) =>
                      f.setValue("hostIds", e.target.checked ? [...chosen, h.id] : chosen.filter((x) => x !== h.id), {
                        shouldDirty: true,
                        shouldValidate: true,
                      })
                    }
                  />
                  {h.name}
                </label>
              ))}
            </div>
            <p className="text-zinc-600 dark:text-zinc-400">{chosen.length} selected</p>
            {f.formState.errors.hostIds ? <p className="text-red-700 dark:text-red-300">{f.formState.errors.hostIds.message}</p> : null}
          </>
        )}
        {scope === "hosts" && f.formState.errors.poolId ? <p className="text-red-700 dark:text-red-300">{f.formState.errors.poolId.message}</p> : null}
      </fieldset>
    </FormDialog>
  );
}
