// Column helpers shared by every schema area file (no tables here). Timestamps are millisecond-precise so
// time-sorted cursors (server/api/pagination.ts) round-trip exactly. The references to tenants and users live beside
// those tables (tenantRef in tenancy.ts, userRef in identity.ts).
import { text, timestamp, uuid } from "drizzle-orm/pg-core";

/** A timestamp column (with time zone, milliseconds). */
export const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });
/** The surrogate key: a random uuid. */
export const uuidPk = () => uuid("id").primaryKey().defaultRandom();
/** A name a person chose (unique per scope by an index on lower(name)) and an optional description. */
export const nameAndDescription = () => ({ name: text("name").notNull(), description: text("description").notNull().default("") });

export const createdAt = () => instant("created_at").notNull().defaultNow();
export const updatedAt = () =>
  instant("updated_at")
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
/** created_at and updated_at (set on every update). */
export const timestamps = () => ({ createdAt: createdAt(), updatedAt: updatedAt() });
