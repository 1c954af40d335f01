"use client";
// Webhooks of a tenant (its admins) or of the platform (operators): the endpoints with their events and last delivery,
// add (the signing secret is shown once), enable/disable, send a test, delete after confirmation; and a webhook's
// deliveries with attempts and the endpoint's last answer, a failed one sent again on request.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { placeErrors } from "@/components/tenancy/one-time-secret";
import { OneTimeSecret } from "@/components/tenancy/one-time-secret";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages } from "@/components/ui/use-cursor-pages";

interface HookRow {
  id: string;
  name: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: Date;
  lastDelivery: { status: string; responseStatus: number | null; error: string | null; at: string } | null;
}

interface DeliveryRow {
  id: string;
  type: string;
  status: string;
  attempts: number;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  lastAttemptAt: Date | null;
  createdAt: Date;
}

const EVENT_LABELS: Record<string, string> = {
  "instance.state_changed": "An instance changes state",
  "operation.succeeded": "An operation succeeds",
  "operation.failed": "An operation fails",
  "operation.cancelled": "An operation is cancelled",
  "node.fault": "A node's fault is raised or cleared",
};

const tone = (status: string) => (status === "delivered" ? "green" : status === "failed" ? "red" : "amber");

/** Both routers have the same procedures; the tenant's take the tenant slug too. */
function useWebhooksApi(tenant: string | null) {
  const trpc = useTRPC();
  const r = (tenant ? trpc.webhooks : trpc.platformWebhooks) as unknown as typeof trpc.webhooks;
  const withTenant = <T extends object>(input: T) => ({ ...input, tenant: tenant ?? "" }) as T & { tenant: string };
  return { r, withTenant };
}

