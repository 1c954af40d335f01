// Webhooks: a tenant's admins register HTTPS endpoints for their tenant's events (`webhooks`); operator admins register
// platform endpoints that get every event, node faults included (`platformWebhooks`). The signing secret is shown
// once at creation (stored sealed). Deliveries are listed with their attempts and the endpoint's last answer; a
// failed one can be sent again; "Send test" delivers a ping. Delivery itself: server/workflows/webhooks.ts.
import { randomBytes } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "@/db/client";
import { webhookDeliveries, webhookEvents, webhooks } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { seal } from "@/server/lib/secrets";
import { catalog } from "@/server/workflows/catalog";
import { enqueue } from "@/server/workflows/start";
import { TENANT_EVENTS, WEBHOOK_EVENTS, webhookUrlRefusal } from "@/server/webhooks/delivery";
import { audit } from "@/server/services/audit";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure, tenantProcedure } from "../trpc";
import { transact } from "../transact";

const uniques = { webhooks_owner_name_uq: { field: "name", message: "A webhook with this name exists already." } };

const nameField = z.string().trim().min(1, "Give the webhook a name").max(80);
const urlField = z.string().trim().min(1, "Give the endpoint's URL").max(2000);

function fields(events: readonly string[]) {
  return {
    name: nameField,
    url: urlField,
    events: z
      .array(z.enum(events as [string, ...string[]]))
      .min(1, "Pick at least one event")
      .max(events.length),
  };
}

const columns = {
  ...columnsOf(webhooks, "id", "name", "url", "events", "enabled", "createdAt", "updatedAt"),
  lastDelivery: sql<{ status: string; responseStatus: number | null; error: string | null; at: string } | null>`(
    select jsonb_build_object('status', d.status, 'responseStatus', d.response_status, 'error', d.error, 'at', coalesce(d.last_attempt_at, d.created_at))
      from webhook_deliveries d where d.webhook_id = "webhooks"."id" order by d.created_at desc limit 1)`,
};

type Owner = { tenantId: string | null };
type Ctx = Parameters<typeof audit>[1] & { db: import("@/db/client").Db };

const ownerWhere = (o: Owner): SQL => (o.tenantId ? eq(webhooks.tenantId, o.tenantId) : isNull(webhooks.tenantId));

async function checkUrl(url: string) {
  const refusal = await webhookUrlRefusal(url);
  if (refusal) throw fieldError("url", refusal, "BAD_REQUEST");
}

async function owned(tx: Tx | Ctx["db"], o: Owner, id: string) {
  const [row] = await tx
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), ownerWhere(o)));
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "That webhook does not exist." });
  return row;
}

type AnyCtx = Ctx & { principal: { email: string } };
const listInput = pageInput.pick({ cursor: true, limit: true });
const updateInput = (events: readonly string[]) =>
  z.object({ id: z.uuid(), name: nameField.optional(), url: urlField.optional(), events: fields(events).events.optional(), enabled: z.boolean().optional() });
const idInput = z.object({ id: z.uuid() });
const deliveriesInput = pageInput.pick({ cursor: true, limit: true }).extend({ id: z.uuid() });
const redeliverInput = z.object({ id: z.uuid(), deliveryId: z.uuid() });

async function list(ctx: AnyCtx, o: Owner, input: z.infer<typeof listInput>) {
  return listPage(ctx.db.select(columns).from(webhooks), { ...input, dir: "asc" }, { sort: { createdAt: webhooks.createdAt }, id: webhooks.id }, ownerWhere(o));
}

async function create(ctx: AnyCtx, o: Owner, input: { name: string; url: string; events: string[] }) {
  await checkUrl(input.url);
  const secret = `whsec_${randomBytes(24).toString("base64url")}`;
  return transact(
    ctx.db,
    async (tx) => {
      const [row] = await tx
        .insert(webhooks)
        .values({
          tenantId: o.tenantId,
          name: input.name,
          url: input.url,
          events: [...new Set(input.events)],
          secret: seal(secret),
          createdBy: ctx.principal.email,
        })
        .returning({
          ...columnsOf(webhooks, "id", "name", "url", "events", "enabled", "createdAt"),
        });
      await audit(tx, ctx, {
        action: "webhook.create",
        targetType: "webhook",
        targetId: row!.id,
        targetName: row!.name,
        tenantId: o.tenantId,
        details: { url: input.url, events: input.events },
      });
      return { ...row!, secret };
    },
    uniques,
  );
}

async function update(ctx: AnyCtx, o: Owner, input: { id: string; name?: string; url?: string; events?: string[]; enabled?: boolean }) {
  if (input.url) await checkUrl(input.url);
  return transact(
    ctx.db,
    async (tx) => {
      const before = await owned(tx, o, input.id);
      const set = {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      };
      if (!Object.keys(set).length) return { id: before.id, name: before.name, url: before.url, events: before.events, enabled: before.enabled };
      const [row] = await tx
        .update(webhooks)
        .set(set)
        .where(eq(webhooks.id, before.id))
        .returning({ id: webhooks.id, name: webhooks.name, url: webhooks.url, events: webhooks.events, enabled: webhooks.enabled });
      await audit(tx, ctx, { action: "webhook.update", targetType: "webhook", targetId: row!.id, targetName: row!.name, tenantId: o.tenantId, details: set });
      return row!;
    },
    uniques,
  );
}

