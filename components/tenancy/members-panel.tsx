"use client";
// Members of one tenant: list, change role, remove; tenant admins invite by e-mail (the person joins when they
// accept; a name creates an account for an address without one, its temporary password shown once) and see and
// revoke pending invitations; operators, on a tenant's detail page, add an existing user or a new one directly. The
// server enforces the same rules (last admin stays) and its reasons show as toasts or form errors.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { TenantInvitations } from "./invitations-panel";
import { OneTimeSecret, placeErrors } from "./one-time-secret";

export type MembersScope = { kind: "tenant"; slug: string } | { kind: "ops"; id: string };
type Role = "tenant-admin" | "tenant-member";
interface MemberRow {
  id: string;
  email: string;
  name: string;
  disabled: boolean;
  role: Role;
  joinedAt: Date;
}

const roleLabel: Record<Role, string> = { "tenant-admin": "Tenant admin", "tenant-member": "Tenant member" };

export function MembersPanel({
  scope,
  canManage,
  tenantName,
  adminCount,
}: {
  scope: MembersScope;
  canManage: string | null;
  tenantName: string;
  /** How many tenant admins there are (the portal's list reports it itself; the operator page passes it). */
  adminCount?: number;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const pages = useCursorPages(dq);
  const listInput = { q: dq || undefined, cursor: pages.cursor };
  const portal = useQuery({
    ...trpc.members.list.queryOptions({ ...listInput, tenant: scope.kind === "tenant" ? scope.slug : "" }),
    enabled: scope.kind === "tenant",
    placeholderData: (p) => p,
  });
  const ops = useQuery({
    ...trpc.tenants.members.queryOptions({ ...listInput, id: scope.kind === "ops" ? scope.id : "00000000-0000-0000-0000-000000000000" }),
    enabled: scope.kind === "ops",
    placeholderData: (p) => p,
  });
  const list = scope.kind === "tenant" ? portal : ops;
  const rows = (list.data?.items ?? []) as MemberRow[];
  const admins = scope.kind === "tenant" ? portal.data?.adminCount : adminCount;

  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<MemberRow | null>(null);
  const [secret, setSecret] = useState<{ email: string; password: string } | null>(null);

  const refresh = async () => {
    await qc.invalidateQueries(trpc.members.pathFilter());
    await qc.invalidateQueries(trpc.tenants.pathFilter());
    await qc.invalidateQueries(trpc.invitations.pathFilter());
  };
  const onErr = (e: unknown) => toast("error", errorInfo(e).message);
  const removeT = useMutation(trpc.members.remove.mutationOptions({ onError: onErr }));
  const removeO = useMutation(trpc.tenants.removeMember.mutationOptions({ onError: onErr }));
  const roleT = useMutation(trpc.members.setRole.mutationOptions({ onError: onErr }));
  const roleO = useMutation(trpc.tenants.setMemberRole.mutationOptions({ onError: onErr }));

  const remove = async (m: MemberRow) => {
    if (scope.kind === "tenant") await removeT.mutateAsync({ tenant: scope.slug, userId: m.id });
    else await removeO.mutateAsync({ id: scope.id, userId: m.id });
    toast("success", `${m.email} removed from ${tenantName}.`);
    setRemoving(null);
    await refresh();
  };
  const setRole = async (m: MemberRow, role: Role) => {
    try {
      if (scope.kind === "tenant") await roleT.mutateAsync({ tenant: scope.slug, userId: m.id, role });
      else await roleO.mutateAsync({ id: scope.id, userId: m.id, role });
      toast("success", `${m.email} is now ${roleLabel[role].toLowerCase()}.`);
    } finally {
      await refresh();
    }
  };

  const lastAdmin = (m: MemberRow) =>
    m.role === "tenant-admin" && admins === 1 ? `${m.name} is the last tenant admin; make someone else an admin first.` : null;

  const columns: ColumnDef<MemberRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "email", header: "Email", cell: ({ row }) => row.original.email },
    {
      id: "role",
      header: "Role",
      cell: ({ row }) => (
        <select
          aria-label={`Role of ${row.original.email}`}
          value={row.original.role}
          disabled={!!canManage}
          title={canManage ?? undefined}
          onChange={(e) => setRole(row.original, e.target.value as Role).catch(() => {})}
          className="rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        >
          <option value="tenant-admin">Tenant admin</option>
          <option value="tenant-member">Tenant member</option>
        </select>
      ),
    },
    { id: "status", header: "Status", cell: ({ row }) => (row.original.disabled ? "Disabled" : "Active") },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end">
          <Button
            size="sm"
            variant="danger"
            aria-label={`Remove ${row.original.email}`}
            disabledReason={canManage ?? lastAdmin(row.original)}
            onClick={() => setRemoving(row.original)}
          >
            Remove
          </Button>
        </div>
      ),
    },
  ];

  return (
    <section aria-label="Members" className="flex flex-col gap-3">
      <div className="flex items-center justify-between gap-3">
        <input
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          placeholder="Filter by name or email"
          aria-label="Filter members"
          className="w-72 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        />
        <Button variant="primary" disabledReason={canManage} onClick={() => setAdding(true)}>
          {scope.kind === "tenant" ? "Invite member" : "Add member"}
        </Button>
      </div>
      <DataTable<MemberRow, string>
        label="Members"
        columns={columns}
        rows={rows}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title={dq ? "No member matches the filter" : "No members yet"} body={dq ? `Nothing matches “${dq}”.` : "Add the first member."} />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {adding ? (
        <AddMemberDialog
          scope={scope}
          tenantName={tenantName}
          onClose={() => setAdding(false)}
          onAdded={async (r) => {
            setAdding(false);
            await refresh();
            if (r.temporaryPassword) setSecret({ email: r.email, password: r.temporaryPassword });
            else toast("success", r.message);
          }}
        />
      ) : null}
      {scope.kind === "tenant" && !canManage ? <TenantInvitations slug={scope.slug} tenantName={tenantName} /> : null}
      {secret ? (
        <OneTimeSecret
          title={`Account created for ${secret.email}`}
          label="Temporary password"
          secret={secret.password}
          explanation={`Give this temporary password to ${secret.email} over a safe channel; they sign in with their email and this password.`}
          onClose={() => setSecret(null)}
        />
      ) : null}
      <ConfirmDialog
        open={!!removing}
        title={`Remove ${removing?.email ?? ""}?`}
        body={<p>They lose access to {tenantName}. Their account stays.</p>}
        confirmLabel="Remove member"
        busy={removeT.isPending || removeO.isPending}
        onConfirm={() => removing && remove(removing).catch(() => {})}
        onClose={() => setRemoving(null)}
      />
    </section>
  );
}

