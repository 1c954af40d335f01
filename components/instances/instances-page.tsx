"use client";
import { Options } from "@/components/ui/form";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { columns, ListView, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { inputCls, QueriedMeters } from "@/components/storage/shared";
import { INSTANCE_STATES, type InstanceState, TRANSIENT_STATES } from "@/domain/instance-lifecycle";

/** The states a workflow owns (the transition table's transient states): shown as under way, polled fast. */
export const TRANSITIONAL = TRANSIENT_STATES;

const tones: Record<string, BadgeTone> = {
  running: "green",
  stopped: "zinc",
  failed: "red",
  // Booted from a rescue disk: it needs the tenant (unrescue) before it is itself again.
  rescue: "violet",
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
const col = columns<InstanceRow>();

export function ComputeUsage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  return (
    <QueriedMeters
      label="Compute quota"
      query={trpc.quotas.get.queryOptions({ tenant })}
      meters={({ limits, usage }) => [
        { label: "Instances", used: usage.instances ?? 0, limit: limits.instances },
        { label: "Cores", used: usage.cores ?? 0, limit: limits.cores },
        { label: "RAM", used: usage.ramGiB ?? 0, limit: limits.ramGiB, unit: " GiB" },
      ]}
    />
  );
}

export function InstancesPage({ tenant, initialState }: { tenant: string; initialState?: InstanceState }) {
  const trpc = useTRPC();
  const [state, setState] = useState<InstanceState | "">(initialState ?? "");
  const list = useListTable((cursor, q) => trpc.instances.list.queryOptions({ tenant, q, state: state || undefined, cursor }), {
    resetKey: state,
    // Follow creates, stops and deletes as they happen, without a reload.
    poll: (data) => (data?.items.some((i) => TRANSITIONAL.has(i.state)) ? 1000 : 10_000),
  });
  const dq = list.search.dq;
  const base = `/t/${encodeURIComponent(tenant)}/instances`;
  const create = (
    <Link href={`${base}/new`} className="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700 dark:bg-sky-500 dark:text-zinc-950">
      Create instance
    </Link>
  );
  const cols = [
    col.link(
      "name",
      "Name",
      (i) => i.name,
      (i) => `${base}/${i.id}`,
    ),
    col.cell("state", "State", (i) => <InstanceStateBadge state={i.state} reason={i.stateReason} />),
    col.cell("address", "Address", (i) => <span className="font-mono text-xs">{i.address ?? "—"}</span>),
    col.cell("pool", "Pool", (i) => i.poolName),
    col.cell("image", "Image", (i) => i.imageName ?? "—"),
    col.count("disk", "System disk", (i) => `${i.systemVolumeSizeGiB} GiB`),
    col.date("createdAt", "Created", (i) => i.createdAt),
  ];
  return (
    <div>
      <PageHeader title="Instances" description="Bare-metal servers booted from cloud disks through their DPU: no install, no local disk." actions={create} />
      <ComputeUsage tenant={tenant} />
      <ListView
        list={list}
        label="Instances"
        columns={cols}
        search={{ label: "Filter instances", placeholder: "Filter by name" }}
        bar="mb-3 flex flex-wrap gap-3"
        filters={
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
            <Options of={INSTANCE_STATES} value={(s) => s} label={(s) => s} />
          </select>
        }
        empty={
          dq || state
            ? { title: "No instance matches the filter" }
            : {
                title: "No instances yet",
                body: "Pick a pool, an image and a subnet: the server is running in about the time its OS takes to boot.",
                action: create,
              }
        }
      />
    </div>
  );
}
