// Hardware events (SEL entries, power/health changes, faults, agent heartbeats, firmware steps) for a node.
import type { Db, Tx } from "@/db/client";
import { hardwareEvents } from "@/db/schema";

export interface HardwareEvent {
  kind: "sel" | "power" | "health" | "fault" | "agent" | "firmware" | "lifecycle" | "console";
  severity: "info" | "ok" | "warning" | "critical";
  message: string;
  sourceId?: string | null;
  at?: Date;
  details?: Record<string, unknown>;
}

export async function recordEvents(db: Db | Tx, rows: (HardwareEvent & { nodeId: string })[]): Promise<void> {
  if (rows.length === 0) return;
  await db
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
    .onConflictDoNothing();
}

export function recordEvent(db: Db | Tx, nodeId: string, e: HardwareEvent) {
  return recordEvents(db, [{ ...e, nodeId }]);
}
