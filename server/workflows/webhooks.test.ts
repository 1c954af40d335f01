// Webhooks end to end on the real workflow engine and a real HTTP receiver on 127.0.0.1: events written by the
// database's triggers reach exactly the webhooks that asked for them (a tenant's own events only; node faults to
// platform webhooks), signed (verified here as a receiver would), retried with backoff until the endpoint answers,
// given up after the last retry with the endpoint's answer recorded, and sent again on request. The delivery policy
// refuses private addresses and plain http unless allowed, and the secret is stored sealed.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { verifySignature, webhookUrlRefusal } from "@/server/webhooks/delivery";
import { useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { startEngine, stopEngine } from "./engine";
import { workflows } from "./registry";
import { enqueueDeliveries, fanOutWebhookEvents } from "./webhooks";

process.env.ANVIL_WEBHOOK_ALLOW = "127.0.0.0/8";
process.env.ANVIL_WEBHOOK_ALLOW_HTTP = "1";
process.env.ANVIL_WEBHOOK_RETRIES = "3";
process.env.ANVIL_WEBHOOK_RETRY_MS = "100";

const db = useTestDb();
let fx: Fixtures;
let receiver: http.Server;
let base: string;
const got: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let failNext = 0;
let alwaysFail = false;

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  fx = await makeFixtures(db);
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      got.push({ path: req.url ?? "", headers: req.headers, body });
      if (alwaysFail || failNext > 0) {
        failNext--;
        res.writeHead(503, { "content-type": "text/plain" }).end("receiver is down for maintenance");
      } else res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: "webhooks-test", schedules: false });
});

afterAll(async () => {
  await stopEngine();
  await new Promise((r) => receiver?.close(r));
});

async function instanceIn(tenantId: string) {
  const [p] = await db
    .insert(s.pools)
    .values({ name: `wh-${crypto.randomUUID().slice(0, 8)}`, resourceClass: "bm.test" })
    .returning();
  const [i] = await db
    .insert(s.instances)
    .values({ tenantId, poolId: p!.id, name: `wh-${crypto.randomUUID().slice(0, 6)}`, systemVolumeSizeGiB: 10 })
    .returning();
  return i!;
}

async function dispatch() {
  const ids = await fanOutWebhookEvents();
  await enqueueDeliveries(ids);
  return ids;
}

const delivery = (id: string) => db.query.webhookDeliveries.findFirst({ where: (d, { eq: e }) => e(d.id, id) });

