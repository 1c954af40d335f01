// Column helpers shared by every schema area file (no tables here). Timestamps are millisecond-precise so
// time-sorted cursors (server/api/pagination.ts) round-trip exactly.
import { timestamp } from "drizzle-orm/pg-core";

export const createdAt = () => timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow();
export const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true, precision: 3 })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
