// Operations area: the user-visible progress of each workflow run (server/workflows/operations.ts).
import { index, integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { instant, uuidPk, timestamps } from "./columns";

// Operations: the user-visible progress of a workflow (steps, current step, error), one per workflow run.
export const operations = pgTable(
  "operations",
  {
    id: uuidPk(),
    kind: text("kind").notNull(), // e.g. node.inspect, node.enroll_bulk, dpu.firmware_update, instance.create
    status: text("status").notNull().default("pending"), // pending | running | succeeded | failed | cancelled
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    targetName: text("target_name"),
    tenantId: uuid("tenant_id"),
    createdBy: text("created_by"),
    steps: jsonb("steps")
      .$type<
        {
          name: string;
          status: "pending" | "running" | "done" | "failed" | "skipped" | "compensated";
          startedAt?: string;
          endedAt?: string;
          error?: string;
          detail?: string;
        }[]
      >()
      .notNull()
      .default([]),
    currentStep: text("current_step"),
    progress: integer("progress"), // 0..100 when known
    error: text("error"),
    input: jsonb("input").$type<Record<string, unknown>>(),
    result: jsonb("result").$type<Record<string, unknown>>(),
    ...timestamps(),
    endedAt: instant("ended_at"),
  },
  (t) => [
    index("operations_created_idx").on(t.createdAt, t.id),
    index("operations_target_idx").on(t.targetType, t.targetId),
    index("operations_status_idx").on(t.status),
    index("operations_tenant_idx").on(t.tenantId, t.createdAt),
    // A tenant's operations by status (its home's failed and running work, the activity filter).
    index("operations_tenant_status_idx").on(t.tenantId, t.status, t.createdAt, t.id),
  ],
);
