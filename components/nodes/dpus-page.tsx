"use client";
// DPUs: every DPU with its host, model, firmware/OS versions (from the firmware inventory read at inspection),
// agent status and last heartbeat, BMC health and power. Server-side filters, sort and cursor pages; polls while
// visible.
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import type { SortState } from "@/components/ui/data-table";
import { PageHeader } from "@/components/ui/page";
import { FilterSearch, FilterSelect, ListView, useListTable } from "@/components/ui/list-table";
import { useDebounced } from "@/components/ui/use-cursor-pages";
import { healthValues, nodeSortKeys, powerValues } from "@/db/validation/nodes";
import { firmwareOf } from "./node-dialogs";
import { Ago, FaultBadge, HealthBadge, LIVE_MS, type NodeListRow, PowerBadge } from "./node-status";

type SortKey = (typeof nodeSortKeys)[number];
const _selectCls = "rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900";
// The versions operators compare across the fleet, in this order; other components follow.
const KEY_COMPONENTS = ["DPU_OS", "DPU_ATF", "DPU_NIC", "BMC_Firmware"];

function ModelCell({ row }: { row: NodeListRow }) {
  const { manufacturer: maker, model } = row;
  // Vendors often repeat their name in the model ("Nvidia" + "NVIDIA BlueField-3…"): say it once.
  const text = model && maker && model.toLowerCase().startsWith(maker.toLowerCase()) ? model : [maker, model].filter(Boolean).join(" ");
  return <span>{text || "—"}</span>;
}

function FirmwareCell({ row }: { row: NodeListRow }) {
  const fw = firmwareOf({ firmware: row.firmware });
  if (!fw.length) return <span className="text-xs text-zinc-500">not inspected</span>;
  const sorted = [...fw].sort((a, b) => ((KEY_COMPONENTS.indexOf(a.id) + 99) % 99) - ((KEY_COMPONENTS.indexOf(b.id) + 99) % 99));
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-2 text-xs">
      {sorted.map((f) => (
        <div key={f.id} className="contents">
          <dt className="text-zinc-500">{f.id}</dt>
          <dd className="font-mono">{f.version}</dd>
        </div>
      ))}
    </dl>
  );
}

const agentTone = (s: string | null) =>
  s === "ok" || s === "online" || s === "up" ? "green" : s === "lost" || s === "offline" || s === "down" ? "red" : "zinc";

export function DpusPage() {
  const trpc = useTRPC();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const [power, setPower] = useState("");
  const [health, setHealth] = useState("");
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "name", dir: "asc" });
  const list = useListTable(
    (cursor) =>
      trpc.nodes.list.queryOptions({
        kind: "dpu",
        q: dq || undefined,
        power: (power || undefined) as (typeof powerValues)[number] | undefined,
        health: (health || undefined) as (typeof healthValues)[number] | undefined,
        sort: sort.key,
        dir: sort.dir,
        cursor,
      }),
    { resetKey: [dq, power, health, sort], poll: LIVE_MS },
  );

  const columns: ColumnDef<NodeListRow, unknown>[] = [
    {
      id: "name",
      header: "DPU",
      cell: ({ row }) => (
        <Link href={`/ops/nodes/${row.original.id}`} className="font-medium whitespace-nowrap text-sky-700 hover:underline dark:text-sky-400">
          {row.original.name}
        </Link>
      ),
    },
    {
      id: "host",
      header: "Host",
      cell: ({ row }) =>
        row.original.parentNodeId ? (
          <Link href={`/ops/nodes/${row.original.parentNodeId}`} className="whitespace-nowrap text-sky-700 hover:underline dark:text-sky-400">
            {row.original.parentName}
          </Link>
        ) : (
          <span className="text-zinc-400">—</span>
        ),
    },
    { id: "model", header: "Model", cell: ({ row }) => <ModelCell row={row.original} /> },
    { id: "firmware", header: "Firmware / OS", cell: ({ row }) => <FirmwareCell row={row.original} /> },
    {
      id: "agent",
      header: "Agent",
      cell: ({ row }) => (
        <div className="flex flex-col gap-0.5 text-xs">
          <Badge tone={agentTone(row.original.agentStatus)}>{row.original.agentStatus ?? (row.original.agentUrl ? "unknown" : "none")}</Badge>
          <span className="text-zinc-500">
            heartbeat <Ago at={row.original.agentHeartbeatAt} />
          </span>
        </div>
      ),
    },
    {
      id: "health",
      header: "BMC health",
      cell: ({ row }) => (
        <div className="flex flex-wrap gap-1">
          <HealthBadge health={row.original.health} />
          <FaultBadge fault={row.original.fault} />
        </div>
      ),
    },
    { id: "powerState", header: "Power", cell: ({ row }) => <PowerBadge power={row.original.powerState} /> },
  ];

  return (
    <div>
      <PageHeader title="DPUs" description="Data processing units found by inspecting their hosts: firmware, agent heartbeat, BMC health and power." />
      <search aria-label="Filter DPUs" className="mb-3 flex flex-wrap items-end gap-3">
        <FilterSearch label="Search" name="Search DPUs" value={q} onChange={setQ} placeholder="Name or BMC address" />
        <FilterSelect label="Power" value={power} onChange={setPower} options={powerValues} />
        <FilterSelect label="BMC health" value={health} onChange={setHealth} options={healthValues} />
      </search>
      <ListView
        list={list}
        label="DPUs"
        columns={columns}
        sort={{ sort, sortable: nodeSortKeys, onSort: setSort }}
        empty={
          dq || power || health
            ? { title: "No DPU matches the filters", body: "Clear a filter to see more." }
            : {
                title: "No DPUs yet",
                body: "DPUs are discovered when a host is inspected, or enrolled with their host.",
                action: (
                  <Link href="/ops/nodes" className="text-sm text-sky-700 underline dark:text-sky-400">
                    Go to nodes
                  </Link>
                ),
              }
        }
      />
    </div>
  );
}
