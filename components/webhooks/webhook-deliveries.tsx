"use client";
// A webhook's deliveries: attempts and the endpoint's last answer, a failed one sent again on request.
import { useMutation } from "@tanstack/react-query";
import { errorInfo } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { columns, useListTable } from "@/components/ui/list-table";
import { EmptyState } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useDone } from "@/components/ui/use-done";
import { tone, useWebhooksApi } from "./webhooks-api";

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
const col = columns<DeliveryRow>();

export function WebhookDeliveriesDialog({ tenant, hook, onClose }: { tenant: string | null; hook: { id: string; name: string }; onClose: () => void }) {
  const { r, withTenant } = useWebhooksApi(tenant);
  const done = useDone();
  const toast = useToast();
  const list = useListTable((cursor) => r.deliveries.queryOptions(withTenant({ id: hook.id, cursor })), { resetKey: hook.id, poll: 2000, pageSummary: false });
  const again = useMutation(
    r.redeliver.mutationOptions({ onSuccess: () => done("Sent again.", r.pathFilter()), onError: (e) => toast("error", errorInfo(e).message) }),
  );
  const cols = [
    col.cell("at", "When", (d) => new Date(d.lastAttemptAt ?? d.createdAt).toLocaleString()),
    col.code("type", "Event", (d) => d.type),
    col.cell("status", "Status", (d) => <Badge tone={tone(d.status)}>{d.status}</Badge>),
    col.cell("attempts", "Attempts", (d) => d.attempts),
    col.cell("answer", "Last answer", (d) => (
      <span className="text-xs">
        {d.responseStatus ? `HTTP ${d.responseStatus}` : ""} {d.error ?? ""}
        {d.responseBody ? <code className="block max-w-xs truncate text-zinc-500">{d.responseBody}</code> : null}
      </span>
    )),
    col.actions((d) =>
      d.status === "failed" ? (
        <Button size="sm" aria-label={`Send delivery ${d.id} again`} onClick={() => again.mutate(withTenant({ id: hook.id, deliveryId: d.id }))}>
          Send again
        </Button>
      ) : null,
    ),
  ];
  return (
    <Dialog open wide onClose={onClose} title={`Deliveries of ${hook.name}`}>
      <DataTable
        label={`Deliveries of ${hook.name}`}
        columns={cols}
        {...list.table}
        rows={list.rows as DeliveryRow[]}
        empty={<EmptyState title="No deliveries yet" body="Events this webhook subscribes to will show here; Send test makes one now." />}
      />
      <div className="mt-3 flex justify-end">
        <Button onClick={onClose}>Close</Button>
      </div>
    </Dialog>
  );
}
