"use client";
// Operator console: users — list (filter, role, disabled, sort, cursor pages), create/invite with a temporary
// password shown once, reset password (shown once; sessions revoked), disable/enable, platform role.
// The server refuses an operator admin demoting or disabling themselves; the buttons say so up front.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable, type SortState } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { userSortKeys } from "@/db/validation/tenancy";
import { operatorCan, reasonOf } from "@/domain/roles";
import { OneTimeSecret, placeErrors } from "./one-time-secret";

type SortKey = (typeof userSortKeys)[number];
type PlatformRole = "operator-admin" | "operator-viewer" | null;
interface UserRow {
  id: string;
  email: string;
  name: string;
  platformRole: PlatformRole;
  disabled: boolean;
  tenantCount: number;
  createdAt: Date;
}

export function UsersPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const [role, setRole] = useState<"" | "operator" | "none">("");
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "email", dir: "asc" });
  const pages = useCursorPages(`${dq}|${role}|${sort.key}|${sort.dir}`);
  const list = useQuery({
    ...trpc.users.list.queryOptions({ q: dq || undefined, role: role || undefined, sort: sort.key, dir: sort.dir, cursor: pages.cursor }),
    placeholderData: (p) => p,
  });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ title: string; email: string; password: string } | null>(null);
  const [confirm, setConfirm] = useState<{ kind: "reset" | "disable" | "signOut"; user: UserRow } | null>(null);
  const refresh = () => qc.invalidateQueries(trpc.users.pathFilter());
  const onError = (e: unknown) => toast("error", errorInfo(e).message);
  const reset = useMutation(trpc.users.resetPassword.mutationOptions({ onError }));
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions({ onError }));
  const signOutEverywhere = useMutation(trpc.users.signOutEverywhere.mutationOptions({ onError }));
  const setPlatformRole = useMutation(trpc.users.setPlatformRole.mutationOptions({ onError, onSuccess: () => refresh() }));
  const self = (u: UserRow) => u.id === me.data?.userId;

  const columns: ColumnDef<UserRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "email", header: "Email", cell: ({ row }) => row.original.email },
    {
      id: "role",
      header: "Platform role",
      cell: ({ row }) => {
        const u = row.original;
        const reason = changeReason ?? (self(u) ? "You can't change your own operator role." : null);
        return (
          <select
            aria-label={`Platform role of ${u.email}`}
            value={u.platformRole ?? ""}
            disabled={!!reason}
            title={reason ?? undefined}
            onChange={(e) => setPlatformRole.mutate({ id: u.id, role: (e.target.value || null) as PlatformRole })}
            className="rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="">None</option>
            <option value="operator-viewer">Operator viewer</option>
            <option value="operator-admin">Operator admin</option>
          </select>
        );
      },
    },
    { id: "tenants", header: "Tenants", cell: ({ row }) => <span className="tabular-nums">{row.original.tenantCount}</span> },
    { id: "status", header: "Status", cell: ({ row }) => (row.original.disabled ? "Disabled" : "Active") },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => {
        const u = row.original;
        return (
          <div className="flex justify-end gap-2">
            <Button size="sm" aria-label={`Reset password of ${u.email}`} disabledReason={changeReason} onClick={() => setConfirm({ kind: "reset", user: u })}>
              Reset password
            </Button>
            <Button size="sm" aria-label={`Sign out ${u.email} everywhere`} disabledReason={changeReason} onClick={() => setConfirm({ kind: "signOut", user: u })}>
              Sign out everywhere
            </Button>
            {u.disabled ? (
              <Button
                size="sm"
                aria-label={`Enable ${u.email}`}
                disabledReason={changeReason}
                onClick={async () => {
                  await setDisabled.mutateAsync({ id: u.id, disabled: false });
                  toast("success", `${u.email} enabled.`);
                  await refresh();
                }}
              >
                Enable
              </Button>
            ) : (
              <Button
                size="sm"
                variant="danger"
                aria-label={`Disable ${u.email}`}
                disabledReason={changeReason ?? (self(u) ? "You can't disable your own account." : null)}
                onClick={() => setConfirm({ kind: "disable", user: u })}
              >
                Disable
              </Button>
            )}
          </div>
        );
      },
    },
  ];

  const runConfirm = async () => {
    if (!confirm) return;
    const u = confirm.user;
    try {
      if (confirm.kind === "reset") {
        const r = await reset.mutateAsync({ id: u.id });
        setSecret({ title: `New password for ${u.email}`, email: u.email, password: r.temporaryPassword });
      } else if (confirm.kind === "signOut") {
        const r = await signOutEverywhere.mutateAsync({ id: u.id });
        toast("success", `${u.email} signed out everywhere (${r.sessionsRevoked} session${r.sessionsRevoked === 1 ? "" : "s"} ended).`);
      } else {
        await setDisabled.mutateAsync({ id: u.id, disabled: true });
        toast("success", `${u.email} disabled and signed out everywhere.`);
      }
    } finally {
      setConfirm(null);
      await refresh();
    }
  };

  return (
    <div>
      <PageHeader
        title="Users"
        description="Everyone who can sign in. Tenant membership is managed on each tenant; operator roles here."
        actions={
          <Button variant="primary" disabledReason={changeReason} onClick={() => setCreating(true)}>
            Create user
          </Button>
        }
      />
      <div className="mb-3 flex items-center gap-3">
        <input
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          placeholder="Filter by name or email"
          aria-label="Filter users"
          className="w-72 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        />
        <select
          aria-label="Role filter"
          value={role}
          onChange={(e) => setRole(e.target.value as typeof role)}
          className="rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        >
          <option value="">Anyone</option>
          <option value="operator">Operators</option>
          <option value="none">Tenant users</option>
        </select>
      </div>
      <DataTable<UserRow, SortKey>
        label="Users"
        columns={columns}
        rows={list.data?.items ?? []}
        sort={sort}
        sortable={userSortKeys}
        onSort={setSort}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No user matches" />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {creating ? (
        <CreateUserDialog
          onClose={() => setCreating(false)}
          onCreated={async (r) => {
            setCreating(false);
            await refresh();
            setSecret({ title: `${r.email} created`, email: r.email, password: r.password });
          }}
        />
      ) : null}
      {secret ? (
        <OneTimeSecret
          title={secret.title}
          label="Temporary password"
          secret={secret.password}
          explanation={`Give this password to ${secret.email} over a safe channel.`}
          onClose={() => setSecret(null)}
        />
      ) : null}
      <ConfirmDialog
        open={!!confirm}
        title={
          confirm?.kind === "reset"
            ? `Reset the password of ${confirm.user.email}?`
            : confirm?.kind === "signOut"
              ? `Sign ${confirm.user.email} out everywhere?`
              : `Disable ${confirm?.user.email ?? ""}?`
        }
        body={
          <p>
            {confirm?.kind === "reset"
              ? "A new temporary password is generated and shown once; the user is signed out everywhere."
              : confirm?.kind === "signOut"
                ? `Every session ${confirm.user.email} has ends now, in every browser, and their open consoles close. They can sign in again; their API tokens keep working (disable the user to stop those too).${self(confirm.user) ? " This includes your own session here." : ""}`
                : "They are signed out everywhere and can't sign in until enabled again; their API tokens stop working."}
          </p>
        }
        confirmLabel={confirm?.kind === "reset" ? "Reset password" : confirm?.kind === "signOut" ? "Sign out everywhere" : "Disable user"}
        busy={reset.isPending || setDisabled.isPending || signOutEverywhere.isPending}
        onConfirm={() => runConfirm().catch(() => {})}
        onClose={() => setConfirm(null)}
      />
    </div>
  );
}

function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (r: { email: string; password: string }) => void }) {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<PlatformRole>(null);
  const [errors, setErrors] = useState<{ email?: string; name?: string }>({});
  const [formError, setFormError] = useState<string | null>(null);
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: (r) => onCreated({ email: r.user.email, password: r.temporaryPassword }),
      onError: (e) => {
        const next: typeof errors = {};
        setFormError(placeErrors(errorInfo(e), ["email", "name"] as const, (f, m) => (next[f] = m)));
        setErrors(next);
      },
    }),
  );
  return (
    <Dialog open onClose={onClose} title="Create user">
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          setErrors({});
          setFormError(null);
          create.mutate({ email, name, platformRole: role });
        }}
      >
        <FormError message={formError} />
        <Field label="Email" error={errors.email}>
          {(p) => <input {...p} type="email" autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />}
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
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create user
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
