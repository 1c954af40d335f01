// The instance lifecycle: an explicit transition table, like the node's (domain/node-lifecycle.ts). Every edge names
// the event, the states it leaves from, the state it leads to and who drives it; a transient state names the stable
// state it aims for, so "busy" (a workflow owns the instance; nothing else may start) comes from this table — the UI
// polls faster and shows "under way" for the same states the server refuses actions in. Pure: every state change in
// the product goes through server/services/instance-state.ts, which applies an event only from its declared states.
//
//   (create) → creating ─created→ running          creating ─create_failed→ failed ─retry_create→ creating
//   stopped ─start→ starting ─started→ running     starting ─start_failed→ stopped
//   running ─stop→ stopping ─stopped→ stopped      stopping ─stop_failed→ running
//   running ─reboot→ rebooting ─rebooted→ running  rebooting ─reboot_failed→ running
//   running|stopped ─rebuild→ rebuilding ─rebuilt→ running   (rebuild_reverted → running, rebuild_failed → failed)
//   running|stopped|failed ─recover→ recovering ─recovered→ running   (recover_failed → failed)
//   running ─rescue→ rescuing ─rescued→ rescue   (rescue_reverted → running on its own disk, rescue_failed → failed)
//   rescue ─unrescue→ unrescuing ─unrescued→ running   (unrescue_failed → rescue: every piece is idempotent, try again)
//   running|stopped|failed|rescue ─delete→ deleting ─deleted→ deleted        (delete_failed → failed)
//   running ─observed_off→ stopped;  stopped ─observed_on→ running   (the power sync saw it change outside Anvil)

