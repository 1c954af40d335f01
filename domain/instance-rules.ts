// Which actions an instance allows in its current state, each with the reason when it does not. Pure: the router
// enforces these rules and the UI asks the same functions to disable buttons with the reason (like node-lifecycle).
// Whether an action that changes the state is allowed comes from the transition table (./instance-lifecycle.ts); the
// transient states (creating, starting, stopping, rebooting, rebuilding, recovering, rescuing, unrescuing, deleting)
// belong to a running workflow, and nothing else may start on the instance until it ends.
import { type InstanceEvent, type InstanceState, isTransient, nextInstanceState, TRANSIENT_STATES } from "./instance-lifecycle";

export type { InstanceState };

export type InstanceVerdict = { ok: true } | { ok: false; reason: string };
const ok: InstanceVerdict = { ok: true };
const no = (reason: string): InstanceVerdict => ({ ok: false, reason });

/** The states a workflow owns (the table's transient states). */
export const TRANSITIONAL: ReadonlySet<string> = TRANSIENT_STATES;

/** Whether the table lets `event` leave from `state`. */
const takes = (state: string, event: InstanceEvent) => nextInstanceState(state, event) !== null;

function busy(state: string): InstanceVerdict | null {
  if (state === "deleted") return no("The instance has been deleted.");
  if (isTransient(state)) return no(`The instance is ${state}; wait until that finishes.`);
  return null;
}

export const instanceCan = {
  start: (s: string) => busy(s) ?? (takes(s, "start") ? ok : s === "running" ? no("It is already running.") : no(`Not possible while the instance is ${s}.`)),
  stop: (s: string) => busy(s) ?? (takes(s, "stop") ? ok : s === "stopped" ? no("It is already stopped.") : no(`Not possible while the instance is ${s}.`)),
  reboot: (s: string) =>
    busy(s) ?? (takes(s, "reboot") ? ok : s === "stopped" ? no("It is stopped; start it instead.") : no(`Not possible while the instance is ${s}.`)),
  delete: (s: string) => busy(s) ?? (takes(s, "delete") ? ok : no(`Not possible while the instance is ${s}.`)),
  rebuild: (s: string) => busy(s) ?? (takes(s, "rebuild") ? ok : no(`Not possible while the instance is ${s}; delete it instead.`)),
  backup: (s: string) => busy(s) ?? (s === "running" || s === "stopped" ? ok : no(`Not possible while the instance is ${s}.`)),
  attach: (s: string) => busy(s) ?? (s === "running" || s === "stopped" ? ok : no(`Not possible while the instance is ${s}.`)),
  rescue: (s: string) =>
    busy(s) ?? (takes(s, "rescue") ? ok : s === "rescue" ? no("It is already in rescue.") : no(`Only a running instance can be rescued; it is ${s}.`)),
  unrescue: (s: string) => busy(s) ?? (takes(s, "unrescue") ? ok : no("It is not in rescue.")),
  /** Operators: re-provision onto a spare host of the pool (same volumes, MAC and address). */
  recover: (s: string) => (takes(s, "recover") ? ok : (busy(s) ?? no(`Not possible while the instance is ${s}.`))),
};

export type InstanceAction = keyof typeof instanceCan;

/** The actions that change the state, by the table event they raise (backup and attach leave the state as it is). */
export const ACTION_EVENTS = {
  start: "start",
  stop: "stop",
  reboot: "reboot",
  delete: "delete",
  rebuild: "rebuild",
  rescue: "rescue",
  unrescue: "unrescue",
  recover: "recover",
} as const satisfies Partial<Record<InstanceAction, InstanceEvent>>;

export function allowedActions(state: string): Record<InstanceAction, InstanceVerdict> {
  return Object.fromEntries(Object.entries(instanceCan).map(([k, f]) => [k, f(state)])) as Record<InstanceAction, InstanceVerdict>;
}
