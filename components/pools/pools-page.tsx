"use client";
// Pools: server-side list (filter, sort, cursor pages), create/edit in a dialog, delete after confirmation.
// Viewers see every button, disabled with the reason.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable, type SortState } from "@/components/ui/data-table";
import { ConfirmDialog } from "@/components/ui/dialog";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { poolSortKeys } from "@/db/validation/pools";
import { operatorCan, reasonOf } from "@/domain/roles";
import { PoolFormDialog, type PoolRow } from "./pool-form";

type SortKey = (typeof poolSortKeys)[number];

export function PoolsPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";

  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "name", dir: "asc" });
  const pages = useCursorPages(`${dq}|${sort.key}|${sort.dir}`);
  const list = useQuery({
    ...trpc.pools.list.queryOptions({ q: dq || undefined, sort: sort.key, dir: sort.dir, cursor: pages.cursor }),
    placeholderData: (prev) => prev,
  });

  const [editing, setEditing] = useState<PoolRow | "new" | null>(null);
  const [deleting, setDeleting] = useState<PoolRow | null>(null);
  const del = useMutation(
    trpc.pools.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `Pool ${deleting?.name} deleted.`);
        setDeleting(null);
        await qc.invalidateQueries(trpc.pools.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );

  const columns: ColumnDef<PoolRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "resourceClass", header: "Resource class", cell: ({ row }) => <code className="text-xs">{row.original.resourceClass}</code> },
    { id: "nodeCount", header: "Hosts", cell: ({ row }) => <span className="tabular-nums">{row.original.nodeCount}</span> },
    { id: "description", header: "Description", cell: ({ row }) => <span className="text-zinc-600 dark:text-zinc-400">{row.original.description}</span> },
    { id: "createdAt", header: "Created", cell: ({ row }) => new Date(row.original.createdAt).toLocaleString() },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end gap-2">
          <Button size="sm" aria-label={`Edit pool ${row.original.name}`} disabledReason={changeReason} onClick={() => setEditing(row.original)}>
            Edit
          </Button>
          <Button
            size="sm"
            variant="danger"
            aria-label={`Delete pool ${row.original.name}`}
            disabledReason={
              changeReason ??
              (row.original.nodeCount > 0 ? `Pool has ${row.original.nodeCount} host(s); move or delete them first.` : null)
            }
            onClick={() => setDeleting(row.original)}
          >
            Delete
          </Button>
        </div>
      ),
    },
  ];

  return (
    <div>
      <PageHeader
        title="Pools"
        description="A pool is a named set of hosts of one hardware class; tenants provision from pools."
        actions={
          <Button variant="primary" disabledReason={changeReason} onClick={() => setEditing("new")}>
            Create pool
          </Button>
        }
      />
      <div className="mb-3 flex items-center gap-3">
        <label className="flex items-center gap-2 text-sm">
          <span className="sr-only">Filter pools</span>
          <input
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            placeholder="Filter by name, class or description"
            aria-label="Filter pools"
            className="w-80 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
        </label>
      </div>
      <DataTable<PoolRow, SortKey>
        label="Pools"
        columns={columns}
        rows={list.data?.items ?? []}
        sort={sort}
        sortable={poolSortKeys}
        onSort={setSort}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={
          dq ? (
            <EmptyState title="No pool matches the filter" body={`Nothing matches “${dq}”.`} />
          ) : (
            <EmptyState title="No pools yet" body="Create a pool to group hosts of one hardware class." />
          )
        }
        page={{
          hasPrev: pages.hasPrev,
          hasNext: !!list.data?.nextCursor,
          onPrev: pages.prev,
          onNext: () => pages.next(list.data?.nextCursor),
          summary: `Page ${pages.pageIndex + 1}`,
        }}
      />
      {editing ? <PoolFormDialog pool={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete pool ${deleting?.name ?? ""}?`}
        body={<p>The pool is removed for good. This cannot be undone.</p>}
        confirmLabel="Delete pool"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}