export const INSTANCE_STATES = [
  "creating",
  "running",
  "starting",
  "stopping",
  "stopped",
  "rebooting",
  "rebuilding",
  "recovering",
  "rescuing",
  "rescue",
  "unrescuing",
  "deleting",
  "failed",
  "deleted",
] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** The state a new instance row starts in (the create's workflow owns it from there). */
export const INITIAL_INSTANCE_STATE = "creating" satisfies InstanceState;

/** Transient states, each with the stable state it aims for: while in one, a workflow owns the instance. */
export const TRANSIENT_AIMS = {
  creating: "running",
  starting: "running",
  stopping: "stopped",
  rebooting: "running",
  rebuilding: "running",
  recovering: "running",
  rescuing: "rescue",
  unrescuing: "running",
  deleting: "deleted",
} as const satisfies Partial<Record<InstanceState, InstanceState>>;
export type TransientState = keyof typeof TRANSIENT_AIMS;

export const TRANSIENT_STATES: ReadonlySet<string> = new Set(Object.keys(TRANSIENT_AIMS));
export const STABLE_STATES = INSTANCE_STATES.filter((s) => !TRANSIENT_STATES.has(s));

/** Whether a workflow owns the instance in this state (the UI's "busy"; the server refuses new actions). */
export function isTransient(state: string): state is TransientState {
  return TRANSIENT_STATES.has(state);
}

/** Who drives an edge: a person's request (through a router), the workflow running it, or the power sync. */
export type Driver = "tenant" | "operator" | "tenant or operator" | "workflow" | "power sync";

export interface InstanceTransition {
  from: readonly InstanceState[];
  to: InstanceState;
  by: Driver;
}

export const INSTANCE_TRANSITIONS = {
  // create: a new row starts in INITIAL_INSTANCE_STATE; an operator's retry of a failed create starts over.
  retry_create: { from: ["failed"], to: "creating", by: "operator" },
  created: { from: ["creating"], to: "running", by: "workflow" },
  create_failed: { from: ["creating"], to: "failed", by: "workflow" },

  start: { from: ["stopped"], to: "starting", by: "tenant" },
  started: { from: ["starting"], to: "running", by: "workflow" },
  start_failed: { from: ["starting"], to: "stopped", by: "workflow" },
  stop: { from: ["running"], to: "stopping", by: "tenant" },
  stopped: { from: ["stopping"], to: "stopped", by: "workflow" },
  stop_failed: { from: ["stopping"], to: "running", by: "workflow" },
  reboot: { from: ["running"], to: "rebooting", by: "tenant" },
  rebooted: { from: ["rebooting"], to: "running", by: "workflow" },
  reboot_failed: { from: ["rebooting"], to: "running", by: "workflow" },

  rebuild: { from: ["running", "stopped"], to: "rebuilding", by: "tenant" },
  rebuilt: { from: ["rebuilding"], to: "running", by: "workflow" },
  // The old system disk was put back: the instance runs as before, with the reason the rebuild failed.
  rebuild_reverted: { from: ["rebuilding"], to: "running", by: "workflow" },
  rebuild_failed: { from: ["rebuilding"], to: "failed", by: "workflow" },

  // An operator's recover, an operator's retry of a failed recovery, or the automatic one when a host fails.
  recover: { from: ["running", "stopped", "failed"], to: "recovering", by: "operator" },
  recovered: { from: ["recovering"], to: "running", by: "workflow" },
  recover_failed: { from: ["recovering"], to: "failed", by: "workflow" },

  // Rescue: the host boots a rescue image with the instance's own system disk as a data disk (never modified by it).
  rescue: { from: ["running"], to: "rescuing", by: "tenant" },
  rescued: { from: ["rescuing"], to: "rescue", by: "workflow" },
  // The rescue's undo put the own disk back as the boot disk: the instance runs as before, with the reason.
  rescue_reverted: { from: ["rescuing"], to: "running", by: "workflow" },
  rescue_failed: { from: ["rescuing"], to: "failed", by: "workflow" },
  unrescue: { from: ["rescue"], to: "unrescuing", by: "tenant" },
  unrescued: { from: ["unrescuing"], to: "running", by: "workflow" },
  // Back to rescue with the reason: unrescue's pieces are idempotent, so asking again finishes the job (or delete).
  unrescue_failed: { from: ["unrescuing"], to: "rescue", by: "workflow" },

  // A tenant's delete (a rescued instance too: its rescue disk goes with it), or an operator's retry of a failed
  // delete (from failed).
  delete: { from: ["running", "stopped", "failed", "rescue"], to: "deleting", by: "tenant or operator" },
  deleted: { from: ["deleting"], to: "deleted", by: "workflow" },
  delete_failed: { from: ["deleting"], to: "failed", by: "workflow" },

  observed_off: { from: ["running"], to: "stopped", by: "power sync" },
  observed_on: { from: ["stopped"], to: "running", by: "power sync" },
} as const satisfies Record<string, InstanceTransition>;

export type InstanceEvent = keyof typeof INSTANCE_TRANSITIONS;
export const INSTANCE_EVENTS = Object.keys(INSTANCE_TRANSITIONS) as InstanceEvent[];

export class IllegalInstanceTransition extends Error {
  constructor(
    public readonly from: string,
    public readonly event: InstanceEvent,
  ) {
    super(`An instance that is ${from} cannot take "${event}".`);
    this.name = "IllegalInstanceTransition";
  }
}

/** The state `event` leads to from `from`, or null when the table does not declare that edge. */
export function nextInstanceState(from: string, event: InstanceEvent): InstanceState | null {
  const t: InstanceTransition = INSTANCE_TRANSITIONS[event];
  return t.from.includes(from as InstanceState) ? t.to : null;
}

/** nextInstanceState, throwing IllegalInstanceTransition for an undeclared edge. */
export function instanceTransition(from: string, event: InstanceEvent): InstanceState {
  const to = nextInstanceState(from, event);
  if (!to) throw new IllegalInstanceTransition(from, event);
  return to;
}

/** The events the table allows from a state. */
export function instanceEventsFrom(from: string): InstanceEvent[] {
  return INSTANCE_EVENTS.filter((e) => nextInstanceState(from, e) !== null);
}
