"use client";
// Operator console: tenants list (filter by name/slug and state, sort, cursor pages) and "Create tenant".
// Each row links to the tenant's detail page (members, quota, suspend/resume, delete).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { columns, ListView, SelectFilter, useListTable, useSort } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { tenantSortKeys } from "@/db/validation/tenancy";
import { operatorCan, reasonOf } from "@/domain/roles";
import { TenantCreateDialog } from "./tenant-create";

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  state: "active" | "suspended";
  memberCount: number;
  createdAt: Date;
}
const col = columns<TenantRow>();

export function StateBadge({ state }: { state: "active" | "suspended" }) {
  return (
    <span
      className={`rounded-full px-2 py-0.5 text-xs ${state === "active" ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200" : "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200"}`}
    >
      {state === "active" ? "Active" : "Suspended"}
    </span>
  );
}

export function TenantsPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const [state, setState] = useState<"" | "active" | "suspended">("");
  const { sort, props: sortProps } = useSort({ key: "name", dir: "asc" }, tenantSortKeys);
  const list = useListTable((cursor, q) => trpc.tenants.list.queryOptions({ q, state: state || undefined, sort: sort.key, dir: sort.dir, cursor }), {
    resetKey: [state, sort],
  });
  const [creating, setCreating] = useState(false);
  const cols = [
    col.link(
      "name",
      "Name",
      (t) => t.name,
      (t) => `/ops/tenants/${t.id}`,
    ),
    col.code("slug", "Slug", (t) => t.slug),
    col.cell("state", "State", (t) => <StateBadge state={t.state} />),
    col.count("members", "Members", (t) => t.memberCount),
    col.date("createdAt", "Created", (t) => t.createdAt),
  ];
  const filtered = list.search.dq || state;
  return (
    <div>
      <PageHeader
        title="Tenants"
        description="Each tenant has its own members, VPCs, servers and quota."
        buttons={[{ label: "Create tenant", variant: "primary", disabledReason: changeReason, onClick: () => setCreating(true) }]}
      />
      <ListView
        list={list}
        label="Tenants"
        columns={cols}
        sort={sortProps}
        search={{ label: "Filter tenants", placeholder: "Filter by name or slug", width: "w-72" }}
        bar="mb-3 flex items-center gap-3"
        filters={
          <SelectFilter
            label="State"
            value={state}
            onChange={setState}
            options={[
              ["", "Any state"],
              ["active", "Active"],
              ["suspended", "Suspended"],
            ]}
          />
        }
        empty={filtered ? { title: "No tenant matches the filter" } : { title: "No tenants yet", body: "Create the first tenant." }}
      />
      {creating ? <TenantCreateDialog onClose={() => setCreating(false)} /> : null}
    </div>
  );
}
