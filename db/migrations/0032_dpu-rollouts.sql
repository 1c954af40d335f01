CREATE TABLE "rollout_hosts" (
	"rollout_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"host_name" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"message" text,
	"operation_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"started_at" timestamp (3) with time zone,
	"ended_at" timestamp (3) with time zone,
	CONSTRAINT "rollout_hosts_rollout_id_host_id_pk" PRIMARY KEY("rollout_id","host_id")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"image_uri" text NOT NULL,
	"max_unavailable" integer NOT NULL,
	"instance_policy" text NOT NULL,
	"pool_id" uuid,
	"status" text DEFAULT 'running' NOT NULL,
	"reason" text,
	"run_active" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp (3) with time zone,
	CONSTRAINT "rollouts_max_unavailable" CHECK ("rollouts"."max_unavailable" between 1 and 100)
);
--> statement-breakpoint
ALTER TABLE "rollout_hosts" ADD CONSTRAINT "rollout_hosts_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_hosts" ADD CONSTRAINT "rollout_hosts_host_id_nodes_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rollout_hosts_order_idx" ON "rollout_hosts" USING btree ("rollout_id","position");--> statement-breakpoint
CREATE INDEX "rollout_hosts_host_idx" ON "rollout_hosts" USING btree ("host_id");--> statement-breakpoint
CREATE INDEX "rollouts_created_idx" ON "rollouts" USING btree ("created_at","id");