// Operation workflows as sagas: the body runs its steps; a step declares its undo beside it (omicron's "+ do / - undo").
// When the body throws, ONE runner — this module — does what every workflow used to write by hand in its own catch:
// records the reason on the operation ("mark failing"), runs the undos of the steps that ran, in reverse, each as a
// durable step shown on the operation, then in one durable "mark failed" step lets the workflow put its target in the
// right state (its `failed` handler) and ends the operation failed — or cancelled when an operator aborted it.
// Undos must be idempotent (a process killed mid-undo runs it again on recovery), like every step.
import { eq } from "drizzle-orm";
import { getDb, type Db } from "@/db/client";
import { operations } from "@/db/schema";
import type { ArgsOf, OperationEntry, OperationId } from "./catalog";
import { type DefinedWorkflow, defineWorkflow, step } from "./engine";
import { finishOperation, opStep } from "./operations";

/** Thrown into an operation an operator aborted (operations.status = "cancelling"): it rolls back and ends cancelled. */
export class AbortedByOperator extends Error {
  override name = "ProvisionError";
  constructor() {
    super("Aborted by an operator.");
  }
}
/** Compared by message: an error read back from the engine's checkpoint is no longer an instance of its class. */
const ABORTED = new AbortedByOperator().message;

/** One compensating action, shown on the operation under its name when it runs. */
export interface Undo {
  name: string;
  fn: () => Promise<unknown>;
  /** A failure of this undo is noted on its step and the rollback goes on (otherwise the rollback stops there). */
  bestEffort?: boolean;
}

export interface StepOptions {
  /** What undoes this step (several: run in the order given). Runs if a LATER step fails… */
  undo?: Undo | Undo[];
  /** …and also if this step itself fails (a step that can fail half-way, whose undo copes with any part of it). */
  undoIfFailed?: boolean;
  /** Past this step there is no going back: the undos declared so far are dropped; a later failure only marks failed. */
  pivot?: boolean;
  retries?: number;
}

/** What the workflow's failure handler learns. */
export interface Failure {
  /** The failed step's error message (the operation's error unless the handler says otherwise). */
  reason: string;
  /** An operator aborted it (and the rollback completed): the operation ends cancelled. */
  cancelled: boolean;
  /** The undos that ran to completion, by name. */
  undone: string[];
  /** The message of the undo that failed and stopped the rollback, or null. */
  undoError: string | null;
}

/** The handle a saga's body runs its steps through. */
export interface Saga {
  readonly db: Db;
  readonly opId: OperationId;
  /** A durable step shown on the operation (running → done | failed), with its undo declared beside it. */
  step<R>(name: string, fn: () => Promise<R>, opts?: StepOptions): Promise<R>;
}

export interface SagaDefinition<A extends unknown[]> {
  /** The body. Plain `step()`s (not shown) and parallel branches may be used inside as before; no try/catch needed. */
  run: (saga: Saga, ...args: A) => Promise<void>;
  /**
   * Puts the target where a failed run leaves it (e.g. the instance failed, or back to stopped), inside the one
   * "mark failed" step; may rewrite the operation's error.
   */
  failed?: (f: Failure, ...args: A) => Promise<{ error?: string } | undefined | void>;
}

/** Defines the catalog entry's workflow as a saga (see the header). */
// biome-ignore lint/suspicious/noExplicitAny: any entry; its arguments (ArgsOf) then type the definition
export function defineSaga<E extends OperationEntry<any>>(entry: E, def: SagaDefinition<ArgsOf<E>>): DefinedWorkflow<ArgsOf<E>, void> {
  const e = entry as OperationEntry<ArgsOf<E>>;
  return defineWorkflow(e, (...args: ArgsOf<E>) => runSaga(e, def, args));
}

async function runSaga<A extends unknown[]>(entry: OperationEntry<A>, def: SagaDefinition<A>, args: A): Promise<void> {
  const db = getDb();
  const opId = entry.operationId(args);
  // Undo groups in the order declared; a group is one step's undos.
  let undos: Undo[][] = [];
  const saga: Saga = {
    db,
    opId,
    async step(name, fn, opts = {}) {
      const group = opts.undo ? (Array.isArray(opts.undo) ? opts.undo : [opts.undo]) : null;
      if (group && opts.undoIfFailed) undos.push(group);
      const r = await opStep(db, opId, name, fn, opts.retries ? { retries: opts.retries } : undefined);
      if (opts.pivot) undos = [];
      else if (group && !opts.undoIfFailed) undos.push(group);
      return r;
    },
  };
  let reason: string;
  try {
    await def.run(saga, ...args);
    return;
  } catch (e) {
    reason = (e as Error).message;
  }
  const undone: string[] = [];
  let undoError: string | null = null;
  if (undos.length) {
    // The reason shows while the rollback runs.
    await step("mark failing", async () => {
      await db.update(operations).set({ error: reason }).where(eq(operations.id, opId));
    });
    rollback: for (const group of undos.reverse()) {
      for (const u of group) {
        try {
          await opStep(db, opId, u.name, u.fn);
          undone.push(u.name);
        } catch (e) {
          if (u.bestEffort) continue;
          undoError = (e as Error).message;
          break rollback;
        }
      }
    }
  }
  const cancelled = reason === ABORTED && undoError === null;
  await step("mark failed", async () => {
    const out = await def.failed?.({ reason, cancelled, undone, undoError }, ...args);
    await finishOperation(db, opId, cancelled ? "cancelled" : "failed", { error: out?.error ?? reason });
  });
}
