"use client";
// Tenant instances: compute quota at a glance, the list (filter, cursor pages, refreshing by itself while anything
// is in a transitional state), and the way to the create wizard. Each name opens the instance's page.
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

export function InstancesPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const pages = useCursorPages(dq);
  const list = useQuery({
    ...trpc.instances.list.queryOptions({ tenant, q: dq || undefined, cursor: pages.cursor }),
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
      <div className="mb-3">
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Filter by name" aria-label="Filter instances" className={`w-80 ${inputCls}`} />
      </div>
      <DataTable<InstanceRow, string>
        label="Instances"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching && !list.data}
        error={list.error ? errorInfo(list.error).message : null}
        empty={
          <EmptyState
            title={dq ? "No instance matches the filter" : "No instances yet"}
            body={dq ? undefined : "Pick a pool, an image and a subnet: the server is running in about the time its OS takes to boot."}
            action={dq ? undefined : create}
          />
        }
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
    </div>
  );
}
