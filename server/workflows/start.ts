// Starting workflows: the only way work is enqueued. `startOperation` records an operation-backed workflow's
// operations row (kind, target, the catalog's step list) in the caller's transaction and returns a handle whose
// `enqueue()` the caller runs once that transaction committed (the workflow id is the operation id, so an enqueue
// repeated by a retried request is the same run). `enqueue` starts a workflow without an operation (a sync shard, a
// webhook delivery). Both take a catalog entry (./catalog.ts), whose argument tuple checks the arguments.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, getDb, type Tx } from "@/db/client";
import { operations } from "@/db/schema";
import type { OperationEntry, OperationId, WorkflowEntry } from "./catalog";
import { getEngine } from "./engine";

/**
 * Enqueues a reconciler pass unless one of the same workflow is still waiting on its queue (not yet started), and says
 * which. A waiting pass has read nothing yet, so it will see the change that asks for this one: a burst of changes costs
 * one pass instead of one each. Call after the change committed. (A pass already running may have read the state before
 * the change; it does not count, and a new one is queued behind it.)
 */
export async function enqueuePass<A extends unknown[]>(entry: WorkflowEntry<A>, args: NoInfer<A>): Promise<"enqueued" | "coalesced"> {
  const waiting = await getDb().execute(
    sql`select 1 from dbos.workflow_status where queue_name = ${entry.queue} and name = ${entry.name} and status = 'ENQUEUED' limit 1`,
  );
  if (waiting.rows.length) return "coalesced";
  await enqueue(entry, args);
  return "enqueued";
}

/** Enqueues a workflow on its catalog queue; `workflowID` makes a repeated start the same run. Returns the run's id. */
export async function enqueue<A extends unknown[]>(entry: WorkflowEntry<A>, args: NoInfer<A>, opts: { workflowID?: string } = {}): Promise<string> {
  return getEngine().enqueue(entry.name, args, { workflowID: opts.workflowID, queue: entry.queue });
}

export interface OperationSpec<A extends unknown[]> {
  /** What the operation runs against (the row shows its name; tenant operations carry the tenant). */
  target: { id?: string | null; name?: string | null; tenantId?: string | null };
  createdBy: string | null;
  /** The workflow's arguments, given the new operation's id (every operation workflow takes it). `[...A]`: read as a tuple. */
  args: (opId: OperationId) => [...A];
  /** Shown with the operation (what was asked for; never a secret). */
  input?: Record<string, unknown>;
}

/** An operation recorded in a transaction that has not committed yet: `enqueue()` once it has. */
export interface StartedOperation {
  readonly id: OperationId;
  enqueue(): Promise<void>;
}

/** Records the operation of a catalog workflow (its steps from the catalog) in `tx`; enqueue the handle after commit. */
export async function startOperation<A extends unknown[]>(tx: Db | Tx, entry: OperationEntry<A>, spec: OperationSpec<A>): Promise<StartedOperation> {
  const id = randomUUID() as OperationId;
  const args = spec.args(id) as A;
  await tx.insert(operations).values({
    id,
    kind: entry.kind?.(args) ?? entry.name,
    targetType: entry.target,
    targetId: spec.target.id ?? null,
    targetName: spec.target.name ?? null,
    tenantId: spec.target.tenantId ?? null,
    createdBy: spec.createdBy,
    steps: entry.steps(args).map((name) => ({ name, status: "pending" as const })),
    input: spec.input ?? null,
  });
  return {
    id,
    async enqueue() {
      await getEngine().enqueue(entry.name, args, { workflowID: id, queue: entry.queue });
    },
  };
}
