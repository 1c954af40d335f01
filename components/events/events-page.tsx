"use client";
// Events: hardware events newest first, filtered on the server by node (a text match, or one node and its DPUs
// from ?node=<id>), severity (several), kind and time range; cursor pages; refreshed as soon as new events are recorded
// (use-live-events.ts), and every 5 s while visible as the fallback.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { SeverityBadge } from "@/components/nodes/node-status";
import { useTRPC } from "@/components/trpc";
import { DataTable } from "@/components/ui/data-table";
import { columns, FilterSearch, FilterSelect, useListTable } from "@/components/ui/list-table";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useDebounced } from "@/components/ui/use-cursor-pages";
import type { EventLike } from "./events-table";
import { useLiveHardwareEvents } from "./use-live-events";

const SEVERITIES = ["critical", "warning", "ok", "info"] as const;
const KINDS = ["sel", "power", "health", "fault", "agent", "firmware", "lifecycle", "console"] as const;
type Severity = (typeof SEVERITIES)[number];
type Kind = (typeof KINDS)[number];
const col = columns<EventLike>();
/** The events table's columns (also the node page's "Event log", components/nodes/node-events.tsx). */
export const eventColumns = [
  col.cell("at", "Time", (e) => {
    const at = new Date(e.at);
    return (
      <time dateTime={at.toISOString()} className="whitespace-nowrap tabular-nums">
        {at.toLocaleString()}
      </time>
    );
  }),
  col.cell("node", "Node", (e) => (
    <Link href={`/ops/nodes/${e.nodeId}`} className="whitespace-nowrap text-sky-700 hover:underline dark:text-sky-400">
      {e.nodeName}
    </Link>
  )),
  col.cell("severity", "Severity", (e) => <SeverityBadge severity={e.severity} />),
  col.code("kind", "Kind", (e) => e.kind),
  col.cell("message", "Message", (e) => e.message),
];

const inputCls = "rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900";

/** datetime-local text → Date, or undefined when empty or not a time. */
function toDate(v: string): Date | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function EventsPage({ nodeId: initialNodeId }: { nodeId?: string }) {
  const trpc = useTRPC();
  useLiveHardwareEvents();
  const [nodeId, setNodeId] = useState(initialNodeId);
  const node = useQuery({ ...trpc.nodes.get.queryOptions({ id: nodeId ?? "" }), enabled: !!nodeId });
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const [sev, setSev] = useState<Severity[]>([]);
  const [kind, setKind] = useState<Kind | "">("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const fromD = toDate(from);
  const toD = toDate(to);
  const rangeError = fromD && toD && fromD > toD ? "“From” is after “to”." : null;
  const filtered = !!(nodeId || dq || sev.length || kind || fromD || toD);

  const list = useListTable(
    (cursor) => ({
      ...trpc.events.list.queryOptions({
        nodeId,
        q: dq || undefined,
        severity: sev.length ? sev : undefined,
        kind: kind || undefined,
        from: fromD,
        to: toD,
        dir: "desc",
        cursor,
      }),
      enabled: !rangeError,
    }),
    { resetKey: [nodeId, dq, sev, kind, from, to], poll: 5000 },
  );

  return (
    <div>
      <PageHeader title="Events" description="SEL entries, power and health changes, faults, agent heartbeats and lifecycle steps, newest first." />
      <search aria-label="Filter events" className="mb-3 flex flex-wrap items-end gap-3">
        {nodeId ? (
          <div className="flex flex-col gap-0.5 text-xs text-zinc-600 dark:text-zinc-400">
            Node
            <span className="flex items-center gap-2 rounded-md border border-sky-300 bg-sky-50 px-2 py-1.5 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100">
              {node.data?.name ?? "…"} and its DPUs
              <button
                type="button"
                aria-label="Clear the node filter"
                className="rounded px-1 hover:bg-sky-100 dark:hover:bg-sky-900"
                onClick={() => setNodeId(undefined)}
              >
                ✕
              </button>
            </span>
          </div>
        ) : null}
        <FilterSearch
          label="Node or message"
          name="Search events by node name or message"
          value={q}
          onChange={setQ}
          placeholder="e.g. node-0003"
          className={`${inputCls} w-56`}
        />
        <fieldset className="flex flex-col gap-0.5 text-xs text-zinc-600 dark:text-zinc-400">
          <legend>Severity</legend>
          <div className="flex gap-3 py-1.5 text-sm text-zinc-900 dark:text-zinc-100">
            {SEVERITIES.map((s) => (
              <label key={s} className="flex items-center gap-1">
                <input type="checkbox" checked={sev.includes(s)} onChange={(e) => setSev((v) => (e.target.checked ? [...v, s] : v.filter((x) => x !== s)))} />
                {s}
              </label>
            ))}
          </div>
        </fieldset>
        <FilterSelect label="Kind" value={kind} onChange={setKind} options={KINDS} />
        <label className="flex flex-col gap-0.5 text-xs text-zinc-600 dark:text-zinc-400">
          From
          <input type="datetime-local" aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)} className={inputCls} />
        </label>
        <label className="flex flex-col gap-0.5 text-xs text-zinc-600 dark:text-zinc-400">
          To
          <input type="datetime-local" aria-label="To" value={to} onChange={(e) => setTo(e.target.value)} className={inputCls} />
        </label>
      </search>
      <DataTable
        label="Events"
        columns={eventColumns}
        {...list.table}
        error={rangeError ?? list.table.error}
        empty={
          filtered ? (
            <EmptyState title="No event matches the filters" body="Widen the time range or clear a filter." />
          ) : (
            <EmptyState title="No events yet" body="Events appear when nodes are enrolled, change power or health, or log to their BMC." />
          )
        }
      />
    </div>
  );
}
