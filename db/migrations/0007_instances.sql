CREATE TYPE "public"."instance_recovery_policy" AS ENUM('manual', 'reprovision');--> statement-breakpoint
CREATE TYPE "public"."instance_state" AS ENUM('creating', 'running', 'stopping', 'stopped', 'deleting', 'failed', 'deleted');--> statement-breakpoint
CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"pool_id" uuid NOT NULL,
	"node_id" uuid,
	"image_id" uuid,
	"subnet_id" uuid,
	"security_group_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"system_volume_size_gib" integer NOT NULL,
	"storage_volume_id" text,
	"storage_target_id" text,
	"port_id" uuid,
	"extra_port_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"state" "instance_state" DEFAULT 'creating' NOT NULL,
	"state_reason" text,
	"user_data" text DEFAULT '' NOT NULL,
	"ssh_key_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"recovery_policy" "instance_recovery_policy" DEFAULT 'manual' NOT NULL,
	"operation_id" uuid,
	"cores" integer DEFAULT 0 NOT NULL,
	"ram_gib" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "instances_size_positive" CHECK ("instances"."system_volume_size_gib" > 0)
);
--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_subnet_id_subnets_id_fk" FOREIGN KEY ("subnet_id") REFERENCES "public"."subnets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_port_id_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."ports"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_operation_id_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."operations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "instances_tenant_name_uq" ON "instances" USING btree ("tenant_id",lower("name")) WHERE "instances"."state" <> 'deleted';--> statement-breakpoint
CREATE UNIQUE INDEX "instances_node_uq" ON "instances" USING btree ("node_id") WHERE "instances"."node_id" is not null;--> statement-breakpoint
CREATE INDEX "instances_tenant_created_idx" ON "instances" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "instances_pool_idx" ON "instances" USING btree ("pool_id");