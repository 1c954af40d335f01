// Serial-console tenure: a per-node epoch bumped (by a trigger on `instances`, migration 0013) every time a host
// changes hands — an instance placed on it, moved off it (delete, rollback, recovery), deleted, or rebuilt. The
// console proxy ties each session to the epoch it was opened under and ends it, with its scrollback, when the
// epoch moves, so no viewer ever sees or types into the next tenant's server. Every replica hears the bump
// through NOTIFY anvil_console (payload "epoch:<node id>:<epoch>"); "access" on the same channel means some
// grant may have been revoked (sign-out, user disabled, membership removed, token revoked, tenant suspended).
import { bigint, pgTable, uuid } from "drizzle-orm/pg-core";
import { updatedAt } from "./columns";
import { nodes } from "./hardware";

export const consoleEpochs = pgTable("console_epochs", {
  nodeId: uuid("node_id")
    .primaryKey()
    .references(() => nodes.id, { onDelete: "cascade" }),
  epoch: bigint("epoch", { mode: "number" }).notNull().default(0),
  updatedAt: updatedAt(),
});
