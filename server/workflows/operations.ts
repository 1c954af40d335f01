// Operations: the progress of a workflow as a person sees it (steps, current step, percent, error).
// Steps are marked inside DBOS steps, so a recovered workflow does not re-mark finished work.
import { eq, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { operations } from "@/db/schema";
import { step } from "./engine";

type StepStatus = "pending" | "running" | "done" | "failed" | "skipped" | "compensated";

export interface NewOperation {
  kind: string;
  targetType: string;
  targetId?: string | null;
  targetName?: string | null;
  tenantId?: string | null;
  createdBy?: string | null;
  steps: string[];
  input?: Record<string, unknown>;
}

export async function createOperation(db: Db | Tx, op: NewOperation): Promise<string> {
  const [row] = await db
    .insert(operations)
    .values({
      kind: op.kind,
      targetType: op.targetType,
      targetId: op.targetId ?? null,
      targetName: op.targetName ?? null,
      tenantId: op.tenantId ?? null,
      createdBy: op.createdBy ?? null,
      steps: op.steps.map((name) => ({ name, status: "pending" as const })),
      input: op.input ?? null,
    })
    .returning({ id: operations.id });
  return row!.id;
}

/** Sets one step's status (adds the step if the workflow discovered it at run time). */
export async function markStep(db: Db, opId: string, name: string, status: StepStatus, extra: { error?: string; detail?: string } = {}) {
  const now = new Date().toISOString();
  await db.transaction(async (tx) => {
    const [op] = await tx.select({ steps: operations.steps, status: operations.status }).from(operations).where(eq(operations.id, opId)).for("update");
    if (!op) return;
    const steps = [...op.steps];
    let s = steps.find((x) => x.name === name);
    if (!s) {
      s = { name, status: "pending" };
      steps.push(s);
    }
    s.status = status;
    if (status === "running") s.startedAt ??= now;
    if (status !== "running" && status !== "pending") s.endedAt = now;
    if (extra.error !== undefined) s.error = extra.error;
    if (extra.detail !== undefined) s.detail = extra.detail;
    await tx
      .update(operations)
      .set({ steps, currentStep: status === "running" ? name : undefined, status: op.status === "pending" ? "running" : undefined })
      .where(eq(operations.id, opId));
  });
}

export async function setProgress(db: Db, opId: string, progress: number, detail?: { step: string; text: string }) {
  await db.update(operations).set({ progress: Math.max(0, Math.min(100, Math.round(progress))) }).where(eq(operations.id, opId));
  if (detail) await markStep(db, opId, detail.step, "running", { detail: detail.text });
}

export async function finishOperation(
  db: Db,
  opId: string,
  status: "succeeded" | "failed" | "cancelled",
  extra: { error?: string; result?: Record<string, unknown> } = {},
) {
  await db
    .update(operations)
    .set({
      status,
      error: extra.error ?? null,
      result: extra.result ?? undefined,
      currentStep: null,
      progress: status === "succeeded" ? 100 : undefined,
      endedAt: sql`now()`,
    })
    .where(eq(operations.id, opId));
}

/** A durable step that also shows on the operation: running → done | failed (with the message). */
export function opStep<R>(db: Db, opId: string, name: string, fn: () => Promise<R>, opts?: { retries?: number }): Promise<R> {
  return step(
    name,
    async () => {
      await markStep(db, opId, name, "running");
      try {
        const r = await fn();
        await markStep(db, opId, name, "done");
        return r;
      } catch (e) {
        await markStep(db, opId, name, "failed", { error: (e as Error).message });
        throw e;
      }
    },
    opts,
  );
}
