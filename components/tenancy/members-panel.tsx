"use client";
// Members of one tenant: list, change role, remove; tenant admins invite by e-mail (the person joins when they
// accept; a name creates an account for an address without one, its temporary password shown once) and see and
// revoke pending invitations; operators, on a tenant's detail page, add an existing user or a new one directly. The
// server enforces the same rules (last admin stays) and its reasons show as toasts or form errors.
import { type QueryKey, type UseQueryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { columns, ListView, useListTable } from "@/components/ui/list-table";
import { useToast } from "@/components/ui/toast";
import { TenantInvitations } from "./invitations-panel";
import { MemberAddDialog } from "./member-add";
import { OneTimeSecret } from "./one-time-secret";

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

const col = columns<MemberRow>();
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
  // One list, from the portal's procedure or the operators' one.
  const list = useListTable(
    (
      cursor,
      q,
    ): UseQueryOptions<
      { items: MemberRow[]; nextCursor: string | null; adminCount?: number },
      unknown,
      { items: MemberRow[]; nextCursor: string | null; adminCount?: number },
      QueryKey
    > =>
      scope.kind === "tenant"
        ? (trpc.members.list.queryOptions({ q, cursor, tenant: scope.slug }) as never)
        : (trpc.tenants.members.queryOptions({ q, cursor, id: scope.id }) as never),
  );
  const dq = list.search.dq;
  const admins = scope.kind === "tenant" ? list.data?.adminCount : adminCount;

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

  const cols = [
    col.text("name", "Name", (m) => m.name),
    col.cell("email", "Email", (m) => m.email),
    col.cell("role", "Role", (m) => (
      <select
        aria-label={`Role of ${m.email}`}
        value={m.role}
        disabled={!!canManage}
        title={canManage ?? undefined}
        onChange={(e) => setRole(m, e.target.value as Role).catch(() => {})}
        className="rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
      >
        <option value="tenant-admin">Tenant admin</option>
        <option value="tenant-member">Tenant member</option>
      </select>
    )),
    col.cell("status", "Status", (m) => (m.disabled ? "Disabled" : "Active")),
    col.buttons((m) => [
      { label: "Remove", variant: "danger", name: `Remove ${m.email}`, disabledReason: canManage ?? lastAdmin(m), onClick: () => setRemoving(m) },
    ]),
  ];

  return (
    <section aria-label="Members" className="flex flex-col gap-3">
      <ListView
        list={list}
        label="Members"
        columns={cols}
        search={{ label: "Filter members", placeholder: "Filter by name or email", width: "w-72" }}
        bar="flex items-center justify-between gap-3"
        filters={
          <Button variant="primary" disabledReason={canManage} onClick={() => setAdding(true)}>
            {scope.kind === "tenant" ? "Invite member" : "Add member"}
          </Button>
        }
        empty={dq ? { title: "No member matches the filter", body: `Nothing matches “${dq}”.` } : { title: "No members yet", body: "Add the first member." }}
      />
      {adding ? (
        <MemberAddDialog
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
