"use client";
// Invitations to join a tenant, on both sides. TenantInvitations: a tenant admin's pending invitations on the members
// page, each revocable after a confirmation. MyInvitations: the signed-in person's own pending invitations with
// Accept (they become a member and land in that tenant) and Decline (after a confirmation). InvitationsNotice: the
// tenant portal's banner pointing at them. The server's reasons (expired, withdrawn) show as toasts.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { useToast } from "@/components/ui/toast";

type Role = "tenant-admin" | "tenant-member";
const roleLabel: Record<Role, string> = { "tenant-admin": "tenant admin", "tenant-member": "tenant member" };
const day = (d: Date) => d.toISOString().slice(0, 10);

interface PendingRow {
  id: string;
  email: string;
  role: Role;
  status: string;
  invitedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}
const col = columns<PendingRow>();

/** A tenant admin's view: who has been invited and not answered yet. */
export function TenantInvitations({ slug, tenantName }: { slug: string; tenantName: string }) {
  const trpc = useTRPC();
  const list = useListTable((cursor) => trpc.invitations.list.queryOptions({ tenant: slug, cursor }), { resetKey: slug });
  const revoke = useConfirmAction({
    mutation: (o) => trpc.invitations.revoke.mutationOptions(o),
    vars: (r: PendingRow) => ({ tenant: slug, id: r.id }),
    success: (r) => `Invitation of ${r.email} revoked.`,
    invalidate: trpc.invitations.pathFilter(),
  });
  const cols = [
    col.text("email", "Email", (r) => r.email),
    col.cell("role", "Role", (r) => (r.role === "tenant-admin" ? "Tenant admin" : "Tenant member")),
    col.cell("invitedBy", "Invited by", (r) => r.invitedBy ?? "—"),
    col.cell("status", "Status", (r) => (r.status === "expired" ? `Expired on ${day(r.expiresAt)}` : `Pending until ${day(r.expiresAt)}`)),
    col.buttons((r) => [{ label: "Revoke", variant: "danger", name: `Revoke the invitation of ${r.email}`, onClick: () => revoke.ask(r) }]),
  ];
  return (
    <section aria-labelledby="pending-invitations" className="flex flex-col gap-3">
      <h2 id="pending-invitations" className="text-base font-semibold">
        Pending invitations
      </h2>
      <ListView
        list={list}
        label="Pending invitations"
        columns={cols}
        empty={{ title: "No pending invitations", body: "People you invite show here until they accept or decline." }}
      />
      <ConfirmAction
        of={revoke}
        title={(r) => `Revoke the invitation of ${r.email}?`}
        body={() => <p>They can no longer use it to join {tenantName}. You can invite them again later.</p>}
        confirmLabel="Revoke invitation"
      />
    </section>
  );
}

interface MineRow {
  id: string;
  tenantName: string;
  tenantSlug: string;
  role: Role;
  invitedByName: string | null;
  expiresAt: Date;
}

/** The signed-in person's pending invitations, to accept or decline. Renders `empty` when there are none. */
export function MyInvitations({ empty }: { empty?: React.ReactNode }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const mine = useQuery(trpc.invitations.mine.queryOptions({}));
  const [declining, setDeclining] = useState<MineRow | null>(null);
  const onError = async (e: unknown) => {
    toast("error", errorInfo(e).message);
    await qc.invalidateQueries(trpc.invitations.pathFilter());
  };
  const accept = useMutation(
    trpc.invitations.accept.mutationOptions({
      // A full load: the portal's layout reads the new membership on the server.
      onSuccess: (r) => window.location.assign(`/t/${r.tenant.slug}`),
      onError,
    }),
  );
  const decline = useMutation(
    trpc.invitations.decline.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Invitation to ${r.tenant.name} declined.`);
        setDeclining(null);
        await qc.invalidateQueries(trpc.invitations.pathFilter());
      },
      onError: async (e) => {
        setDeclining(null);
        await onError(e);
      },
    }),
  );
  const rows = (mine.data?.items ?? []) as MineRow[];
  if (mine.isPending) return <p className="text-sm text-zinc-500">Looking for invitations…</p>;
  if (mine.error)
    return (
      <p role="alert" className="text-sm text-red-700 dark:text-red-400">
        {errorInfo(mine.error).message}
      </p>
    );
  if (rows.length === 0) return <>{empty ?? null}</>;
  return (
    <section aria-labelledby="my-invitations" className="flex w-full max-w-xl flex-col gap-3 text-left">
      <h2 id="my-invitations" className="text-lg font-semibold">
        Invitations
      </h2>
      <ul className="flex flex-col gap-2">
        {rows.map((inv) => (
          <li
            key={inv.id}
            aria-label={`Invitation to ${inv.tenantName}`}
            className="flex flex-wrap items-center justify-between gap-3 rounded-md border border-zinc-200 px-4 py-3 dark:border-zinc-800"
          >
            <div className="text-sm">
              <p>
                <span className="font-medium">{inv.tenantName}</span> invites you as {roleLabel[inv.role]}.
              </p>
              <p className="text-xs text-zinc-500">
                {inv.invitedByName ? `Invited by ${inv.invitedByName}; ` : ""}answer by {day(inv.expiresAt)}.
              </p>
            </div>
            <div className="flex gap-2">
              <Button
                variant="primary"
                size="sm"
                aria-label={`Accept the invitation to ${inv.tenantName}`}
                busy={accept.isPending && accept.variables?.id === inv.id}
                onClick={() => accept.mutate({ id: inv.id })}
              >
                Accept
              </Button>
              <Button size="sm" aria-label={`Decline the invitation to ${inv.tenantName}`} onClick={() => setDeclining(inv)}>
                Decline
              </Button>
            </div>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={!!declining}
        title={`Decline the invitation to ${declining?.tenantName ?? ""}?`}
        body={<p>You won't join {declining?.tenantName}. Its admins can invite you again.</p>}
        confirmLabel="Decline invitation"
        busy={decline.isPending}
        onConfirm={() => declining && decline.mutate({ id: declining.id })}
        onClose={() => setDeclining(null)}
      />
    </section>
  );
}

/** The tenant portal's banner when the signed-in person has invitations to other tenants waiting. */
export function InvitationsNotice() {
  const trpc = useTRPC();
  const mine = useQuery(trpc.invitations.mine.queryOptions({}));
  const n = mine.data?.items.length ?? 0;
  if (n === 0) return null;
  return (
    <div
      role="status"
      className="mb-4 rounded-md border border-sky-300 bg-sky-50 px-4 py-2 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100"
    >
      You have {n === 1 ? "an invitation" : `${n} invitations`} to join {n === 1 ? "another tenant" : "other tenants"}.{" "}
      <Link href="/account/invitations" className="font-medium underline">
        Review invitations
      </Link>
    </div>
  );
}
