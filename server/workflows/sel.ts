// The System Event Log into hardware_events: each BMC log entry (Redfish LogServices, IPMI SEL) becomes one "sel"
// event of its node, keyed by the entry's id and timestamp (sourceId), so reading the log again — after a live event,
// on inspect, on the periodic pass — never duplicates a row (hwevents_source_uq). The timestamp is part of the key
// because a BMC whose log was cleared numbers its entries from the start again.
import { eq } from "drizzle-orm";
import { getDb } from "@/db/client";
import { nodes } from "@/db/schema";
import type { BmcEvent } from "@/server/drivers/bmc";
import { driverFor } from "./bmc-access";
import { type HardwareEvent, recordEvents } from "./events";

/** Entries read per pass: the newest ones; older entries were read by earlier passes (or are history the BMC keeps). */
const SEL_LIMIT = Number(process.env.ANVIL_SEL_LIMIT ?? 200);

export function selSourceId(e: BmcEvent): string {
  return `${e.id}@${e.created ? e.created.toISOString() : "-"}`;
}

export function selEvent(e: BmcEvent): HardwareEvent {
  const details: Record<string, unknown> = {};
  if (e.messageId) details.messageId = e.messageId;
  if (e.sensorType) details.sensorType = e.sensorType;
  if (e.sensor) details.sensor = e.sensor;
  if (e.direction) details.direction = e.direction;
  return {
    kind: "sel",
    // A BMC's "OK" entry is a record of something that happened, not a recovery: info.
    severity: e.severity === "ok" ? "info" : e.severity,
    message: e.message,
    sourceId: selSourceId(e),
    ...(e.created ? { at: e.created } : {}),
    ...(Object.keys(details).length ? { details } : {}),
  };
}

/** Reads a node's SEL and records the entries not recorded yet. Returns how many rows were new. */
export async function readSel(nodeId: string): Promise<number> {
  const [n] = await getDb()
    .select({ id: nodes.id, bmcDriver: nodes.bmcDriver, bmcAddress: nodes.bmcAddress, bmcCredentials: nodes.bmcCredentials, bmcVerifyTls: nodes.bmcVerifyTls })
    .from(nodes)
    .where(eq(nodes.id, nodeId));
  // A DPU waiting for its own BMC credentials is not called (see bmc-access.ts).
  if (!n || n.bmcCredentials === null) return 0;
  const entries = await driverFor(n).listEvents({ limit: SEL_LIMIT });
  return recordEvents(
    getDb(),
    entries.map((e) => ({ ...selEvent(e), nodeId })),
  );
}
