"use client";
// Create or edit a logical pool (operator console): disk pool, redundancy (replicas or erasure coding), thin
// provisioning and over-commit. The storage service's refusal is shown as it says it, beside any field errors.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import type { DiskPool, LogicalPool } from "./pool-types";
import { serviceMessage } from "./shared";

export function LogicalPoolEditDialog({ pool, diskPools, onClose }: { pool: LogicalPool | null; diskPools: DiskPool[]; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [v, setV] = useState({
    name: pool?.name ?? "",
    diskPoolId: pool?.diskPoolId ?? diskPools[0]?.id ?? "",
    type: pool?.redundancy.type ?? "replica",
    copies: pool?.redundancy.type === "replica" ? pool.redundancy.copies : 3,
    data: pool?.redundancy.type === "ec" ? pool.redundancy.data : 4,
    parity: pool?.redundancy.type === "ec" ? pool.redundancy.parity : 2,
    thin: pool?.thinProvisioned ?? true,
    overcommit: pool?.overcommitRatio ?? 2,
  });
  const onSuccess = (p: { name: string }) => done(`Logical pool ${p.name} saved.`, trpc.storage.pathFilter(), onClose);
  const create = useMutation(trpc.storage.createLogicalPool.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.storage.updateLogicalPool.mutationOptions({ onSuccess }));
  const error = pool ? update.error : create.error;
  const errors = errorInfo(error ?? new Error()).fieldErrors;
  const err = (k: string) => errors[k]?.[0] ?? Object.entries(errors).find(([f]) => f.startsWith(`${k}.`))?.[1][0];
  const num = (s: string) => (s === "" ? Number.NaN : Number(s));
  return (
    <FormDialog
      title={pool ? `Edit logical pool ${pool.name}` : "Create logical pool"}
      loading={create.isPending || update.isPending}
      submitError={serviceMessage(error)}
      submitLabel={pool ? "Save" : "Create logical pool"}
      onClose={onClose}
      onSubmit={() => {
        if (pool) update.mutate({ id: pool.id, name: v.name, ...(pool.thinProvisioned ? { overcommitRatio: v.overcommit } : {}) });
        else
          create.mutate({
            name: v.name,
            diskPoolId: v.diskPoolId,
            redundancy: v.type === "replica" ? { type: "replica", copies: v.copies } : { type: "ec", data: v.data, parity: v.parity },
            thinProvisioned: v.thin,
            overcommitRatio: v.thin ? v.overcommit : undefined,
          });
      }}
    >
      <Field label="Name" error={err("name")}>
        {(p) => <input {...p} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
      </Field>
      {pool ? null : (
        <>
          <Field label="Disk pool" error={err("diskPoolId")}>
            {(p) => (
              <select {...p} value={v.diskPoolId} onChange={(e) => setV({ ...v, diskPoolId: e.target.value })}>
                <Options of={diskPools} value={(dp) => dp.id} label={(dp) => dp.name} />
              </select>
            )}
          </Field>
          <Field label="Redundancy" error={err("redundancy")}>
            {(p) => (
              <select {...p} value={v.type} onChange={(e) => setV({ ...v, type: e.target.value as "replica" | "ec" })}>
                <option value="replica">Replicas (1–3 copies)</option>
                <option value="ec">Erasure coding (k data + m parity)</option>
              </select>
            )}
          </Field>
          {v.type === "replica" ? (
            <Field label="Copies" error={err("redundancy.copies")}>
              {(p) => <input {...p} type="number" min={1} max={3} value={v.copies} onChange={(e) => setV({ ...v, copies: num(e.target.value) })} />}
            </Field>
          ) : (
            <div className="flex gap-3">
              <Field label="Data fragments (k)" error={err("redundancy.data")}>
                {(p) => <input {...p} type="number" min={2} value={v.data} onChange={(e) => setV({ ...v, data: num(e.target.value) })} />}
              </Field>
              <Field label="Parity fragments (m)" error={err("redundancy.parity")}>
                {(p) => <input {...p} type="number" min={1} value={v.parity} onChange={(e) => setV({ ...v, parity: num(e.target.value) })} />}
              </Field>
            </div>
          )}
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={v.thin} onChange={(e) => setV({ ...v, thin: e.target.checked })} /> Thin provisioned
          </label>
        </>
      )}
      {(pool ? pool.thinProvisioned : v.thin) ? (
        <Field label="Over-commit ratio" hint="How much more may be provisioned than is usable (thin pools)." error={err("overcommitRatio")}>
          {(p) => <input {...p} type="number" step="0.1" min={1} value={v.overcommit} onChange={(e) => setV({ ...v, overcommit: num(e.target.value) })} />}
        </Field>
      ) : null}
    </FormDialog>
  );
}
