"use client";
// Webhooks of a tenant (its admins) or of the platform (operators): the endpoints with their events and last delivery,
// add (the signing secret is shown once), enable/disable, send a test, delete after confirmation; and a webhook's
// deliveries with attempts and the endpoint's last answer, a failed one sent again on request.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { OneTimeSecret } from "@/components/tenancy/one-time-secret";
import { errorInfo } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useDone } from "@/components/ui/use-done";
import { WebhookAddDialog } from "./webhook-add";
import { WebhookDeliveriesDialog } from "./webhook-deliveries";
import { tone, useWebhooksApi } from "./webhooks-api";

interface HookRow {
  id: string;
  name: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: Date;
  lastDelivery: { status: string; responseStatus: number | null; error: string | null; at: string } | null;
}
const col = columns<HookRow>();

export function WebhooksPage({ tenant }: { tenant: string | null }) {
  const { r, withTenant } = useWebhooksApi(tenant);
  const done = useDone();
  const toast = useToast();
  const list = useListTable((cursor) => r.list.queryOptions(withTenant({ cursor })), { poll: 5000, pageSummary: false });
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [viewing, setViewing] = useState<HookRow | null>(null);
  const onError = (e: unknown) => toast("error", errorInfo(e).message);
  const del = useConfirmAction({
    mutation: (o) => r.delete.mutationOptions(o),
    vars: (w: HookRow) => withTenant({ id: w.id }),
    success: (w) => `Webhook ${w.name} deleted.`,
    invalidate: r.pathFilter(),
  });
  const update = useMutation(
    r.update.mutationOptions({ onSuccess: (w) => done(`Webhook ${w.name} ${w.enabled ? "enabled" : "disabled"}.`, r.pathFilter()), onError }),
  );
  const test = useMutation(
    r.test.mutationOptions({ onSuccess: () => done("Test delivery sent; its result shows under Deliveries.", r.pathFilter()), onError }),
  );
  const cols = [
    col.text("name", "Name", (w) => w.name),
    col.cell("url", "Endpoint", (w) => <code className="text-xs break-all">{w.url}</code>),
    col.cell("events", "Events", (w) => <span className="text-xs">{w.events.join(", ")}</span>),
    col.cell("enabled", "State", (w) => (w.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="zinc">disabled</Badge>)),
    col.cell("last", "Last delivery", (w) => {
      const d = w.lastDelivery;
      if (!d) return <span className="text-xs text-zinc-500">none yet</span>;
      return (
        <span className="text-xs">
          <Badge tone={tone(d.status)}>{d.status}</Badge> {d.responseStatus ? `HTTP ${d.responseStatus}` : (d.error ?? "")}
        </span>
      );
    }),
    col.actions((w) => (
      <div className="flex flex-wrap justify-end gap-1">
        <Button size="sm" aria-label={`Deliveries of ${w.name}`} onClick={() => setViewing(w)}>
          Deliveries
        </Button>
        <Button
          size="sm"
          aria-label={`Send a test to ${w.name}`}
          disabled={!w.enabled}
          title={w.enabled ? undefined : "Enable the webhook first"}
          onClick={() => test.mutate(withTenant({ id: w.id }))}
        >
          Send test
        </Button>
        <Button
          size="sm"
          aria-label={`${w.enabled ? "Disable" : "Enable"} ${w.name}`}
          onClick={() => update.mutate(withTenant({ id: w.id, enabled: !w.enabled }))}
        >
          {w.enabled ? "Disable" : "Enable"}
        </Button>
        <Button size="sm" variant="danger" aria-label={`Delete webhook ${w.name}`} onClick={() => del.ask(w)}>
          Delete
        </Button>
      </div>
    )),
  ];
  return (
    <div>
      <PageHeader
        title="Webhooks"
        description={
          tenant
            ? "Anvil POSTs your tenant's events to these HTTPS endpoints, signed with each webhook's secret (header Anvil-Signature), retrying with backoff until they answer 2xx."
            : "Platform webhooks receive every tenant's events and the fleet's node faults, signed and retried like tenants' webhooks."
        }
        buttons={[{ label: "Add webhook", variant: "primary", onClick: () => setAdding(true) }]}
      />
      <ListView
        list={list}
        label="Webhooks"
        columns={cols}
        empty={{ title: "No webhooks yet", body: "Add one to have Anvil tell your systems when instances change state or operations end." }}
      />
      {adding ? <WebhookAddDialog tenant={tenant} onClose={() => setAdding(false)} onCreated={(name, s) => setSecret({ name, secret: s })} /> : null}
      {secret ? (
        <OneTimeSecret
          title={`Webhook ${secret.name} added`}
          label="Signing secret"
          secret={secret.secret}
          explanation="Verify each delivery: HMAC-SHA256 of “<t>.<body>” with this secret must equal v1 in the Anvil-Signature header (t is the timestamp in it)."
          onClose={() => setSecret(null)}
        />
      ) : null}
      {viewing ? <WebhookDeliveriesDialog tenant={tenant} hook={viewing} onClose={() => setViewing(null)} /> : null}
      <ConfirmAction
        of={del}
        title={(w) => `Delete webhook ${w.name}?`}
        body={(w) => <p>No more events go to {w.url}. Its delivery history is deleted with it.</p>}
        confirmLabel="Delete webhook"
      />
    </div>
  );
}
