// What an operator may do to a rolling DPU OS update in each of its states (the rollouts router enforces these, the
// rollouts page disables its buttons with the same reasons). Client-safe.
export type RolloutStatus = "running" | "paused" | "aborted" | "succeeded";
export type RolloutVerdict = { ok: true } | { ok: false; reason: string };

const ok: RolloutVerdict = { ok: true };
const no = (reason: string): RolloutVerdict => ({ ok: false, reason });
const ended = (s: RolloutStatus) => (s === "succeeded" ? no("The rollout has finished.") : s === "aborted" ? no("The rollout was aborted.") : null);

export const rolloutCan = {
  pause: (s: RolloutStatus) => ended(s) ?? (s === "paused" ? no("It is already paused.") : ok),
  resume: (s: RolloutStatus) => ended(s) ?? (s === "running" ? no("It is running.") : ok),
  abort: (s: RolloutStatus) => ended(s) ?? ok,
};
