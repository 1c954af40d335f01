"use client";
// Add a member to a tenant: in the portal an invitation by e-mail (a name creates an account for an address without
// one); operators add an existing user or a new one directly. The caller shows the outcome.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import type { MembersScope } from "./members-panel";

type Role = "tenant-admin" | "tenant-member";
const FIELDS = ["email", "name"] as const;

/** What the dialog reports, from either procedure: the portal's invitation or the operators' direct add. */
export type AddResult = { email: string; message: string; temporaryPassword: string | null };

export function MemberAddDialog({
  scope,
  tenantName,
  onClose,
  onAdded,
}: {
  scope: MembersScope;
  tenantName: string;
  onClose: () => void;
  onAdded: (r: AddResult) => void;
}) {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("tenant-member");
  const addT = useMutation(trpc.members.add.mutationOptions({ onSuccess: onAdded }));
  const addO = useMutation(
    trpc.tenants.addMember.mutationOptions({
      onSuccess: (r) => onAdded({ email: r.user.email, message: `${r.user.email} added to ${tenantName}.`, temporaryPassword: r.temporaryPassword }),
    }),
  );
  const portal = scope.kind === "tenant";
  const error = portal ? addT.error : addO.error;
  const errors = fieldMessages(error, FIELDS);
  return (
    <FormDialog
      title={portal ? `Invite someone to ${tenantName}` : `Add a member to ${tenantName}`}
      fields={FIELDS}
      dirty={!!(email || name)}
      loading={addT.isPending || addO.isPending}
      submitError={error}
      submitLabel={portal ? "Send invitation" : "Add member"}
      onClose={onClose}
      onSubmit={() => {
        const input = { email, name: name.trim() || undefined, role };
        if (scope.kind === "tenant") addT.mutate({ tenant: scope.slug, ...input });
        else addO.mutate({ id: scope.id, ...input });
      }}
    >
      <Field label="Email" autoFocus error={errors.email}>
        {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
      </Field>
      <Field
        label="Name"
        hint={
          portal
            ? "Leave empty to only invite: they join when they accept. A name creates an account if this address has none; it joins at once and you hand over its temporary password."
            : "Only for someone without an account yet: they are invited with a temporary password."
        }
        error={errors.name}
      >
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Role">
        {(p) => (
          <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="tenant-member">Tenant member</option>
            <option value="tenant-admin">Tenant admin</option>
          </select>
        )}
      </Field>
    </FormDialog>
  );
}
