"use client";
// A node's event log on its page: its SEL entries (read from the BMC into hardware_events) and its other events, with
// those of its DPUs, newest first, filtered by severity on the server; updated live (use-live-events.ts).
import { useState } from "react";
import { eventColumns } from "@/components/events/events-page";
import { useLiveHardwareEvents } from "@/components/events/use-live-events";
import { useTRPC } from "@/components/trpc";
import { DataTable } from "@/components/ui/data-table";
import { FilterSelect, useListTable } from "@/components/ui/list-table";
import { EmptyState } from "@/components/ui/page";
import { EventDelivery } from "./event-delivery";

const SEVERITIES = ["critical", "warning", "ok", "info"] as const;
const KINDS = ["sel", "power", "health", "fault", "agent", "firmware", "lifecycle", "console"] as const;
type Severity = (typeof SEVERITIES)[number];
type Kind = (typeof KINDS)[number];

export function NodeEvents({ nodeId }: { nodeId: string }) {
  const trpc = useTRPC();
  useLiveHardwareEvents();
  const [sev, setSev] = useState<Severity[]>([]);
  const [kind, setKind] = useState<Kind | "">("");
  const list = useListTable(
    (cursor) => trpc.events.list.queryOptions({ nodeId, severity: sev.length ? sev : undefined, kind: kind || undefined, dir: "desc", cursor }),
    { resetKey: [nodeId, sev, kind], poll: 30_000 },
  );
  return (
    <section aria-label="Event log" className="mt-6 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <h2 className="mb-3 text-sm font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400">Event log</h2>
      <EventDelivery nodeId={nodeId} />
      <search aria-label="Filter the event log" className="mb-3 flex flex-wrap items-end gap-3">
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
      </search>
      <DataTable
        label="Event log"
        columns={eventColumns}
        {...list.table}
        empty={
          sev.length || kind ? (
            <EmptyState title="No event matches the filters" body="Clear a severity or the kind." />
          ) : (
            <EmptyState title="No events yet" body="BMC log entries, power and health changes and faults of this node appear here." />
          )
        }
      />
    </section>
  );
}
