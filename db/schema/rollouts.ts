// Rollouts area: rolling DPU OS updates across a pool or a selection of hosts (issue #17 point 5). The rollout row is
// the desired state and the durable memory of the run (server/workflows/rollouts.ts reconciles it a tick at a time),
// one row per host says how far that host got; nothing about the run lives only in a process.
import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { instant, timestamps, uuidPk } from "./columns";
import { nodes, pools } from "./hardware";

export const rolloutStatuses = ["running", "paused", "aborted", "succeeded"] as const;
export const rolloutHostStates = ["pending", "updating", "done", "failed", "skipped"] as const;
export const instancePolicies = ["skip"] as const;

export const rollouts = pgTable(
  "rollouts",
  {
    id: uuidPk(),
    // The DPU OS image every DPU of every host takes (UpdateService.SimpleUpdate, as dpu.firmware_update).
    imageUri: text("image_uri").notNull(),
    // Hosts out of service at once (their DPUs updating).
    maxUnavailable: integer("max_unavailable").notNull(),
    // What happens to a host whose instances would lose their DPU: only "skip" (see instancePolicies).
    instancePolicy: text("instance_policy", { enum: instancePolicies }).notNull(),
    poolId: uuid("pool_id").references(() => pools.id, { onDelete: "set null" }),
    status: text("status", { enum: rolloutStatuses }).notNull().default("running"),
    // Why it paused or stopped, in words for the operator.
    reason: text("reason"),
    // A run of the workflow owns the rollout (set by whoever enqueues one, cleared by the run's last tick, both under
    // the row lock): a resume starts a new run only when none is going, so two never work one rollout.
    runActive: boolean("run_active").notNull().default(true),
    createdBy: text("created_by"),
    ...timestamps(),
    endedAt: instant("ended_at"),
  },
  (t) => [index("rollouts_created_idx").on(t.createdAt, t.id), check("rollouts_max_unavailable", sql`${t.maxUnavailable} between 1 and 100`)],
);

export const rolloutHosts = pgTable(
  "rollout_hosts",
  {
    rolloutId: uuid("rollout_id")
      .notNull()
      .references(() => rollouts.id, { onDelete: "cascade" }),
    hostId: uuid("host_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    // The order hosts are taken in (the host's name order when the rollout was created).
    position: integer("position").notNull(),
    hostName: text("host_name").notNull(),
    state: text("state", { enum: rolloutHostStates }).notNull().default("pending"),
    message: text("message"),
    // The dpu.firmware_update operations of the host's DPUs (one each).
    operationIds: jsonb("operation_ids").$type<string[]>().notNull().default([]),
    startedAt: instant("started_at"),
    endedAt: instant("ended_at"),
  },
  (t) => [
    primaryKey({ columns: [t.rolloutId, t.hostId] }),
    index("rollout_hosts_order_idx").on(t.rolloutId, t.position),
    index("rollout_hosts_host_idx").on(t.hostId),
  ],
);
