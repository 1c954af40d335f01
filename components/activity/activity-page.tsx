"use client";
// A tenant's Activity page: its audit log (every change to the tenant's resources and who made it; filter by action,
// person and day) and its operations (long-running work with status and progress; filter by status and day). Both
// are server-side cursor pages (`activity.log`, `activity.operations`); the operations refresh while any runs.
import { useQuery } from "@tanstack/react-query";
import { Options } from "@/components/ui/form";
import type { inferRouterOutputs } from "@trpc/server";
import { useId, useState } from "react";
import { inputCls } from "@/components/storage/shared";
import { useTRPC } from "@/components/trpc";
import { columns, ListView, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import type { AppRouter } from "@/server/api/root";
import { OperationStatusBadge, OperationStep, TargetLink, UNDER_WAY, When } from "./shared";

type Outputs = inferRouterOutputs<AppRouter>["activity"];
type LogRow = Outputs["log"]["items"][number];
type OperationRow = Outputs["operations"]["items"][number];
export type ActivityTab = "log" | "operations";
const logCol = columns<LogRow>();
const opCol = columns<OperationRow>();

const OPERATION_STATUSES = ["pending", "running", "cancelling", "succeeded", "failed", "cancelled"] as const;

/** A day from a date input as the start (or end) of that day in the browser's time zone. */
function day(v: string, end: boolean): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  const d = new Date(`${v}T${end ? "23:59:59.999" : "00:00:00.000"}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function Filter({ label, children }: { label: string; children: (id: string) => React.ReactNode }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1 text-xs text-zinc-600 dark:text-zinc-400">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

/** A filter picking one of `options`, or none ("" shown as `any`). */
function Choice({
  label,
  value,
  onChange,
  any,
  options = [],
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  any: string;
  options?: readonly string[];
}) {
  return (
    <Filter label={label}>
      {(id) => (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} className={inputCls}>
          <option value="">{any}</option>
          <Options of={options} value={(o) => o} label={(o) => o} />
        </select>
      )}
    </Filter>
  );
}

function DayRange({ from, to, setFrom, setTo }: { from: string; to: string; setFrom: (v: string) => void; setTo: (v: string) => void }) {
  return (
    <>
      <Filter label="From">
        {(id) => <input id={id} type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)} className={inputCls} />}
      </Filter>
      <Filter label="To">
        {(id) => <input id={id} type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} className={inputCls} />}
      </Filter>
    </>
  );
}

function AuditLog({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const filters = { action: action || undefined, actor: actor || undefined, from: day(from, false), to: day(to, true) };
  const facets = useQuery(trpc.activity.facets.queryOptions({ tenant }));
  const list = useListTable((cursor) => trpc.activity.log.queryOptions({ tenant, ...filters, cursor }), { resetKey: [action, actor, from, to], quiet: true });
  const filtered = !!(action || actor || from || to);
  const cols = [
    logCol.cell("at", "When", (r) => <When at={r.at} />),
    logCol.cell("actor", "Who", (r) => r.actorEmail ?? <span className="text-zinc-500">system</span>),
    logCol.code("action", "Action", (r) => r.action),
    logCol.cell("target", "Target", (r) => <TargetLink tenant={tenant} {...r} />),
    logCol.cell("details", "Details", (r) => {
      const d = r.details;
      if (!d) return null;
      const text = JSON.stringify(d);
      return (
        <code title={text} className="block max-w-md truncate text-xs text-zinc-500">
          {text}
        </code>
      );
    }),
  ];
  return (
    <div className="flex flex-col gap-3">
      <fieldset className="flex flex-wrap items-end gap-3">
        <legend className="sr-only">Filter the activity log</legend>
        <Choice label="Action" value={action} onChange={setAction} any="All actions" options={facets.data?.actions} />
        <Choice label="Who" value={actor} onChange={setActor} any="Anyone" options={facets.data?.actors} />
        <DayRange from={from} to={to} setFrom={setFrom} setTo={setTo} />
      </fieldset>
      <ListView
        list={list}
        label="Activity log"
        columns={cols}
        empty={
          filtered
            ? { title: "Nothing matches these filters", body: "Widen the days or pick another action or person." }
            : { title: "No activity yet", body: "Every change to this tenant's instances, volumes, networks and members is listed here with who made it." }
        }
      />
    </div>
  );
}

function Operations({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const [status, setStatus] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const list = useListTable(
    (cursor) =>
      trpc.activity.operations.queryOptions({
        tenant,
        status: (status || undefined) as (typeof OPERATION_STATUSES)[number] | undefined,
        from: day(from, false),
        to: day(to, true),
        cursor,
      }),
    { resetKey: [status, from, to], poll: (data) => (data?.items.some((o) => UNDER_WAY.has(o.status)) ? 1000 : 10_000) },
  );
  const filtered = !!(status || from || to);
  const cols = [
    opCol.cell("createdAt", "Started", (o) => <When at={o.createdAt} />),
    opCol.code("kind", "Operation", (o) => o.kind),
    opCol.cell("target", "Target", (o) => <TargetLink tenant={tenant} {...o} />),
    opCol.cell("status", "Status", (o) => (
      <span className="flex flex-col gap-0.5">
        <OperationStatusBadge status={o.status} />
        <OperationStep op={o} />
      </span>
    )),
    opCol.cell("error", "Reason", (o) => (o.error ? <span className="text-red-700 dark:text-red-300">{o.error}</span> : null)),
    opCol.cell("by", "By", (o) => o.createdBy ?? <span className="text-zinc-500">system</span>),
    opCol.cell("endedAt", "Ended", (o) => (o.endedAt ? <When at={o.endedAt} /> : <span className="text-zinc-500">—</span>)),
  ];
  return (
    <div className="flex flex-col gap-3">
      <fieldset className="flex flex-wrap items-end gap-3">
        <legend className="sr-only">Filter operations</legend>
        <Choice label="Status" value={status} onChange={setStatus} any="Any status" options={OPERATION_STATUSES} />
        <DayRange from={from} to={to} setFrom={setFrom} setTo={setTo} />
      </fieldset>
      <ListView
        list={list}
        label="Operations"
        columns={cols}
        empty={
          filtered
            ? { title: "No operation matches these filters" }
            : { title: "No operations yet", body: "Creating, starting, stopping, backing up or deleting an instance each runs as an operation listed here." }
        }
      />
    </div>
  );
}

export function ActivityPage({ tenant, tenantName, initialTab = "log" }: { tenant: string; tenantName: string; initialTab?: ActivityTab }) {
  const [tab, setTab] = useState<ActivityTab>(initialTab);
  const tabs: { id: ActivityTab; label: string }[] = [
    { id: "log", label: "Changes" },
    { id: "operations", label: "Operations" },
  ];
  return (
    <div>
      <PageHeader title="Activity" description={`What happened in ${tenantName}: every change and who made it, and the long-running work with its outcome.`} />
      <div role="tablist" aria-label="Activity" className="mb-4 flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`activity-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`activity-panel-${t.id}`}
            onClick={() => {
              setTab(t.id);
              const url = new URL(window.location.href);
              url.searchParams.set("tab", t.id);
              window.history.replaceState(null, "", url);
            }}
            className={`-mb-px border-b-2 px-3 py-1.5 text-sm ${
              tab === t.id
                ? "border-sky-600 font-medium text-sky-800 dark:text-sky-300"
                : "border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
            }`}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`activity-panel-${tab}`} aria-labelledby={`activity-tab-${tab}`}>
        {tab === "log" ? <AuditLog tenant={tenant} /> : <Operations tenant={tenant} />}
      </div>
    </div>
  );
}
