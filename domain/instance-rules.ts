// Which actions an instance allows in its current state, each with the reason when it does not. Pure: the router
// enforces these rules and the UI asks the same functions to disable buttons with the reason (like node-lifecycle).
// Transitional states (creating, starting, stopping, rebooting, rebuilding, recovering, deleting) belong to a running
// workflow; nothing else may start on the instance until it ends.

export type InstanceState =
  | "creating"
  | "running"
  | "starting"
  | "stopping"
  | "stopped"
  | "rebooting"
  | "rebuilding"
  | "recovering"
  | "deleting"
  | "failed"
  | "deleted";

export type InstanceVerdict = { ok: true } | { ok: false; reason: string };
const ok: InstanceVerdict = { ok: true };
const no = (reason: string): InstanceVerdict => ({ ok: false, reason });

export const TRANSITIONAL: ReadonlySet<string> = new Set(["creating", "starting", "stopping", "rebooting", "rebuilding", "recovering", "deleting"]);

function busy(state: string): InstanceVerdict | null {
  if (state === "deleted") return no("The instance has been deleted.");
  if (TRANSITIONAL.has(state)) return no(`The instance is ${state}; wait until that finishes.`);
  return null;
}

export const instanceCan = {
  start: (s: string) => busy(s) ?? (s === "stopped" ? ok : s === "running" ? no("It is already running.") : no(`Not possible while the instance is ${s}.`)),
  stop: (s: string) => busy(s) ?? (s === "running" ? ok : s === "stopped" ? no("It is already stopped.") : no(`Not possible while the instance is ${s}.`)),
  reboot: (s: string) => busy(s) ?? (s === "running" ? ok : s === "stopped" ? no("It is stopped; start it instead.") : no(`Not possible while the instance is ${s}.`)),
  delete: (s: string) => busy(s) ?? ok,
  rebuild: (s: string) => busy(s) ?? (s === "running" || s === "stopped" ? ok : no(`Not possible while the instance is ${s}; delete it instead.`)),
  backup: (s: string) => busy(s) ?? (s === "running" || s === "stopped" ? ok : no(`Not possible while the instance is ${s}.`)),
  attach: (s: string) => busy(s) ?? (s === "running" || s === "stopped" ? ok : no(`Not possible while the instance is ${s}.`)),
  /** Operators: re-provision onto a spare host of the pool (same volumes, MAC and address). */
  recover: (s: string) => (s === "running" || s === "stopped" || s === "failed" ? ok : busy(s) ?? no(`Not possible while the instance is ${s}.`)),
};

export type InstanceAction = keyof typeof instanceCan;

export function allowedActions(state: string): Record<InstanceAction, InstanceVerdict> {
  return Object.fromEntries(Object.entries(instanceCan).map(([k, f]) => [k, f(state)])) as Record<InstanceAction, InstanceVerdict>;
}
