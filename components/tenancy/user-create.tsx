"use client";
// "Create user" (operator console): email, name, platform role; the temporary password is shown once by the caller.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";

type PlatformRole = "operator-admin" | "operator-viewer" | null;
const FIELDS = ["email", "name"] as const;

export function UserCreateDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (r: { email: string; password: string }) => void }) {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<PlatformRole>(null);
  const create = useMutation(trpc.users.create.mutationOptions({ onSuccess: (r) => onCreated({ email: r.user.email, password: r.temporaryPassword }) }));
  const errors = fieldMessages(create.error, FIELDS);
  return (
    <FormDialog
      title="Create user"
      fields={FIELDS}
      mutation={create}
      submitLabel="Create user"
      onClose={onClose}
      onSubmit={() => create.mutate({ email, name, platformRole: role })}
    >
      <Field label="Email" autoFocus error={errors.email}>
        {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
      </Field>
      <Field label="Name" error={errors.name}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Platform role" hint="None for tenant users; add them to tenants from the tenant's page.">
        {(p) => (
          <select {...p} value={role ?? ""} onChange={(e) => setRole((e.target.value || null) as PlatformRole)}>
            <option value="">None</option>
            <option value="operator-viewer">Operator viewer</option>
            <option value="operator-admin">Operator admin</option>
          </select>
        )}
      </Field>
      <p className="text-xs text-zinc-500">A temporary password is generated and shown once.</p>
    </FormDialog>
  );
}
