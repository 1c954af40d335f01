"use client";
// Pools: server-side list (filter, sort, cursor pages), create/edit in a dialog, delete after confirmation.
// Viewers see every button, disabled with the reason.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable, useSort } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { poolSortKeys } from "@/db/validation/pools";
import { operatorCan, reasonOf } from "@/domain/roles";
import { PoolEditDialog, type PoolRow } from "./pool-edit";
import { PoolTraitsDialog } from "./pool-traits";

const col = columns<PoolRow>();

export function PoolsPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";

  const { sort, props: sortProps } = useSort({ key: "name", dir: "asc" }, poolSortKeys);
  const list = useListTable((cursor, q) => trpc.pools.list.queryOptions({ q, sort: sort.key, dir: sort.dir, cursor }), {
    resetKey: sort,
  });

  const [editing, setEditing] = useState<PoolRow | "new" | null>(null);
  const [traitsOf, setTraitsOf] = useState<PoolRow | null>(null);
  const del = useConfirmAction({
    mutation: (o) => trpc.pools.delete.mutationOptions(o),
    vars: (p: PoolRow) => ({ id: p.id }),
    success: (p) => `Pool ${p.name} deleted.`,
    invalidate: trpc.pools.pathFilter(),
  });

  const cols = [
    col.text("name", "Name", (p) => p.name),
    col.code("resourceClass", "Resource class", (p) => p.resourceClass),
    col.count("nodeCount", "Hosts", (p) => p.nodeCount),
    col.muted("description", "Description", (p) => p.description),
    col.muted("requiredTraits", "Required traits", (p) => p.requiredTraits.join(", ")),
    col.date("createdAt", "Created", (p) => p.createdAt),
    col.buttons((p) => [
      { label: "Edit", name: `Edit pool ${p.name}`, disabledReason: changeReason, onClick: () => setEditing(p) },
      { label: "Traits", name: `Required traits of pool ${p.name}`, disabledReason: changeReason, onClick: () => setTraitsOf(p) },
      {
        label: "Delete",
        variant: "danger",
        name: `Delete pool ${p.name}`,
        disabledReason: changeReason ?? (p.nodeCount > 0 ? `Pool has ${p.nodeCount} host(s); move or delete them first.` : null),
        onClick: () => del.ask(p),
      },
    ]),
  ];

  return (
    <div>
      <PageHeader
        title="Pools"
        description="A pool is a named set of hosts of one hardware class; tenants provision from pools."
        buttons={[{ label: "Create pool", variant: "primary", disabledReason: changeReason, onClick: () => setEditing("new") }]}
      />
      <ListView
        list={list}
        label="Pools"
        columns={cols}
        sort={sortProps}
        search={{ label: "Filter pools", placeholder: "Filter by name, class or description" }}
        bar="mb-3 flex items-center gap-3"
        empty={
          list.search.dq
            ? { title: "No pool matches the filter", body: `Nothing matches “${list.search.dq}”.` }
            : { title: "No pools yet", body: "Create a pool to group hosts of one hardware class." }
        }
      />
      {traitsOf ? <PoolTraitsDialog pool={traitsOf} onClose={() => setTraitsOf(null)} /> : null}
      {editing ? <PoolEditDialog pool={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
      <ConfirmAction
        of={del}
        title={(p) => `Delete pool ${p.name}?`}
        body={() => <p>The pool is removed for good. This cannot be undone.</p>}
        confirmLabel="Delete pool"
      />
    </div>
  );
}
