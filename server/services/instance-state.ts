// The one way an instance's state changes: apply an event of the transition table (domain/instance-lifecycle.ts).
// The update only matches a row in one of the event's declared `from` states, so a step re-run after a crash, or an
// observation that went stale, can never undo what happened since (the tenant's next action, a workflow's result).
// Database triggers that react to the state (console epochs, migration 0013) see an ordinary UPDATE of `state`.
import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { instances } from "@/db/schema";
import { IllegalInstanceTransition, INSTANCE_TRANSITIONS, type InstanceEvent } from "@/domain/instance-lifecycle";

export interface ApplyOptions {
  /** The reason shown with the state (why it failed, what was seen); cleared when not given. */
  reason?: string | null;
  /** The operation that now drives the instance (the person's request that started a workflow). */
  operationId?: string;
  /** A further condition the row must meet (e.g. the power sync's "not changed since the poll began"). */
  where?: SQL;
  /**
   * The caller has the row locked and checked the rule: a row not in a `from` state is a bug, thrown as
   * IllegalInstanceTransition instead of silently doing nothing.
   */
  strict?: boolean;
}

/** Applies `event` to the instance; returns whether the row changed (false: not in a state the event leaves from). */
export async function applyInstanceEvent(db: Db | Tx, instanceId: string, event: InstanceEvent, opts: ApplyOptions = {}): Promise<boolean> {
  const t = INSTANCE_TRANSITIONS[event];
  const done = await db
    .update(instances)
    .set({
      state: t.to,
      stateReason: opts.reason ?? null,
      ...(opts.operationId ? { operationId: opts.operationId } : {}),
      ...(t.to === "deleted" ? { deletedAt: new Date() } : {}),
    })
    .where(and(eq(instances.id, instanceId), inArray(instances.state, [...t.from]), opts.where))
    .returning({ id: instances.id });
  if (done.length === 0 && opts.strict) {
    const [row] = await db.select({ state: instances.state }).from(instances).where(eq(instances.id, instanceId));
    throw new IllegalInstanceTransition(row?.state ?? "missing", event);
  }
  return done.length > 0;
}
