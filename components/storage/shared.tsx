"use client";
// Small pieces shared by the storage pages: byte/GiB formatting, state badges, usage-vs-quota meters, and
// the storage service's refusal as a form's message.
import { type UseQueryOptions, useQuery } from "@tanstack/react-query";
import { errorInfo } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

const stateTones: Record<string, BadgeTone> = {
  available: "green",
  attached: "sky",
  exported: "sky",
  ok: "green",
  creating: "amber",
  deleting: "amber",
  degraded: "amber",
  error: "red",
  failed: "red",
};
export function StateBadge({ state }: { state: string }) {
  return <Badge tone={stateTones[state] ?? "zinc"}>{state}</Badge>;
}

/** "3 of 20 volumes" with a bar; red when full. */
export function UsageMeter({ label, used, limit, unit = "" }: { label: string; used: number; limit: number; unit?: string }) {
  const pct = limit > 0 ? Math.min(100, Math.round((used / limit) * 100)) : 100;
  return (
    <div className="min-w-44 flex-1 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
      <div className="flex justify-between text-sm">
        <span className="font-medium">{label}</span>
        <span className="tabular-nums text-zinc-600 dark:text-zinc-400">
          {used}
          {unit} of {limit}
          {unit}
        </span>
      </div>
      <div className="mt-2 h-1.5 rounded-full bg-zinc-100 dark:bg-zinc-800" aria-hidden>
        <div className={`h-1.5 rounded-full ${pct >= 100 ? "bg-red-500" : pct >= 80 ? "bg-amber-500" : "bg-sky-500"}`} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

type Meter = React.ComponentProps<typeof UsageMeter>;

/** A row of usage meters, e.g. a tenant's quota for one kind of resource. */
export function UsageMeters({ label, meters }: { label: string; meters: Meter[] }) {
  return (
    <section aria-label={label} className="mb-4 flex flex-wrap gap-3">
      {meters.map((m) => (
        <UsageMeter key={m.label} {...m} />
      ))}
    </section>
  );
}

/** Usage meters read from a query (nothing until it answers). */
export function QueriedMeters<T>({
  label,
  query,
  meters,
}: {
  label: string;
  // biome-ignore lint/suspicious/noExplicitAny: tRPC's query options carry their own error and key types
  query: UseQueryOptions<T, any, T, any>;
  meters: (data: T) => Meter[];
}) {
  const q = useQuery(query);
  return q.data ? <UsageMeters label={label} meters={meters(q.data)} /> : null;
}

export const inputCls = "rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900";

/** The storage service's refusal as it says it ("still holds 3 volumes"), shown beside any field errors. */
export function serviceMessage(err: unknown): string | null {
  return err ? errorInfo(err).message : null;
}
