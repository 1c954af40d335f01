"use client";
// Operator console: users — list (filter, role, disabled, sort, cursor pages), create/invite with a temporary
// password shown once, reset password (shown once; sessions revoked), disable/enable, platform role.
// The server refuses an operator admin demoting or disabling themselves; the buttons say so up front.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { columns, ListView, SelectFilter, useListTable, useSort } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { userSortKeys } from "@/db/validation/tenancy";
import { operatorCan, reasonOf } from "@/domain/roles";
import { OneTimeSecret } from "./one-time-secret";
import { UserCreateDialog } from "./user-create";

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
const col = columns<UserRow>();

export function UsersPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const [role, setRole] = useState<"" | "operator" | "none">("");
  const { sort, props: sortProps } = useSort({ key: "email", dir: "asc" }, userSortKeys);
  const list = useListTable((cursor, q) => trpc.users.list.queryOptions({ q, role: role || undefined, sort: sort.key, dir: sort.dir, cursor }), {
    resetKey: [role, sort],
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

  const cols = [
    col.text("name", "Name", (u) => u.name),
    col.cell("email", "Email", (u) => u.email),
    col.cell("role", "Platform role", (u) => {
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
    }),
    col.count("tenants", "Tenants", (u) => u.tenantCount),
    col.cell("status", "Status", (u) => (u.disabled ? "Disabled" : "Active")),
    col.actions((u) => (
      <>
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
      </>
    )),
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
        buttons={[{ label: "Create user", variant: "primary", disabledReason: changeReason, onClick: () => setCreating(true) }]}
      />
      <ListView
        list={list}
        label="Users"
        columns={cols}
        sort={sortProps}
        search={{ label: "Filter users", placeholder: "Filter by name or email", width: "w-72" }}
        bar="mb-3 flex items-center gap-3"
        filters={
          <SelectFilter
            label="Role filter"
            value={role}
            onChange={setRole}
            options={[
              ["", "Anyone"],
              ["operator", "Operators"],
              ["none", "Tenant users"],
            ]}
          />
        }
        empty={{ title: "No user matches" }}
      />
      {creating ? (
        <UserCreateDialog
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
