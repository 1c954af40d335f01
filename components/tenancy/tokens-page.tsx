"use client";
// The signed-in user's API tokens: create (scope = one of your tenants with a role no wider than yours, or your
// operator role; lifetime up to a year; the token shown once), list with status and last use, revoke.
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { useDone } from "@/components/ui/use-done";
import { OneTimeSecret } from "./one-time-secret";
import { TokenCreateDialog } from "./token-create";

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
const col = columns<TokenRow>();

export function TokensPage() {
  const trpc = useTRPC();
  const done = useDone();
  const list = useListTable((cursor) => trpc.apiTokens.list.queryOptions({ cursor }), { pageSummary: false });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const revoke = useConfirmAction({
    mutation: (o) => trpc.apiTokens.revoke.mutationOptions(o),
    vars: (t: TokenRow) => ({ id: t.id }),
    success: (t) => `Token ${t.name} revoked.`,
    invalidate: trpc.apiTokens.pathFilter(),
  });
  const cols = [
    col.text("name", "Name", (t) => t.name),
    col.code("scope", "Scope", (t) => t.platformRole ?? `${t.tenantSlug}: ${t.tenantRole}`),
    col.cell("status", "Status", (t) => t.status),
    col.cell("expiresAt", "Expires", (t) => new Date(t.expiresAt).toLocaleDateString()),
    col.cell("lastUsedAt", "Last used", (t) => (t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : "Never")),
    col.buttons((t) => [
      {
        label: "Revoke",
        variant: "danger",
        name: `Revoke token ${t.name}`,
        disabledReason: t.status === "active" ? null : `This token is already ${t.status}.`,
        onClick: () => revoke.ask(t),
      },
    ]),
  ];
  return (
    <div>
      <PageHeader
        title="API tokens"
        description="Tokens let scripts call the Anvil API as you (Authorization: Bearer <token>), limited to one tenant and role, or to your operator role."
        buttons={[{ label: "Create token", variant: "primary", onClick: () => setCreating(true) }]}
      />
      <ListView list={list} label="API tokens" columns={cols} empty={{ title: "No API tokens yet", body: "Create one for a script or CI job." }} />
      {creating ? (
        <TokenCreateDialog
          onClose={() => setCreating(false)}
          onCreated={async (t) => {
            setCreating(false);
            setCreated(t);
            await done(null, trpc.apiTokens.pathFilter());
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
      <ConfirmAction
        of={revoke}
        title={(t) => `Revoke token ${t.name}?`}
        body={() => <p>Anything using it stops working at once. This cannot be undone.</p>}
        confirmLabel="Revoke token"
      />
    </div>
  );
}
