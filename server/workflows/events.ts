// Hardware events (SEL entries, power/health changes, faults, agent heartbeats, firmware steps) for a node. Each write
// that adds rows also notifies HARDWARE_EVENTS_CHANNEL (Postgres NOTIFY: delivered when the transaction commits, to
// every replica), which server/live-events/browser.ts passes on to the browsers watching.
import { sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { hardwareEvents } from "@/db/schema";

export const HARDWARE_EVENTS_CHANNEL = "anvil_hardware_events";
/** More nodes than this in one write: the notification names none ("*"), staying far below NOTIFY's 8000 bytes. */
const NOTIFY_MAX_NODES = 100;

export interface HardwareEvent {
  kind: "sel" | "power" | "health" | "fault" | "agent" | "firmware" | "lifecycle" | "console";
  severity: "info" | "ok" | "warning" | "critical";
  message: string;
  sourceId?: string | null;
  at?: Date;
  details?: Record<string, unknown>;
}

/** Inserts the events (one with a sourceId already recorded for its node and kind is skipped); returns how many were new. */
export async function recordEvents(db: Db | Tx, rows: (HardwareEvent & { nodeId: string })[]): Promise<number> {
  if (rows.length === 0) return 0;
  const added = await db
    .insert(hardwareEvents)
    .values(
      rows.map((e) => ({
        nodeId: e.nodeId,
        kind: e.kind,
        severity: e.severity,
        message: e.message,
        sourceId: e.sourceId ?? null,
        at: e.at ?? new Date(),
        details: e.details ?? null,
      })),
    )
    .onConflictDoNothing()
    .returning({ nodeId: hardwareEvents.nodeId });
  if (added.length === 0) return 0;
  const ids = [...new Set(added.map((r) => r.nodeId))];
  const payload = JSON.stringify({ nodes: ids.length > NOTIFY_MAX_NODES ? "*" : ids });
  await db.execute(sql`select pg_notify(${HARDWARE_EVENTS_CHANNEL}, ${payload})`);
  return added.length;
}

export function recordEvent(db: Db | Tx, nodeId: string, e: HardwareEvent) {
  return recordEvents(db, [{ ...e, nodeId }]);
}