export function WebhooksPage({ tenant }: { tenant: string | null }) {
  const { r, withTenant } = useWebhooksApi(tenant);
  const qc = useQueryClient();
  const toast = useToast();
  const pages = useCursorPages("");
  const list = useQuery({ ...r.list.queryOptions(withTenant({ cursor: pages.cursor })), placeholderData: (p) => p, refetchInterval: 5000 });
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [deleting, setDeleting] = useState<HookRow | null>(null);
  const [viewing, setViewing] = useState<HookRow | null>(null);
  const refresh = () => qc.invalidateQueries(r.pathFilter());
  const del = useMutation(
    r.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `Webhook ${deleting?.name} deleted.`);
        setDeleting(null);
        await refresh();
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const update = useMutation(
    r.update.mutationOptions({
      onSuccess: async (w) => {
        toast("success", `Webhook ${w.name} ${w.enabled ? "enabled" : "disabled"}.`);
        await refresh();
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const test = useMutation(
    r.test.mutationOptions({
      onSuccess: async () => {
        toast("success", "Test delivery sent; its result shows under Deliveries.");
        await refresh();
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const columns: ColumnDef<HookRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "url", header: "Endpoint", cell: ({ row }) => <code className="text-xs break-all">{row.original.url}</code> },
    { id: "events", header: "Events", cell: ({ row }) => <span className="text-xs">{row.original.events.join(", ")}</span> },
    { id: "enabled", header: "State", cell: ({ row }) => (row.original.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="zinc">disabled</Badge>) },
    {
      id: "last",
      header: "Last delivery",
      cell: ({ row }) => {
        const d = row.original.lastDelivery;
        if (!d) return <span className="text-xs text-zinc-500">none yet</span>;
        return (
          <span className="text-xs">
            <Badge tone={tone(d.status)}>{d.status}</Badge> {d.responseStatus ? `HTTP ${d.responseStatus}` : (d.error ?? "")}
          </span>
        );
      },
    },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => {
        const w = row.original;
        return (
          <div className="flex flex-wrap justify-end gap-1">
            <Button size="sm" aria-label={`Deliveries of ${w.name}`} onClick={() => setViewing(w)}>
              Deliveries
            </Button>
            <Button size="sm" aria-label={`Send a test to ${w.name}`} disabled={!w.enabled} title={w.enabled ? undefined : "Enable the webhook first"} onClick={() => test.mutate(withTenant({ id: w.id }))}>
              Send test
            </Button>
            <Button size="sm" aria-label={`${w.enabled ? "Disable" : "Enable"} ${w.name}`} onClick={() => update.mutate(withTenant({ id: w.id, enabled: !w.enabled }))}>
              {w.enabled ? "Disable" : "Enable"}
            </Button>
            <Button size="sm" variant="danger" aria-label={`Delete webhook ${w.name}`} onClick={() => setDeleting(w)}>
              Delete
            </Button>
          </div>
        );
      },
    },
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
        actions={
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add webhook
          </Button>
        }
      />
      <DataTable<HookRow, string>
        label="Webhooks"
        columns={columns}
        rows={(list.data?.items ?? []) as HookRow[]}
        loading={list.isFetching && !list.data}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No webhooks yet" body="Add one to have Anvil tell your systems when instances change state or operations end." />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor) }}
      />
      {adding ? <AddWebhookDialog tenant={tenant} onClose={() => setAdding(false)} onCreated={(name, s) => setSecret({ name, secret: s })} /> : null}
      {secret ? (
        <OneTimeSecret
          title={`Webhook ${secret.name} added`}
          label="Signing secret"
          secret={secret.secret}
          explanation="Verify each delivery: HMAC-SHA256 of “<t>.<body>” with this secret must equal v1 in the Anvil-Signature header (t is the timestamp in it)."
          onClose={() => setSecret(null)}
        />
      ) : null}
      {viewing ? <DeliveriesDialog tenant={tenant} hook={viewing} onClose={() => setViewing(null)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete webhook ${deleting?.name ?? ""}?`}
        body={<p>No more events go to {deleting?.url}. Its delivery history is deleted with it.</p>}
        confirmLabel="Delete webhook"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate(withTenant({ id: deleting.id }))}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

interface FormValues {
  name: string;
  url: string;
  events: string[];
}

function AddWebhookDialog({ tenant, onClose, onCreated }: { tenant: string | null; onClose: () => void; onCreated: (name: string, secret: string) => void }) {
  const { r, withTenant } = useWebhooksApi(tenant);
  const qc = useQueryClient();
  const events = useQuery(r.events.queryOptions(withTenant({})));
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<FormValues>({ defaultValues: { name: "", url: "https://", events: ["instance.state_changed"] } });
  const create = useMutation(
    r.create.mutationOptions({
      onSuccess: async (w) => {
        await qc.invalidateQueries(r.pathFilter());
        onClose();
        onCreated(w.name, w.secret);
      },
      onError: (e) => setSubmitError(placeErrors(errorInfo(e), ["name", "url", "events"] as const, (f, m) => form.setError(f, { message: m }))),
    }),
  );
  const close = () => {
    if (form.formState.isDirty && !create.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  return (
    <Dialog open wide onClose={close} title="Add webhook">
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={form.handleSubmit((v) => {
          setSubmitError(null);
          create.mutate(withTenant({ name: v.name, url: v.url, events: v.events }));
        })}
      >
        <FormError message={submitError} />
        <Field label="Name" error={form.formState.errors.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field label="Endpoint URL" hint="An https:// URL Anvil can reach; it must answer 2xx within 10 s." error={form.formState.errors.url}>
          {(p) => <input {...p} type="url" {...form.register("url")} />}
        </Field>
        <fieldset className="flex flex-col gap-1">
          <legend className="mb-1 text-sm font-medium">Events</legend>
          {(events.data ?? []).map((e) => (
            <label key={e} className="flex items-center gap-2 text-sm">
              <input type="checkbox" value={e} {...form.register("events")} />
              {EVENT_LABELS[e] ?? e} <code className="text-xs text-zinc-500">{e}</code>
            </label>
          ))}
          {form.formState.errors.events ? (
            <p role="alert" className="text-xs text-red-600">
              {form.formState.errors.events.message}
            </p>
          ) : null}
        </fieldset>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Add webhook
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function DeliveriesDialog({ tenant, hook, onClose }: { tenant: string | null; hook: HookRow; onClose: () => void }) {
  const { r, withTenant } = useWebhooksApi(tenant);
  const qc = useQueryClient();
  const toast = useToast();
  const pages = useCursorPages(hook.id);
  const list = useQuery({ ...r.deliveries.queryOptions(withTenant({ id: hook.id, cursor: pages.cursor })), placeholderData: (p) => p, refetchInterval: 2000 });
  const again = useMutation(
    r.redeliver.mutationOptions({
      onSuccess: async () => {
        toast("success", "Sent again.");
        await qc.invalidateQueries(r.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const columns: ColumnDef<DeliveryRow, unknown>[] = [
    { id: "at", header: "When", cell: ({ row }) => new Date(row.original.lastAttemptAt ?? row.original.createdAt).toLocaleString() },
    { id: "type", header: "Event", cell: ({ row }) => <code className="text-xs">{row.original.type}</code> },
    { id: "status", header: "Status", cell: ({ row }) => <Badge tone={tone(row.original.status)}>{row.original.status}</Badge> },
    { id: "attempts", header: "Attempts", cell: ({ row }) => row.original.attempts },
    {
      id: "answer",
      header: "Last answer",
      cell: ({ row }) => (
        <span className="text-xs">
          {row.original.responseStatus ? `HTTP ${row.original.responseStatus}` : ""} {row.original.error ?? ""}
          {row.original.responseBody ? <code className="block max-w-xs truncate text-zinc-500">{row.original.responseBody}</code> : null}
        </span>
      ),
    },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) =>
        row.original.status === "failed" ? (
          <Button size="sm" aria-label={`Send delivery ${row.original.id} again`} onClick={() => again.mutate(withTenant({ id: hook.id, deliveryId: row.original.id }))}>
            Send again
          </Button>
        ) : null,
    },
  ];
  return (
    <Dialog open wide onClose={onClose} title={`Deliveries of ${hook.name}`}>
      <DataTable<DeliveryRow, string>
        label={`Deliveries of ${hook.name}`}
        columns={columns}
        rows={(list.data?.items ?? []) as DeliveryRow[]}
        loading={list.isFetching && !list.data}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No deliveries yet" body="Events this webhook subscribes to will show here; Send test makes one now." />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor) }}
      />
      <div className="mt-3 flex justify-end">
        <Button onClick={onClose}>Close</Button>
      </div>
    </Dialog>
  );
}
