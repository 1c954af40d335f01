ALTER TABLE "ports" ADD COLUMN "applied_rules_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ports" ADD COLUMN "rules_applied_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ports" ADD COLUMN "rules_applied_hash" text;--> statement-breakpoint
ALTER TABLE "ports" ADD COLUMN "rules_error" text;--> statement-breakpoint
ALTER TABLE "ports" ADD COLUMN "rules_error_dpu_id" uuid;--> statement-breakpoint
ALTER TABLE "ports" ADD COLUMN "rules_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ports" ADD COLUMN "rules_retry_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ports" ADD CONSTRAINT "ports_rules_error_dpu_id_nodes_id_fk" FOREIGN KEY ("rules_error_dpu_id") REFERENCES "public"."nodes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ports_rules_pending_idx" ON "ports" USING btree ("node_id") WHERE "ports"."applied_rules_version" < "ports"."rules_version" and "ports"."node_id" is not null;