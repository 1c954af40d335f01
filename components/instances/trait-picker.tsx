"use client";
// The host traits an instance asks for, in the create form: the traits the chosen pool's hosts offer (traits.ofPool),
// each a checkbox; the pool's own required traits are shown as given. The scheduler places the instance only on a
// host having all of them; the server refuses traits no host of the pool has, on this field.
import { useQuery } from "@tanstack/react-query";
import type { FieldError, UseFormRegisterReturn } from "react-hook-form";
import { useTRPC } from "@/components/trpc";

export function TraitPicker({
  tenant,
  poolId,
  register,
  error,
}: {
  tenant: string;
  poolId: string | undefined;
  register: UseFormRegisterReturn;
  error?: FieldError;
}) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.traits.ofPool.queryOptions({ tenant, poolId: poolId ?? "" }), enabled: !!poolId });
  if (!poolId || !q.data) return null;
  const optional = q.data.available.filter((t) => !q.data.required.includes(t));
  if (!optional.length && !q.data.required.length) return null;
  return (
    <fieldset className="flex flex-col gap-1">
      <legend className="text-sm font-medium">Host traits</legend>
      {q.data.required.length ? <p className="text-xs text-zinc-600 dark:text-zinc-400">Every host of this pool has {q.data.required.join(", ")}.</p> : null}
      {optional.map((t) => (
        <label key={t} className="flex items-center gap-2 text-sm">
          <input type="checkbox" value={t} {...register} /> <code className="text-xs">{t}</code>
        </label>
      ))}
      {optional.length ? <p className="text-xs text-zinc-500">Ticked: only a host with these traits takes the instance.</p> : null}
      {error ? <p className="text-xs text-red-600 dark:text-red-400">{error.message}</p> : null}
    </fieldset>
  );
}
