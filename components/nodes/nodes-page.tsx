"use client";
// Nodes: the server-side list of hosts (and, on request, their DPU children) with filters, sort and cursor
// pages; row selection with bulk actions whose per-node results open in a dialog; single and CSV enrollment.
// Polls every few seconds while visible so power/state/fault changes appear without a reload.
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useEffect, useState } from "react";
import { useTRPC } from "@/components/trpc";
import { type Action, ActionButtons, Button } from "@/components/ui/button";
import type { SortState } from "@/components/ui/data-table";
import { FilterSearch, FilterSelect, ListView, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { useDebounced } from "@/components/ui/use-cursor-pages";
import { healthValues, nodeSortKeys, powerValues } from "@/db/validation/nodes";
import { PROVISION_STATES } from "@/domain/node-lifecycle";
import { BulkEnrollDialog } from "./bulk-enroll-dialog";
import { EnrollDialog } from "./enroll-dialog";
import { Ago, FaultBadge, HealthBadge, LIVE_MS, MaintenanceBadge, type NodeListRow, PowerBadge, StateBadge, useChangeReason } from "./node-status";
import { type NodeActionKind, useNodeActions } from "./use-node-actions";

type SortKey = (typeof nodeSortKeys)[number];
type Tri = "" | "yes" | "no";
const tri = (v: Tri) => (v === "" ? undefined : v === "yes");

const _selectCls = "rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900";

const BULK: { label: string; action: NodeActionKind; variant?: "danger" }[] = [
  { label: "Power on", action: { kind: "power", action: "on" } },
  { label: "Power off", action: { kind: "power", action: "off" }, variant: "danger" },
  { label: "Reboot", action: { kind: "power", action: "reboot" } },
  { label: "Maintenance on", action: { kind: "maintenanceOn" } },
  { label: "Maintenance off", action: { kind: "maintenanceOff" } },
  { label: "Move to pool", action: { kind: "moveToPool" } },
  { label: "Inspect", action: { kind: "inspect" } },
  { label: "Provide", action: { kind: "transition", event: "provide" } },
];

export function NodesPage() {
  const trpc = useTRPC();
  const changeReason = useChangeReason();
  const pools = useQuery(trpc.pools.list.queryOptions({ limit: 200 }));

  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const [poolId, setPoolId] = useState("");
  const [state, setState] = useState("");
  const [power, setPower] = useState("");
  const [health, setHealth] = useState("");
  const [maintenance, setMaintenance] = useState<Tri>("");
  const [hasDpu, setHasDpu] = useState<Tri>("");
  const [fault, setFault] = useState<Tri>("");
  const [includeChildren, setIncludeChildren] = useState(false);
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "name", dir: "asc" });
  // The yes/no filters: "" is either.
  const yesNoFilters = [
    { label: "Maintenance", value: maintenance, set: setMaintenance, yes: "In maintenance", no: "Not in maintenance" },
    { label: "Fault", value: fault, set: setFault, yes: "Has a fault", no: "No fault" },
    { label: "Has DPU", value: hasDpu, set: setHasDpu, yes: "With DPU", no: "Without DPU" },
  ];
  const filterKey = [dq, poolId, state, power, health, maintenance, hasDpu, fault, includeChildren, sort.key, sort.dir].join("|");
  const filtered = !!(dq || poolId || state || power || health || maintenance || hasDpu || fault);

  const list = useListTable(
    (cursor) =>
      trpc.nodes.list.queryOptions({
        q: dq || undefined,
        poolId: poolId || undefined,
        state: (state || undefined) as (typeof PROVISION_STATES)[number] | undefined,
        power: (power || undefined) as (typeof powerValues)[number] | undefined,
        health: (health || undefined) as (typeof healthValues)[number] | undefined,
        maintenance: tri(maintenance),
        hasDpu: tri(hasDpu),
        fault: tri(fault),
        includeChildren,
        sort: sort.key,
        dir: sort.dir,
        cursor,
      }),
    { resetKey: filterKey, poll: LIVE_MS },
  );
  const rows = list.rows;

  const [selected, setSelected] = useState<Map<string, string>>(new Map());
  // A bulk action applies to what the operator can see: changing the filter or sort clears the selection.
  // biome-ignore lint/correctness/useExhaustiveDependencies: filterKey is the trigger, not a value we read
  useEffect(() => setSelected(new Map()), [filterKey]);
  const toggle = (r: NodeListRow, on: boolean) =>
    setSelected((s) => {
      const n = new Map(s);
      if (on) n.set(r.id, r.name);
      else n.delete(r.id);
      return n;
    });
  const allOnPage = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const actions = useNodeActions({ report: "dialog", onDone: () => setSelected(new Map()) });
  const [enrolling, setEnrolling] = useState<"one" | "csv" | null>(null);
  const enroll: Action = { label: "Enroll node", variant: "primary", disabledReason: changeReason, onClick: () => setEnrolling("one") };
  const bulkEnroll: Action = { label: "Bulk enroll (CSV)", disabledReason: changeReason, onClick: () => setEnrolling("csv") };

  const columns: ColumnDef<NodeListRow, unknown>[] = [
    {
      id: "select",
      header: () => (
        <input
          type="checkbox"
          aria-label="Select all nodes on this page"
          checked={allOnPage}
          onChange={(e) => {
            const on = e.target.checked;
            setSelected((s) => {
              const n = new Map(s);
              for (const r of rows) on ? n.set(r.id, r.name) : n.delete(r.id);
              return n;
            });
          }}
        />
      ),
      cell: ({ row }) => (
        <input
          type="checkbox"
          aria-label={`Select ${row.original.name}`}
          checked={selected.has(row.original.id)}
          onChange={(e) => toggle(row.original, e.target.checked)}
        />
      ),
    },
    {
      id: "name",
      header: "Name",
      cell: ({ row: { original: n } }) => (
        <div className="flex flex-col">
          <Link href={`/ops/nodes/${n.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
            {n.kind === "dpu" ? (
              <span className="mr-1 text-zinc-400" aria-hidden>
                └
              </span>
            ) : null}
            {n.name}
          </Link>
          <span className="text-xs text-zinc-500">
            {n.kind === "dpu"
              ? `DPU of ${n.parentName ?? "?"}${n.bmcAccess === "cascade" ? ` · via host BMC ${n.parentName ?? "?"}` : ""}`
              : [n.cpu, n.memoryGiB ? `${n.memoryGiB} GiB` : null].filter(Boolean).join(" · ")}
          </span>
        </div>
      ),
    },
    { id: "pool", header: "Pool", cell: ({ row }) => row.original.poolName ?? <span className="text-zinc-400">—</span> },
    { id: "provisionState", header: "State", cell: ({ row }) => <StateBadge state={row.original.provisionState} /> },
    { id: "powerState", header: "Power", cell: ({ row }) => <PowerBadge power={row.original.powerState} /> },
    { id: "health", header: "Health", cell: ({ row }) => <HealthBadge health={row.original.health} /> },
    {
      id: "children",
      header: "DPUs",
      cell: ({ row }) =>
        row.original.kind === "dpu" ? <span className="text-zinc-400">—</span> : <span className="tabular-nums">{row.original.children}</span>,
    },
    {
      id: "fault",
      header: "Fault",
      cell: ({ row }) =>
        row.original.fault ? (
          <div className="flex max-w-xs flex-col items-start gap-0.5">
            <FaultBadge fault={row.original.fault} />
            <span className="text-xs text-red-700 dark:text-red-300">{row.original.fault}</span>
          </div>
        ) : (
          <span className="text-zinc-400">—</span>
        ),
    },
    {
      id: "maintenance",
      header: "Maintenance",
      cell: ({ row }) =>
        row.original.maintenance ? (
          <div className="flex max-w-xs flex-col items-start gap-0.5">
            <MaintenanceBadge on reason={row.original.maintenanceReason} />
            <span className="text-xs text-zinc-500">{row.original.maintenanceReason}</span>
          </div>
        ) : (
          <span className="text-zinc-400">—</span>
        ),
    },
    { id: "createdAt", header: "Enrolled", cell: ({ row }) => <Ago at={row.original.createdAt} /> },
  ];

  const targets = [...selected].map(([id, name]) => ({ id, name }));

  return (
    <div>
      <PageHeader title="Nodes" description="Bare-metal hosts and their DPUs, managed through their BMCs." buttons={[bulkEnroll, enroll]} />
      <search className="mb-3 flex flex-wrap items-end gap-3" aria-label="Filter nodes">
        <FilterSearch label="Search" name="Search nodes" value={q} onChange={setQ} placeholder="Name or BMC address" />
        <FilterSelect label="Pool" value={poolId} onChange={setPoolId} options={(pools.data?.items ?? []).map((p) => [p.id, p.name] as [string, string])} />
        <FilterSelect label="State" value={state} onChange={setState} options={PROVISION_STATES} />
        <FilterSelect label="Power" value={power} onChange={setPower} options={powerValues} />
        <FilterSelect label="Health" value={health} onChange={setHealth} options={healthValues} />
        {yesNoFilters.map((f) => (
          <FilterSelect
            key={f.label}
            label={f.label}
            value={f.value}
            onChange={f.set}
            options={[
              ["yes", f.yes],
              ["no", f.no],
            ]}
          />
        ))}
        <label className="flex items-center gap-2 pb-1.5 text-sm">
          <input type="checkbox" checked={includeChildren} onChange={(e) => setIncludeChildren(e.target.checked)} /> Include DPUs
        </label>
      </search>
      {selected.size ? (
        <div
          role="toolbar"
          aria-label="Bulk actions"
          className="mb-3 flex flex-wrap items-center gap-2 rounded-lg border border-sky-200 bg-sky-50 px-3 py-2 dark:border-sky-900 dark:bg-sky-950/40"
        >
          <span className="text-sm font-medium">{selected.size} selected</span>
          {BULK.map((b) => (
            <Button
              key={b.label}
              size="sm"
              variant={b.variant ?? "secondary"}
              disabledReason={changeReason}
              busy={actions.busy && actions.pending?.action === b.action}
              onClick={() => actions.run(b.action, targets)}
            >
              {b.label}
            </Button>
          ))}
          <Button size="sm" variant="ghost" onClick={() => setSelected(new Map())}>
            Clear selection
          </Button>
        </div>
      ) : null}
      <ListView
        list={list}
        label="Nodes"
        columns={columns}
        sort={{ sort, sortable: nodeSortKeys, onSort: setSort }}
        empty={
          filtered
            ? { title: "No node matches the filters", body: "Clear a filter to see more nodes." }
            : {
                title: "No nodes enrolled yet — enroll one or upload a CSV",
                body: "Enrolling checks the BMC first; nothing is stored when it does not answer.",
                action: (
                  <div className="mt-2 flex gap-2">
                    <ActionButtons actions={[enroll, bulkEnroll]} />
                  </div>
                ),
              }
        }
      />
      {enrolling === "one" ? <EnrollDialog onClose={() => setEnrolling(null)} /> : null}
      {enrolling === "csv" ? <BulkEnrollDialog onClose={() => setEnrolling(null)} /> : null}
      {actions.ui}
    </div>
  );
}
