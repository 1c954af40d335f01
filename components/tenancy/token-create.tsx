"use client";
// "Create API token": a name, a scope no wider than the caller's roles, a lifetime; the token is shown once by the caller.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";

const FIELDS = ["name", "expiresInDays", "scope"] as const;

export function TokenCreateDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (t: { name: string; token: string }) => void }) {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const [name, setName] = useState("");
  const [days, setDays] = useState(90);
  const [scope, setScope] = useState("");
  const create = useMutation(trpc.apiTokens.create.mutationOptions({ onSuccess: (r) => onCreated({ name: r.name, token: r.token }) }));
  const errors = fieldMessages(create.error, FIELDS);
  // Scopes the user can hold: each tenant at their role or below, and their operator role or below.
  const options: { value: string; label: string }[] = [];
  for (const t of me.data?.tenants ?? []) {
    if (t.role === "tenant-admin") options.push({ value: `t:${t.slug}:tenant-admin`, label: `${t.name} — tenant admin` });
    options.push({ value: `t:${t.slug}:tenant-member`, label: `${t.name} — tenant member` });
  }
  if (me.data?.platformRole === "operator-admin") options.push({ value: "p:operator-admin", label: "Operator admin" });
  if (me.data?.platformRole) options.push({ value: "p:operator-viewer", label: "Operator viewer" });
  const chosen = scope || options[0]?.value || "";
  return (
    <FormDialog
      title="Create API token"
      fields={FIELDS}
      mutation={create}
      submitLabel="Create token"
      submitDisabledReason={options.length ? null : "You have no tenant or operator role to scope a token to."}
      onClose={onClose}
      onSubmit={() => {
        const [kind, a, b] = chosen.split(":");
        const s =
          kind === "p"
            ? ({ kind: "platform", role: a as "operator-admin" | "operator-viewer" } as const)
            : ({ kind: "tenant", tenant: a ?? "", role: b as "tenant-admin" | "tenant-member" } as const);
        create.mutate({ name, expiresInDays: days, scope: s });
      }}
    >
      <Field label="Name" autoFocus error={errors.name}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Scope" error={errors.scope}>
        {(p) => (
          <select {...p} value={chosen} onChange={(e) => setScope(e.target.value)}>
            <Options of={options} value={(o) => o.value} label={(o) => o.label} />
          </select>
        )}
      </Field>
      <Field label="Expires in (days)" hint="At most 365 days." error={errors.expiresInDays}>
        {(p) => <input {...p} type="number" min={1} max={365} value={days} onChange={(e) => setDays(Number(e.target.value))} />}
      </Field>
    </FormDialog>
  );
}
