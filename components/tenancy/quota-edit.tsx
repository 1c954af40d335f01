"use client";
// "Edit quota" (operator console): one number per resource; the server's per-limit errors land on their inputs.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";
import { QUOTA_DEFAULTS, type QuotaResource } from "@/db/schema/quotas";
import { QUOTA_LABELS } from "./tenant-detail";

const KEYS = Object.keys(QUOTA_DEFAULTS) as QuotaResource[];

export function QuotaEditDialog({ tenantId, limits, onClose }: { tenantId: string; limits: Record<QuotaResource, number>; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [values, setValues] = useState<Record<QuotaResource, string>>(
    Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, String(v)])) as Record<QuotaResource, string>,
  );
  const set = useMutation(trpc.quotas.set.mutationOptions({ onSuccess: () => done("Quota saved.", trpc.tenants.pathFilter(), onClose) }));
  const errors = fieldMessages(set.error, KEYS, "limits.");
  return (
    <FormDialog
      title="Edit quota"
      wide
      fields={["limits"]}
      mutation={set}
      submitLabel="Save quota"
      onClose={onClose}
      onSubmit={() =>
        set.mutate({ tenantId, limits: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim() === "" ? Number.NaN : Number(v)])) })
      }
    >
      <div className="grid grid-cols-2 gap-3">
        {KEYS.map((k) => (
          <Field key={k} label={QUOTA_LABELS[k]} error={errors[k]}>
            {(p) => <input {...p} type="number" min={0} value={values[k]} onChange={(e) => setValues({ ...values, [k]: e.target.value })} />}
          </Field>
        ))}
      </div>
    </FormDialog>
  );
}
