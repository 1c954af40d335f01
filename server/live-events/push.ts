// The receiver of pushed BMC events (POST /api/bmc-events/<token>; app/api/bmc-events/[token]/route.ts): a BMC without
// an event stream POSTs its Redfish Events to the EventDestination server/live-events/service.ts created there. The
// token is that subscription's secret: its hash (bmc_event_subscriptions.token_hash) names the node, so a request
// with an unknown token is 404 and changes nothing. The body is checked against the subset of the Redfish Event schema
// Anvil reads (size bounded by the front door, server/lib/body-limit.ts); a valid one makes the node be polled and its
// SEL read at once — the path a streamed event takes (LiveEvents.refreshSoon), so hardware_events stay free of
// duplicates and browsers hear of new rows through the same NOTIFY. Kept free of the workflow modules: the route
// bundle is apart from server.ts, so the running service is reached through globalThis.
import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { getDb } from "@/db/client";
import { bmcEventSubscriptions } from "@/db/schema";
import { logger } from "@/server/lib/log";

/** The receiver's path; a subscription's Destination is this plus its token. */
export const PUSH_PATH = "/api/bmc-events/";

/** What the bmc_event_subscriptions row keeps of a token (the token itself is a bearer secret; only the BMC holds it). */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** 32 random bytes, base64url (service.ts makes them): anything else cannot be a token. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const text = z.string().max(4096);

/** The part of a Redfish Event (DSP8010 Event.v1_x) Anvil reads; other properties are allowed and ignored. */
export const pushedEvent = z.looseObject({
  "@odata.type": text.optional(),
  Id: text.optional(),
  Name: text.optional(),
  Context: text.optional(),
  Events: z
    .array(
      z.looseObject({
        EventType: text.optional(),
        EventId: text.optional(),
        EventTimestamp: text.optional(),
        Severity: text.optional(),
        MessageSeverity: text.optional(),
        Message: text.optional(),
        MessageId: text,
        MessageArgs: z.array(z.string().max(4096)).max(64).optional(),
        OriginOfCondition: z.looseObject({ "@odata.id": text }).optional(),
      }),
    )
    .min(1)
    .max(256),
});

/** What a process's live-event service offers the receiver (server/live-events/service.ts LiveEvents). */
interface Refresher {
  refreshSoon(nodeId: string): void;
}

/** Pushes accepted by this process since start (for tests and the benchmark). */
export const pushStats = { accepted: 0 };

const fail = (status: number, code: string, message: string) => Response.json({ error: { message, code } }, { status });

export async function receivePush(req: Request): Promise<Response> {
  const token = decodeURIComponent(new URL(req.url).pathname.slice(PUSH_PATH.length));
  try {
    const [sub] = TOKEN.test(token)
      ? await getDb()
          .select({ nodeId: bmcEventSubscriptions.nodeId })
          .from(bmcEventSubscriptions)
          .where(and(eq(bmcEventSubscriptions.tokenHash, tokenHash(token)), eq(bmcEventSubscriptions.delivery, "push")))
      : [];
    if (!sub) return fail(404, "NOT_FOUND", "No event subscription has this address (it was deleted or never made).");
    let body: unknown;
    try {
      body = JSON.parse(await req.text());
    } catch {
      return fail(400, "BAD_REQUEST", "The body is not JSON; a Redfish Event (application/json) is expected.");
    }
    const parsed = pushedEvent.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return fail(400, "BAD_REQUEST", `Not a Redfish Event: ${i.path.join(".") || "(body)"}: ${i.message}`);
    }
    if (parsed.data.Context !== undefined && parsed.data.Context !== token) return fail(400, "BAD_REQUEST", "The event's Context is not this subscription's.");
    const svc = (globalThis as { __anvilLiveEvents?: Refresher }).__anvilLiveEvents;
    if (!svc) return fail(503, "UNAVAILABLE", "Live events are not running in this process; the periodic sync will read the node.");
    logger.debug({ node: sub.nodeId, events: parsed.data.Events.length }, "live events: pushed by the BMC");
    svc.refreshSoon(sub.nodeId);
    pushStats.accepted++;
    return new Response(null, { status: 204 });
  } catch (e) {
    if (req.signal.aborted) return fail(400, "BAD_REQUEST", "The request ended before its body arrived.");
    logger.warn({ err: (e as Error).message }, "live events: a pushed event could not be handled");
    return fail(503, "UNAVAILABLE", "The event could not be handled now; the periodic sync will read the node.");
  }
}