/** What the dialog reports, from either procedure: the portal's invitation or the operators' direct add. */
type AddResult = { email: string; message: string; temporaryPassword: string | null };

function AddMemberDialog({ scope, tenantName, onClose, onAdded }: { scope: MembersScope; tenantName: string; onClose: () => void; onAdded: (r: AddResult) => void }) {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("tenant-member");
  const [errors, setErrors] = useState<{ email?: string; name?: string }>({});
  const [formError, setFormError] = useState<string | null>(null);
  const onError = (e: unknown) => {
    const next: typeof errors = {};
    setFormError(placeErrors(errorInfo(e), ["email", "name"] as const, (f, m) => (next[f] = m)));
    setErrors(next);
  };
  const addT = useMutation(trpc.members.add.mutationOptions({ onSuccess: onAdded, onError }));
  const addO = useMutation(
    trpc.tenants.addMember.mutationOptions({
      onSuccess: (r) => onAdded({ email: r.user.email, message: `${r.user.email} added to ${tenantName}.`, temporaryPassword: r.temporaryPassword }),
      onError,
    }),
  );
  const portal = scope.kind === "tenant";
  const busy = addT.isPending || addO.isPending;
  const dirty = !!(email || name);
  const close = () => {
    if (dirty && !busy && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  return (
    <Dialog open onClose={close} title={portal ? `Invite someone to ${tenantName}` : `Add a member to ${tenantName}`}>
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          setErrors({});
          setFormError(null);
          const input = { email, name: name.trim() || undefined, role };
          if (scope.kind === "tenant") addT.mutate({ tenant: scope.slug, ...input });
          else addO.mutate({ id: scope.id, ...input });
        }}
      >
        <FormError message={formError} />
        <Field label="Email" error={errors.email}>
          {(p) => <input {...p} type="email" autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />}
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
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {portal ? "Send invitation" : "Add member"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
