CREATE TABLE "hardware_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"node_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"severity" text NOT NULL,
	"message" text NOT NULL,
	"source_id" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text,
	"target_name" text,
	"tenant_id" uuid,
	"created_by" text,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"current_step" text,
	"progress" integer,
	"error" text,
	"input" jsonb,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "agent_status" text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "bmc_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "power_changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "inspected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "sync_shard" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "hardware_events" ADD CONSTRAINT "hardware_events_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "hwevents_at_idx" ON "hardware_events" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "hwevents_node_idx" ON "hardware_events" USING btree ("node_id","at");--> statement-breakpoint
CREATE INDEX "hwevents_sev_idx" ON "hardware_events" USING btree ("severity","at");--> statement-breakpoint
CREATE UNIQUE INDEX "hwevents_source_uq" ON "hardware_events" USING btree ("node_id","kind","source_id");--> statement-breakpoint
CREATE INDEX "operations_created_idx" ON "operations" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "operations_target_idx" ON "operations" USING btree ("target_type","target_id");--> statement-breakpoint
CREATE INDEX "operations_status_idx" ON "operations" USING btree ("status");--> statement-breakpoint
CREATE INDEX "operations_tenant_idx" ON "operations" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "nodes_list_idx" ON "nodes" USING btree ("kind","name","id");--> statement-breakpoint
CREATE INDEX "nodes_power_idx" ON "nodes" USING btree ("power_state");--> statement-breakpoint
CREATE INDEX "nodes_health_idx" ON "nodes" USING btree ("health");--> statement-breakpoint
CREATE INDEX "nodes_shard_idx" ON "nodes" USING btree ("sync_shard");--> statement-breakpoint
CREATE INDEX "nodes_fault_idx" ON "nodes" USING btree ("id") WHERE "nodes"."fault" is not null;