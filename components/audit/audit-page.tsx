"use client";
// The audit log: who changed what, when, newest first; filter by text and action, cursor pages.
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { DataTable } from "@/components/ui/data-table";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";

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

export function AuditPage() {
  const trpc = useTRPC();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const pages = useCursorPages(dq);
  const list = useQuery({ ...trpc.audit.list.queryOptions({ q: dq || undefined, cursor: pages.cursor }), placeholderData: (p) => p });
  const columns: ColumnDef<Row, unknown>[] = [
    { id: "at", header: "When", cell: ({ row }) => <time dateTime={new Date(row.original.at).toISOString()}>{new Date(row.original.at).toLocaleString()}</time> },
    { id: "actor", header: "Who", cell: ({ row }) => row.original.actorEmail ?? <span className="text-zinc-500">system</span> },
    { id: "action", header: "Action", cell: ({ row }) => <code className="text-xs">{row.original.action}</code> },
    {
      id: "target",
      header: "Target",
      cell: ({ row }) => (
        <span>
          <span className="text-zinc-500">{row.original.targetType}</span> {row.original.targetName}
        </span>
      ),
    },
    { id: "tenant", header: "Tenant", cell: ({ row }) => row.original.tenantName ?? "—" },
    {
      id: "details",
      header: "Details",
      cell: ({ row }) =>
        row.original.details ? <code className="block max-w-md truncate text-xs text-zinc-500">{JSON.stringify(row.original.details)}</code> : null,
    },
  ];
  return (
    <div>
      <PageHeader title="Audit" description="Every change, who made it and when." />
      <input
        type="search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        placeholder="Filter by person, action or target"
        aria-label="Filter audit events"
        className="mb-3 w-80 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
      />
      <DataTable<Row, string>
        label="Audit events"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No audit events" body={dq ? `Nothing matches “${dq}”.` : "Changes will be listed here."} />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
    </div>
  );
}
