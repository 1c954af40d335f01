"use client";
// Tenant instances: compute quota at a glance, the list (filter by name and state, cursor pages, refreshing by itself
// while anything is in a transitional state), and the way to the create wizard. Each name opens the instance's page.
// The state filter is also the page's ?state= (the tenant home links each count there).
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { DataTable } from "@/components/ui/data-table";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { inputCls, UsageMeter } from "@/components/storage/shared";
import type { InstanceState } from "@/domain/instance-rules";

/** Every state an instance can be in (db/schema/compute.ts instance_state), for the state filter. */
const INSTANCE_STATES: InstanceState[] = ["creating", "running", "starting", "stopping", "stopped", "rebooting", "rebuilding", "recovering", "deleting", "failed", "deleted"];

export const TRANSITIONAL = new Set(["creating", "starting", "stopping", "rebooting", "rebuilding", "recovering", "deleting"]);

const tones: Record<string, BadgeTone> = {
  running: "green",
  stopped: "zinc",
  failed: "red",
  deleted: "zinc",
};
export function InstanceStateBadge({ state, reason }: { state: string; reason?: string | null }) {
  return (
    <Badge tone={tones[state] ?? (TRANSITIONAL.has(state) ? "amber" : "zinc")} title={reason ? `${state}: ${reason}` : `State: ${state}`}>
      {state}
    </Badge>
  );
}

export interface InstanceRow {
  id: string;
  name: string;
  state: string;
  stateReason: string | null;
  poolName: string;
  imageName: string | null;
  address: string | null;
  systemVolumeSizeGiB: number;
  createdAt: Date;
}

export function ComputeUsage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.quotas.get.queryOptions({ tenant }));
  if (!q.data) return null;
  const { limits, usage } = q.data;
  return (
    <section aria-label="Compute quota" className="mb-4 flex flex-wrap gap-3">
      <UsageMeter label="Instances" used={usage.instances ?? 0} limit={limits.instances} />
      <UsageMeter label="Cores" used={usage.cores ?? 0} limit={limits.cores} />
      <UsageMeter label="RAM" used={usage.ramGiB ?? 0} limit={limits.ramGiB} unit=" GiB" />
    </section>
  );
}

export function InstancesPage({ tenant, initialState }: { tenant: string; initialState?: InstanceState }) {
  const trpc = useTRPC();
  const [q, setQ] = useState("");
  const [state, setState] = useState<InstanceState | "">(initialState ?? "");
  const dq = useDebounced(q);
  const pages = useCursorPages(`${dq}|${state}`);
  const list = useQuery({
    ...trpc.instances.list.queryOptions({ tenant, q: dq || undefined, state: state || undefined, cursor: pages.cursor }),
    placeholderData: (p) => p,
    // Follow creates, stops and deletes as they happen, without a reload.
    refetchInterval: (query) => (query.state.data?.items.some((i) => TRANSITIONAL.has(i.state)) ? 1000 : 10_000),
  });
  const base = `/t/${encodeURIComponent(tenant)}/instances`;
  const create = (
    <Link href={`${base}/new`} className="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700 dark:bg-sky-500 dark:text-zinc-950">
      Create instance
    </Link>
  );
  const columns: ColumnDef<InstanceRow, unknown>[] = [
    {
      id: "name",
      header: "Name",
      cell: ({ row }) => (
        <Link href={`${base}/${row.original.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {row.original.name}
        </Link>
      ),
    },
    { id: "state", header: "State", cell: ({ row }) => <InstanceStateBadge state={row.original.state} reason={row.original.stateReason} /> },
    { id: "address", header: "Address", cell: ({ row }) => <span className="font-mono text-xs">{row.original.address ?? "—"}</span> },
    { id: "pool", header: "Pool", cell: ({ row }) => row.original.poolName },
    { id: "image", header: "Image", cell: ({ row }) => row.original.imageName ?? "—" },
    { id: "disk", header: "System disk", cell: ({ row }) => <span className="tabular-nums">{row.original.systemVolumeSizeGiB} GiB</span> },
    { id: "createdAt", header: "Created", cell: ({ row }) => new Date(row.original.createdAt).toLocaleString() },
  ];
  return (
    <div>
      <PageHeader title="Instances" description="Bare-metal servers booted from cloud disks through their DPU: no install, no local disk." actions={create} />
      <ComputeUsage tenant={tenant} />
      <div className="mb-3 flex flex-wrap gap-3">
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Filter by name" aria-label="Filter instances" className={`w-80 ${inputCls}`} />
        <select
          aria-label="Filter by state"
          value={state}
          onChange={(e) => {
            const next = e.target.value as InstanceState | "";
            setState(next);
            const url = new URL(window.location.href);
            if (next) url.searchParams.set("state", next);
            else url.searchParams.delete("state");
            window.history.replaceState(null, "", url);
          }}
          className={inputCls}
        >
          <option value="">All states</option>
          {INSTANCE_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <DataTable<InstanceRow, string>
        label="Instances"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching && !list.data}
        error={list.error ? errorInfo(list.error).message : null}
        empty={
          <EmptyState
            title={dq || state ? "No instance matches the filter" : "No instances yet"}
            body={dq || state ? undefined : "Pick a pool, an image and a subnet: the server is running in about the time its OS takes to boot."}
            action={dq || state ? undefined : create}
          />
        }
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
    </div>
  );
}