async function remove(ctx: AnyCtx, o: Owner, input: { id: string }) {
  return ctx.db.transaction(async (tx) => {
    const row = await owned(tx, o, input.id);
    await tx.delete(webhooks).where(eq(webhooks.id, row.id));
    await audit(tx, ctx, { action: "webhook.delete", targetType: "webhook", targetId: row.id, targetName: row.name, tenantId: o.tenantId });
    return { id: row.id };
  });
}

async function deliveries(ctx: AnyCtx, o: Owner, input: z.infer<typeof deliveriesInput>) {
  await owned(ctx.db, o, input.id);
  const query = ctx.db
    .select({
      ...columnsOf(
        webhookDeliveries,
        "id",
        "type",
        "status",
        "attempts",
        "responseStatus",
        "responseBody",
        "error",
        "lastAttemptAt",
        "deliveredAt",
        "createdAt",
      ),
    })
    .from(webhookDeliveries);
  const order = { sort: { createdAt: webhookDeliveries.createdAt }, id: webhookDeliveries.id };
  return listPage(query, { ...input, dir: "desc" }, order, eq(webhookDeliveries.webhookId, input.id));
}

/** A ping delivered like any event (type "webhook.ping"), to check the endpoint and its signature check. */
async function test(ctx: AnyCtx, o: Owner, input: { id: string }) {
  const row = await owned(ctx.db, o, input.id);
  const deliveryId = await ctx.db.transaction(async (tx) => {
    const [ev] = await tx
      .insert(webhookEvents)
      .values({ type: "webhook.ping", tenantId: o.tenantId, payload: { webhookId: row.id, name: row.name }, dispatched: true })
      .returning({ id: webhookEvents.id, createdAt: webhookEvents.createdAt });
    const [d] = await tx
      .insert(webhookDeliveries)
      .values({
        webhookId: row.id,
        eventId: ev!.id,
        type: "webhook.ping",
        payload: { type: "webhook.ping", createdAt: ev!.createdAt.toISOString(), tenantId: o.tenantId, data: { webhookId: row.id, name: row.name } },
      })
      .returning({ id: webhookDeliveries.id });
    await audit(tx, ctx, { action: "webhook.test", targetType: "webhook", targetId: row.id, targetName: row.name, tenantId: o.tenantId });
    return d!.id;
  });
  await enqueue(catalog.webhookDeliver, [deliveryId], { workflowID: `webhook-delivery-${deliveryId}` });
  return { deliveryId };
}

/** Sends a failed delivery again. */
async function redeliver(ctx: AnyCtx, o: Owner, input: z.infer<typeof redeliverInput>) {
  const row = await owned(ctx.db, o, input.id);
  const [d] = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, input.deliveryId), eq(webhookDeliveries.webhookId, row.id)));
  if (!d) throw new TRPCError({ code: "NOT_FOUND", message: "That delivery does not exist." });
  if (d.status !== "failed")
    throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Only a failed delivery can be sent again; this one is ${d.status}.` });
  await ctx.db
    .update(webhookDeliveries)
    .set({ status: "pending", attempts: 0, error: null, responseStatus: null, responseBody: null })
    .where(eq(webhookDeliveries.id, d.id));
  await enqueue(catalog.webhookDeliver, [d.id], { workflowID: `webhook-redelivery-${d.id}-${Date.now()}` });
  return { deliveryId: d.id };
}

const tenantRead = tenantProcedure("tenant-admin");
const tenantWrite = tenantProcedure("tenant-admin", { write: true });
const t = (ctx: { tenant: { id: string } }): Owner => ({ tenantId: ctx.tenant.id });

export const webhooksRouter = createTRPCRouter({
  events: tenantRead.query(() => TENANT_EVENTS),
  list: tenantRead.input(listInput).query(({ ctx, input }) => list(ctx, t(ctx), input)),
  create: tenantWrite.input(z.object(fields(TENANT_EVENTS))).mutation(({ ctx, input }) => create(ctx, t(ctx), input)),
  update: tenantWrite.input(updateInput(TENANT_EVENTS)).mutation(({ ctx, input }) => update(ctx, t(ctx), input)),
  delete: tenantWrite.input(idInput).mutation(({ ctx, input }) => remove(ctx, t(ctx), input)),
  deliveries: tenantRead.input(deliveriesInput).query(({ ctx, input }) => deliveries(ctx, t(ctx), input)),
  test: tenantWrite.input(idInput).mutation(({ ctx, input }) => test(ctx, t(ctx), input)),
  redeliver: tenantWrite.input(redeliverInput).mutation(({ ctx, input }) => redeliver(ctx, t(ctx), input)),
});

const platform: Owner = { tenantId: null };
const opsRead = operatorProcedure("operator-viewer");
const opsWrite = operatorProcedure("operator-admin");

export const platformWebhooksRouter = createTRPCRouter({
  events: opsRead.query(() => WEBHOOK_EVENTS),
  list: opsRead.input(listInput).query(({ ctx, input }) => list(ctx, platform, input)),
  create: opsWrite.input(z.object(fields(WEBHOOK_EVENTS))).mutation(({ ctx, input }) => create(ctx, platform, input)),
  update: opsWrite.input(updateInput(WEBHOOK_EVENTS)).mutation(({ ctx, input }) => update(ctx, platform, input)),
  delete: opsWrite.input(idInput).mutation(({ ctx, input }) => remove(ctx, platform, input)),
  deliveries: opsRead.input(deliveriesInput).query(({ ctx, input }) => deliveries(ctx, platform, input)),
  test: opsWrite.input(idInput).mutation(({ ctx, input }) => test(ctx, platform, input)),
  redeliver: opsWrite.input(redeliverInput).mutation(({ ctx, input }) => redeliver(ctx, platform, input)),
});
