"use client";
// Whether security rules are enforced on every NIC they reach: "applied on 3 of 3 NICs", or "applied on 2 of 3 NICs —
// DPU node-0003-dpu unreachable" (domain/rules-status.ts words it). Shown on the security group and instance pages;
// `rulesStatusRefetch` is the refetch interval both use: every second while a NIC is behind, else every 10 s.
import { type RulesStatus, rulesPending, rulesStatusText } from "@/domain/rules-status";

export const rulesStatusRefetch = (query: { state: { data?: RulesStatus } }) => {
  const d = query.state.data;
  return d && rulesPending(d) ? 1000 : 10_000;
};

export function RulesApplied({ status, label = "Rules enforcement" }: { status: RulesStatus | undefined; label?: string }) {
  if (!status) return <p className="text-sm text-zinc-500">Checking where the rules are applied…</p>;
  const pending = rulesPending(status);
  const failing = status.failingDpus.length > 0;
  const tone = !pending
    ? "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100"
    : failing
      ? "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
      : "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100";
  return (
    <p role="status" aria-label={label} title={status.lastError ?? undefined} className={`inline-block rounded-md border px-3 py-1.5 text-sm ${tone}`}>
      Rules {rulesStatusText(status)}
    </p>
  );
}
