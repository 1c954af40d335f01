// Whether a set of NICs enforces the current security rules, as the UI says it: "applied on 3 of 3 NICs", or
// "applied on 2 of 3 NICs — DPU node-0003-dpu unreachable". Pure: the server computes the counts
// (server/services/rules-apply.ts), the security group and instance pages show them.

export interface RulesStatus {
  /** NICs of live instances the rules reach (a port not plugged into a DPU has no NIC yet). */
  total: number;
  /** Of those, NICs whose DPU enforces the current version. */
  applied: number;
  /** DPUs whose agent did not take the rules (by name), with the last error seen. */
  failingDpus: string[];
  lastError: string | null;
}

/** True while some NIC is behind (the pages poll until it is not). */
export const rulesPending = (s: RulesStatus) => s.applied < s.total;

export function rulesStatusText(s: RulesStatus): string {
  if (s.total === 0) return "no NICs use these rules yet";
  const base = `applied on ${s.applied} of ${s.total} NIC${s.total === 1 ? "" : "s"}`;
  if (s.applied >= s.total) return base;
  if (s.failingDpus.length) {
    const names = s.failingDpus.length > 3 ? `${s.failingDpus.slice(0, 3).join(", ")} and ${s.failingDpus.length - 3} more` : s.failingDpus.join(", ");
    return `${base} — DPU${s.failingDpus.length === 1 ? "" : "s"} ${names} unreachable`;
  }
  if (s.lastError) return `${base} — ${s.lastError}`;
  return `${base} — applying`;
}
