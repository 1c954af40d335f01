// Live events area: how each node's BMC events reach Anvil right now — an SSE stream this replica holds open, or a
// Redfish push subscription (EventDestination) at the BMC pointing at Anvil's receiver (/api/bmc-events/<token>).
// No row: the node is on the sync's polling alone. Written by server/live-events/service.ts; the receiver finds the
// node of a push by the token's hash (the token itself lives only at the BMC, in the subscription's Destination and
// Context).
import { check, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { instant } from "./columns";
import { nodes } from "./hardware";

export const bmcEventSubscriptions = pgTable(
  "bmc_event_subscriptions",
  {
    nodeId: uuid("node_id")
      .primaryKey()
      .references(() => nodes.id, { onDelete: "cascade" }),
    /** "sse": an event stream open from a replica; "push": an EventDestination at the BMC. */
    delivery: text("delivery").$type<"sse" | "push">().notNull(),
    /** The EventDestination's @odata.id at the BMC (push only): what is deleted when the node or its shard goes. */
    subscriptionUri: text("subscription_uri"),
    /** SHA-256 (hex) of the subscription's secret token (push only). */
    tokenHash: text("token_hash"),
    /** Where the BMC posts, without the token (push only): the receiver base this replica announced. */
    destination: text("destination"),
    updatedAt: instant("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("bmc_event_subs_token_uq").on(t.tokenHash),
    check("bmc_event_subs_delivery", sql`${t.delivery} in ('sse', 'push')`),
    check("bmc_event_subs_push", sql`${t.delivery} = 'sse' or (${t.subscriptionUri} is not null and ${t.tokenHash} is not null)`),
  ],
);
