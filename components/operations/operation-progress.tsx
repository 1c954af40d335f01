"use client";
// Progress of a long-running operation (enroll, inspect, power, firmware update…): its steps with their
// status, the current step, percent when known, and the error. `useOperation` polls `operations.get` every
// second until the operation ends, so any page can watch the operation a mutation returned.
import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import type { AppRouter } from "@/server/api/root";

export type Operation = inferRouterOutputs<AppRouter>["operations"]["get"];

const FINAL = new Set(["succeeded", "failed", "cancelled"]);
export function isFinished(op: Pick<Operation, "status"> | undefined | null): boolean {
  return !!op && FINAL.has(op.status);
}

/** Watches one operation: polls every second while it runs, stops when it ends. */
export function useOperation(id: string | null | undefined) {
  const trpc = useTRPC();
  return useQuery({
    ...trpc.operations.get.queryOptions({ id: id ?? "" }),
    enabled: !!id,
    refetchInterval: (q) => (isFinished(q.state.data) ? false : 1000),
    staleTime: 0,
  });
}

const statusTone: Record<string, BadgeTone> = { pending: "zinc", running: "sky", succeeded: "green", failed: "red", cancelled: "zinc" };
const stepMark: Record<string, string> = { pending: "○", running: "◐", done: "●", failed: "✕", skipped: "–", compensated: "↺" };
const stepCls: Record<string, string> = {
  pending: "text-zinc-400",
  running: "text-sky-600 dark:text-sky-400",
  done: "text-emerald-600 dark:text-emerald-400",
  failed: "text-red-600 dark:text-red-400",
  skipped: "text-zinc-400",
  compensated: "text-amber-600 dark:text-amber-400",
};

/** The percent to show: the operation's own figure, else the share of finished steps. */
export function percentOf(op: Pick<Operation, "progress" | "steps" | "status">): number | null {
  if (op.status === "succeeded") return 100;
  if (typeof op.progress === "number") return Math.max(0, Math.min(100, Math.round(op.progress)));
  if (!op.steps.length) return null;
  const done = op.steps.filter((s) => s.status === "done" || s.status === "skipped").length;
  return Math.round((done / op.steps.length) * 100);
}

export function OperationProgress({ operation: op, compact }: { operation: Operation; compact?: boolean }) {
  const pct = percentOf(op);
  const label = `${op.kind}${op.targetName ? ` · ${op.targetName}` : ""}`;
  return (
    <section aria-label={`Operation ${label}`} className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-medium">{op.kind}</span>
        {op.targetName ? <span className="text-zinc-500">{op.targetName}</span> : null}
        <Badge tone={statusTone[op.status] ?? "zinc"}>{op.status}</Badge>
        {op.currentStep && !isFinished(op) ? <span className="text-xs text-zinc-500">now: {op.currentStep}</span> : null}
        <span className="ml-auto text-xs text-zinc-500">{new Date(op.createdAt).toLocaleString()}</span>
      </div>
      {pct !== null ? (
        <div
          role="progressbar"
          aria-label={`Progress of ${label}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct}
          className="h-1.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
        >
          <div
            className={`h-full rounded-full transition-[width] ${op.status === "failed" ? "bg-red-500" : op.status === "succeeded" ? "bg-emerald-500" : "bg-sky-500"}`}
            style={{ width: `${pct}%` }}
          />
        </div>
      ) : null}
      {!compact && op.steps.length ? (
        <ol className="flex flex-col gap-0.5 text-xs">
          {op.steps.map((s) => (
            <li key={s.name} className="flex items-baseline gap-2">
              <span aria-hidden className={stepCls[s.status] ?? ""}>
                {stepMark[s.status] ?? "○"}
              </span>
              <span className={s.status === "running" ? "font-medium" : ""}>{s.name}</span>
              <span className="text-zinc-500">{s.status}</span>
              {s.detail ? <span className="text-zinc-500">— {s.detail}</span> : null}
              {s.error ? <span className="text-red-600 dark:text-red-400">— {s.error}</span> : null}
            </li>
          ))}
        </ol>
      ) : null}
      {op.error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          {op.error}
        </p>
      ) : null}
    </section>
  );
}

/** Watches an operation by id and shows its progress (loading and error states included). */
export function WatchedOperation({ id, compact }: { id: string; compact?: boolean }) {
  const q = useOperation(id);
  if (q.error) return <p className="text-sm text-red-700 dark:text-red-300">{errorInfo(q.error).message}</p>;
  if (!q.data) return <p className="text-sm text-zinc-500">Loading operation…</p>;
  return <OperationProgress operation={q.data} compact={compact} />;
}
