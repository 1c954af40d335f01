// The BFF replicas sharing this database, each with a heartbeat, so a live replica can take over the pending
// workflows of one that died (server/workflows/replicas.ts). The executor id is the replica's DBOS executor id.
import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

export const replicas = pgTable("replicas", {
  executorId: text("executor_id").primaryKey(),
  hostname: text("hostname").notNull(),
  pid: integer("pid").notNull(),
  startedAt: createdAt(),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});