describe("webhooks", () => {
  let hook: { id: string; secret: string };

  it("refuses endpoints on private networks and plain http unless allowed; stores the secret sealed", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    await expect(
      admin.webhooks.create({ tenant: fx.tenant.slug, name: "private", url: "https://10.1.2.3/hook", events: ["instance.state_changed"] }),
    ).rejects.toThrow(/private address/);
    delete process.env.ANVIL_WEBHOOK_ALLOW_HTTP;
    try {
      expect(await webhookUrlRefusal(`${base}/x`)).toBe("Webhook URLs must use https://");
    } finally {
      process.env.ANVIL_WEBHOOK_ALLOW_HTTP = "1";
    }
    delete process.env.ANVIL_WEBHOOK_ALLOW;
    try {
      expect(await webhookUrlRefusal("https://127.0.0.1/hook")).toMatch(/loopback address/);
    } finally {
      process.env.ANVIL_WEBHOOK_ALLOW = "127.0.0.0/8";
    }
    await expect(admin.webhooks.create({ tenant: fx.tenant.slug, name: "none", url: `${base}/x`, events: [] })).rejects.toThrow(/Pick at least one event/);
    await expect(admin.webhooks.create({ tenant: fx.tenant.slug, name: "faults", url: `${base}/x`, events: ["node.fault"] as never })).rejects.toThrow();

    const created = await admin.webhooks.create({
      tenant: fx.tenant.slug,
      name: "ci",
      url: `${base}/tenant`,
      events: ["instance.state_changed", "operation.failed"],
    });
    expect(created.secret).toMatch(/^whsec_/);
    hook = { id: created.id, secret: created.secret };
    const [row] = await db.select().from(s.webhooks).where(eq(s.webhooks.id, created.id));
    expect(row!.secret).not.toContain(created.secret);
    // The list never shows the secret again.
    const list = await admin.webhooks.list({ tenant: fx.tenant.slug });
    expect(JSON.stringify(list)).not.toContain(created.secret);
  });

  it("delivers a tenant's own instance events, signed, and only those it asked for", async () => {
    const mine = await instanceIn(fx.tenant.id);
    const theirs = await instanceIn(fx.otherTenant.id);
    await db.update(s.instances).set({ state: "running" }).where(eq(s.instances.id, mine.id));
    await db.update(s.instances).set({ state: "running" }).where(eq(s.instances.id, theirs.id));
    // An operation that succeeded: not asked for.
    const [op] = await db.insert(s.operations).values({ kind: "instance.create", targetType: "instance", tenantId: fx.tenant.id, steps: [] }).returning();
    await db.update(s.operations).set({ status: "succeeded" }).where(eq(s.operations.id, op!.id));
    await dispatch();
    const mineIds = (await db.select().from(s.webhookDeliveries).where(eq(s.webhookDeliveries.webhookId, hook.id))).map((d) => d.id);
    expect(mineIds).toHaveLength(1);
    const d = await until("delivered", async () => {
      const x = await delivery(mineIds[0]!);
      return x?.status === "delivered" ? x : null;
    });
    expect(d).toMatchObject({ attempts: 1, responseStatus: 200, responseBody: '{"ok":true}', error: null });
    const req = got.find((g) => g.headers["anvil-delivery"] === mineIds[0])!;
    expect(req.path).toBe("/tenant");
    expect(req.headers["anvil-event"]).toBe("instance.state_changed");
    expect(verifySignature(hook.secret, req.body, String(req.headers["anvil-signature"]))).toBe(true);
    expect(verifySignature("whsec_wrong", req.body, String(req.headers["anvil-signature"]))).toBe(false);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      id: mineIds[0],
      type: "instance.state_changed",
      tenantId: fx.tenant.id,
      data: { instanceId: mine.id, from: "creating", to: "running" },
    });
    expect(req.body).not.toContain(theirs.id);
  });

  it("retries with backoff until the endpoint answers, recording each attempt", async () => {
    failNext = 2;
    const inst = await instanceIn(fx.tenant.id);
    await db.update(s.instances).set({ state: "failed", stateReason: "test" }).where(eq(s.instances.id, inst.id));
    await dispatch();
    const id = (await db.select().from(s.webhookDeliveries).where(eq(s.webhookDeliveries.webhookId, hook.id))).find(
      (d) => (d.payload as { data: { instanceId?: string } }).data.instanceId === inst.id,
    )?.id;
    const d = await until("delivered after retries", async () => {
      const x = await delivery(id!);
      return x?.status === "delivered" ? x : null;
    });
    expect(d.attempts).toBe(3);
    const attempts = got.filter((g) => g.headers["anvil-delivery"] === id);
    expect(attempts).toHaveLength(3);
  });

  it("gives up after the last retry with the endpoint's answer shown, and sends it again on request", async () => {
    alwaysFail = true;
    const admin = callerAs(fx, "tenantAdmin");
    const { deliveryId } = await admin.webhooks.test({ tenant: fx.tenant.slug, id: hook.id });
    const d = await until("failed", async () => {
      const x = await delivery(deliveryId);
      return x?.status === "failed" ? x : null;
    });
    expect(d).toMatchObject({ attempts: 4, responseStatus: 503, responseBody: "receiver is down for maintenance", error: "The endpoint answered HTTP 503" });
    const listed = await admin.webhooks.list({ tenant: fx.tenant.slug });
    expect(listed.items.find((w) => w.id === hook.id)!.lastDelivery).toMatchObject({ status: "failed", responseStatus: 503 });
    const page = await admin.webhooks.deliveries({ tenant: fx.tenant.slug, id: hook.id });
    expect(page.items[0]).toMatchObject({ id: deliveryId, type: "webhook.ping", status: "failed" });

    alwaysFail = false;
    await admin.webhooks.redeliver({ tenant: fx.tenant.slug, id: hook.id, deliveryId });
    await until("redelivered", async () => (await delivery(deliveryId))?.status === "delivered");
    // Another tenant cannot see or resend it.
    const other = callerAs(fx, "otherTenantMember");
    await expect(other.webhooks.deliveries({ tenant: fx.tenant.slug, id: hook.id })).rejects.toThrow();
  });

  it("sends node faults to platform webhooks, never to a tenant's", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const ph = await op.platformWebhooks.create({ name: `ops-${crypto.randomUUID().slice(0, 6)}`, url: `${base}/ops`, events: ["node.fault"] });
    const [n] = await db
      .insert(s.nodes)
      .values({
        name: `wh-${crypto.randomUUID().slice(0, 6)}`,
        bmcDriver: "redfish",
        bmcAddress: `http://127.0.0.1:9/redfish/v1/Systems/${crypto.randomUUID()}`,
        bmcCredentials: "x",
        bmcCredentialsFingerprint: "x",
      })
      .returning();
    await db.update(s.nodes).set({ fault: "BMC unreachable" }).where(eq(s.nodes.id, n!.id));
    await dispatch();
    const rows = (await db.select().from(s.webhookDeliveries).where(eq(s.webhookDeliveries.type, "node.fault"))).filter(
      (d) => (d.payload as { data: { nodeId?: string } }).data.nodeId === n!.id,
    );
    expect(rows.map((r) => r.webhookId)).toEqual([ph.id]);
    await until("fault delivered", async () => got.some((g) => g.path === "/ops" && JSON.parse(g.body).data.nodeId === n!.id));
  });
});
