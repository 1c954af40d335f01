// The BFF replicas sharing this database, each with a heartbeat, so a live replica can take over the pending
// workflows of one that died (server/workflows/replicas.ts). The executor id is the replica's DBOS executor id.
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, instant } from "./columns";

export const replicas = pgTable("replicas", {
  executorId: text("executor_id").primaryKey(),
  hostname: text("hostname").notNull(),
  pid: integer("pid").notNull(),
  startedAt: createdAt(),
  lastSeenAt: instant("last_seen_at").notNull().defaultNow(),
});
