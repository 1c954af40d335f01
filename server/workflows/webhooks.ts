// Webhook delivery on the workflow engine: a schedule fans the outbox (webhook_events, written by triggers) out into
// one delivery per matching webhook, and each delivery is a durable workflow that POSTs it, signed, retrying with
// exponential backoff (ANVIL_WEBHOOK_RETRIES attempts after the first, from ANVIL_WEBHOOK_RETRY_MS doubling) —
// a BFF restart in between resumes the retries. Every attempt records its answer on the delivery row, which the
// webhooks pages show.
import { and, eq, inArray, sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { webhookDeliveries, webhookEvents, webhooks } from "@/db/schema";
import { unseal } from "@/server/lib/secrets";
import { attemptDelivery } from "@/server/webhooks/delivery";
import { catalog, schedules } from "./catalog";
import { defineSchedule, defineWorkflow, step } from "./engine";
import { enqueue } from "./start";

const retries = () => Number(process.env.ANVIL_WEBHOOK_RETRIES ?? 6);
const retryMs = () => Number(process.env.ANVIL_WEBHOOK_RETRY_MS ?? 2000);

/** Turns undispatched events into deliveries (once each: unique per webhook and event). Returns the new delivery ids. */
export async function fanOutWebhookEvents(limit = 500): Promise<string[]> {
  return getDb().transaction(async (tx) => {
    const evs = await tx.execute<{ id: string }>(
      sql`select id::text from webhook_events where not dispatched order by id limit ${limit} for update skip locked`,
    );
    const ids = evs.rows.map((r) => Number(r.id));
    if (!ids.length) return [];
    const made = await tx.execute<{ id: string }>(sql`
      insert into webhook_deliveries (webhook_id, event_id, type, payload)
      select w.id, e.id, e.type,
             jsonb_build_object('type', e.type, 'createdAt', to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'tenantId', e.tenant_id, 'data', e.payload)
        from webhook_events e
        join webhooks w on w.enabled and w.events ? e.type and (w.tenant_id is null or w.tenant_id = e.tenant_id)
       where e.id in (${sql.join(
         ids.map((i) => sql`${i}`),
         sql`, `,
       )})
      on conflict (webhook_id, event_id) do nothing
      returning id::text`);
    await tx.update(webhookEvents).set({ dispatched: true }).where(inArray(webhookEvents.id, ids));
    // Old dispatched events are only history: keep a day of them.
    await tx.execute(sql`delete from webhook_events where dispatched and created_at < now() - interval '1 day'`);
    return made.rows.map((r) => r.id);
  });
}

export async function enqueueDeliveries(ids: string[]): Promise<void> {
  for (const id of ids) await enqueue(catalog.webhookDeliver, [id], { workflowID: `webhook-delivery-${id}` });
}

/** One attempt, recorded on the row; throws (so the step retries) unless delivered or pointless to retry. */
async function attemptAndRecord(deliveryId: string): Promise<"delivered" | "gone"> {
  const db = getDb();
  const [row] = await db
    .select({ d: webhookDeliveries, w: { url: webhooks.url, secret: webhooks.secret, enabled: webhooks.enabled } })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!row) return "gone"; // the webhook was deleted (its deliveries with it)
  if (row.d.status === "delivered") return "delivered";
  if (!row.w.enabled) {
    await db
      .update(webhookDeliveries)
      .set({ status: "failed", error: "The webhook was disabled before this delivery went out" })
      .where(eq(webhookDeliveries.id, deliveryId));
    return "gone";
  }
  const body = JSON.stringify({ id: deliveryId, ...row.d.payload });
  const r = await attemptDelivery({ url: row.w.url, secret: unseal(row.w.secret), deliveryId, type: row.d.type, body });
  await db
    .update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      responseStatus: r.status,
      responseBody: r.body || null,
      error: r.error,
      lastAttemptAt: new Date(),
      ...(r.ok ? { status: "delivered", deliveredAt: new Date() } : {}),
    })
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!r.ok) throw new Error(r.error ?? "delivery failed");
  return "delivered";
}

export const deliverWebhook = defineWorkflow(catalog.webhookDeliver, async (deliveryId) => {
  try {
    return await step("post", () => attemptAndRecord(deliveryId), { retries: retries(), intervalMs: retryMs() });
  } catch {
    await step("give up", async () => {
      await getDb()
        .update(webhookDeliveries)
        .set({ status: "failed" })
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, "pending")));
    });
    return "failed" as const;
  }
});

export const webhookDispatchSchedule = defineSchedule(schedules.webhookDispatch, "*/2 * * * * *", async () => {
  const ids = await step("fan out", () => fanOutWebhookEvents());
  if (ids.length) await enqueueDeliveries(ids);
});
