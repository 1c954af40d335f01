"use client";
// The signed-in user's API tokens: create (scope = one of your tenants with a role no wider than yours, or your
// operator role; lifetime up to a year; the token shown once), list with status and last use, revoke.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages } from "@/components/ui/use-cursor-pages";
import { OneTimeSecret, placeErrors } from "./one-time-secret";

interface TokenRow {
  id: string;
  name: string;
  tenantSlug: string | null;
  tenantRole: string | null;
  platformRole: string | null;
  expiresAt: Date;
  lastUsedAt: Date | null;
  createdAt: Date;
  status: "active" | "expired" | "revoked";
}

export function TokensPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const pages = useCursorPages("");
  const list = useQuery({ ...trpc.apiTokens.list.queryOptions({ cursor: pages.cursor }), placeholderData: (p) => p });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<TokenRow | null>(null);
  const revoke = useMutation(
    trpc.apiTokens.revoke.mutationOptions({
      onSuccess: async () => {
        toast("success", `Token ${revoking?.name} revoked.`);
        setRevoking(null);
        await qc.invalidateQueries(trpc.apiTokens.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const columns: ColumnDef<TokenRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    {
      id: "scope",
      header: "Scope",
      cell: ({ row }) => <code className="text-xs">{row.original.platformRole ?? `${row.original.tenantSlug}: ${row.original.tenantRole}`}</code>,
    },
    { id: "status", header: "Status", cell: ({ row }) => row.original.status },
    { id: "expiresAt", header: "Expires", cell: ({ row }) => new Date(row.original.expiresAt).toLocaleDateString() },
    { id: "lastUsedAt", header: "Last used", cell: ({ row }) => (row.original.lastUsedAt ? new Date(row.original.lastUsedAt).toLocaleString() : "Never") },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end">
          <Button
            size="sm"
            variant="danger"
            aria-label={`Revoke token ${row.original.name}`}
            disabledReason={row.original.status === "active" ? null : `This token is already ${row.original.status}.`}
            onClick={() => setRevoking(row.original)}
          >
            Revoke
          </Button>
        </div>
      ),
    },
  ];
  return (
    <div>
      <PageHeader
        title="API tokens"
        description="Tokens let scripts call the Anvil API as you (Authorization: Bearer <token>), limited to one tenant and role, or to your operator role."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create token
          </Button>
        }
      />
      <DataTable<TokenRow, string>
        label="API tokens"
        columns={columns}
        rows={(list.data?.items ?? []) as TokenRow[]}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No API tokens yet" body="Create one for a script or CI job." />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor) }}
      />
      {creating ? (
        <CreateTokenDialog
          onClose={() => setCreating(false)}
          onCreated={async (t) => {
            setCreating(false);
            setCreated(t);
            await qc.invalidateQueries(trpc.apiTokens.pathFilter());
          }}
        />
      ) : null}
      {created ? (
        <OneTimeSecret
          title={`Token ${created.name} created`}
          label="API token"
          secret={created.token}
          explanation="Store it in your script's secret store now. Anvil keeps only a hash of it."
          onClose={() => setCreated(null)}
        />
      ) : null}
      <ConfirmDialog
        open={!!revoking}
        title={`Revoke token ${revoking?.name ?? ""}?`}
        body={<p>Anything using it stops working at once. This cannot be undone.</p>}
        confirmLabel="Revoke token"
        busy={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate({ id: revoking.id })}
        onClose={() => setRevoking(null)}
      />
    </div>
  );
}

function CreateTokenDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (t: { name: string; token: string }) => void }) {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const [name, setName] = useState("");
  const [days, setDays] = useState(90);
  const [scope, setScope] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const create = useMutation(
    trpc.apiTokens.create.mutationOptions({
      onSuccess: (r) => onCreated({ name: r.name, token: r.token }),
      onError: (e) => {
        const next: Record<string, string> = {};
        setFormError(placeErrors(errorInfo(e), ["name", "expiresInDays", "scope.tenant", "scope.role"] as const, (f, m) => (next[f] = m)));
        setErrors(next);
      },
    }),
  );
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
    <Dialog open onClose={onClose} title="Create API token">
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          setErrors({});
          setFormError(null);
          const [kind, a, b] = chosen.split(":");
          const s =
            kind === "p"
              ? ({ kind: "platform", role: a as "operator-admin" | "operator-viewer" } as const)
              : ({ kind: "tenant", tenant: a ?? "", role: b as "tenant-admin" | "tenant-member" } as const);
          create.mutate({ name, expiresInDays: days, scope: s });
        }}
      >
        <FormError message={formError} />
        <Field label="Name" error={errors.name}>
          {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Scope" error={errors["scope.tenant"] ?? errors["scope.role"]}>
          {(p) => (
            <select {...p} value={chosen} onChange={(e) => setScope(e.target.value)}>
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Expires in (days)" hint="At most 365 days." error={errors.expiresInDays}>
          {(p) => <input {...p} type="number" min={1} max={365} value={days} onChange={(e) => setDays(Number(e.target.value))} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending} disabledReason={options.length ? null : "You have no tenant or operator role to scope a token to."}>
            Create token
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
