"use client";
// The audit log: who changed what, when, newest first; filter by text and action, cursor pages.
import { useTRPC } from "@/components/trpc";
import { columns, ListView, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";

interface Row {
  id: string;
  at: Date;
  actorEmail: string | null;
  action: string;
  targetType: string;
  targetName: string | null;
  tenantName: string | null;
  details: Record<string, unknown> | null;
}
const col = columns<Row>();
const cols = [
  col.cell("at", "When", (r) => <time dateTime={new Date(r.at).toISOString()}>{new Date(r.at).toLocaleString()}</time>),
  col.cell("actor", "Who", (r) => r.actorEmail ?? <span className="text-zinc-500">system</span>),
  col.code("action", "Action", (r) => r.action),
  col.cell("target", "Target", (r) => (
    <span>
      <span className="text-zinc-500">{r.targetType}</span> {r.targetName}
    </span>
  )),
  col.cell("tenant", "Tenant", (r) => r.tenantName ?? "—"),
  col.cell("details", "Details", (r) =>
    r.details ? <code className="block max-w-md truncate text-xs text-zinc-500">{JSON.stringify(r.details)}</code> : null,
  ),
];

export function AuditPage() {
  const trpc = useTRPC();
  const list = useListTable((cursor, q) => trpc.audit.list.queryOptions({ q, cursor }));
  return (
    <div>
      <PageHeader title="Audit" description="Every change, who made it and when." />
      <ListView
        list={list}
        label="Audit events"
        columns={cols}
        search={{ label: "Filter audit events", placeholder: "Filter by person, action or target" }}
        empty={{ title: "No audit events", body: list.search.dq ? `Nothing matches “${list.search.dq}”.` : "Changes will be listed here." }}
      />
    </div>
  );
}
