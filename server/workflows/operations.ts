// Operations: the progress of a workflow as a person sees it (steps, current step, percent, error). Rows are created
// by startOperation (./start.ts) with the catalog's steps.
// Steps are marked inside DBOS steps, so a recovered workflow does not re-mark finished work.
import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { operations } from "@/db/schema";
import { step } from "./engine";

type StepStatus = "pending" | "running" | "done" | "failed" | "skipped" | "compensated";

/**
 * Sets one step's status (adds the step if the workflow discovered it at run time) in ONE statement: the JSON array
 * is rewritten by Postgres under the row lock the UPDATE takes, so concurrent branches of one workflow never lose
 * each other's marks, and a provisioning run's ~30 marks cost one round trip each. Returns the operation's status
 * (e.g. "cancelling" when an operator asked for an abort), or null when the operation does not exist.
 */
export async function markStep(
  db: Db,
  opId: string,
  name: string,
  status: StepStatus,
  extra: { error?: string; detail?: string } = {},
): Promise<string | null> {
  const now = new Date().toISOString();
  const patch: Record<string, string> = { status };
  if (status === "running") patch.startedAt = now;
  if (status !== "running" && status !== "pending") patch.endedAt = now;
  if (extra.error !== undefined) patch.error = extra.error;
  if (extra.detail !== undefined) patch.detail = extra.detail;
  const keepStart = status === "running";
  const r = await db.execute<{ status: string }>(sql`
    update operations set
      steps = case
        when exists (select 1 from jsonb_array_elements(steps) e where e->>'name' = ${name}) then (
          select jsonb_agg(
                   case when e->>'name' = ${name}
                     then e || ${JSON.stringify(patch)}::jsonb
                          || case when ${keepStart} and e ? 'startedAt' then jsonb_build_object('startedAt', e->'startedAt') else '{}'::jsonb end
                     else e end
                   order by i)
          from jsonb_array_elements(steps) with ordinality as t(e, i))
        else steps || jsonb_build_array(jsonb_build_object('name', ${name}::text) || ${JSON.stringify(patch)}::jsonb)
      end,
      current_step = case when ${status === "running"} then ${name}::text else current_step end,
      status = case when status = 'pending' then 'running' else status end,
      updated_at = now()
    where id = ${opId}
    returning status`);
  return r.rows[0]?.status ?? null;
}

export async function setProgress(db: Db, opId: string, progress: number, detail?: { step: string; text: string }) {
  await db
    .update(operations)
    .set({ progress: Math.max(0, Math.min(100, Math.round(progress))) })
    .where(eq(operations.id, opId));
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
