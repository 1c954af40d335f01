CREATE TYPE "public"."image_format" AS ENUM('raw', 'qcow2');--> statement-breakpoint
CREATE TYPE "public"."image_source" AS ENUM('upload', 'snapshot', 'clone');--> statement-breakpoint
CREATE TYPE "public"."image_state" AS ENUM('creating', 'available', 'deleting', 'error');--> statement-breakpoint
CREATE TYPE "public"."image_visibility" AS ENUM('public', 'tenant');--> statement-breakpoint
CREATE TYPE "public"."snapshot_state" AS ENUM('creating', 'available', 'deleting', 'error');--> statement-breakpoint
CREATE TYPE "public"."volume_kind" AS ENUM('system', 'data');--> statement-breakpoint
CREATE TYPE "public"."volume_state" AS ENUM('creating', 'available', 'attached', 'deleting', 'error');--> statement-breakpoint
CREATE TABLE "images" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"os" text NOT NULL,
	"version" text NOT NULL,
	"min_size_gib" integer NOT NULL,
	"size_bytes" bigint NOT NULL,
	"format" "image_format" DEFAULT 'raw' NOT NULL,
	"visibility" "image_visibility" DEFAULT 'public' NOT NULL,
	"tenant_id" uuid,
	"source" "image_source" NOT NULL,
	"source_snapshot_id" uuid,
	"source_image_id" uuid,
	"logical_pool_id" text NOT NULL,
	"storage_volume_id" text,
	"storage_snapshot_id" text,
	"state" "image_state" DEFAULT 'creating' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "images_visibility_tenant" CHECK (("images"."visibility" = 'tenant') = ("images"."tenant_id" is not null)),
	CONSTRAINT "images_min_size" CHECK ("images"."min_size_gib" between 1 and 65536),
	CONSTRAINT "images_size_positive" CHECK ("images"."size_bytes" > 0)
);
--> statement-breakpoint
CREATE TABLE "snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"volume_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"size_gib" integer NOT NULL,
	"state" "snapshot_state" DEFAULT 'creating' NOT NULL,
	"storage_snapshot_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volume_attachments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"volume_id" uuid NOT NULL,
	"multi_attach" boolean NOT NULL,
	"node_id" uuid,
	"instance_id" uuid,
	"storage_target_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volumes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"size_gib" integer NOT NULL,
	"kind" "volume_kind" DEFAULT 'data' NOT NULL,
	"logical_pool_id" text NOT NULL,
	"source_image_id" uuid,
	"source_snapshot_id" uuid,
	"multi_attach" boolean DEFAULT false NOT NULL,
	"state" "volume_state" DEFAULT 'creating' NOT NULL,
	"storage_volume_id" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "volumes_id_multi_attach_uq" UNIQUE("id","multi_attach"),
	CONSTRAINT "volumes_size_positive" CHECK ("volumes"."size_gib" between 1 and 65536)
);
--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_source_snapshot_id_snapshots_id_fk" FOREIGN KEY ("source_snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_source_image_id_images_id_fk" FOREIGN KEY ("source_image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_volume_id_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volumes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_attachments" ADD CONSTRAINT "volume_attachments_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_attachments" ADD CONSTRAINT "volume_attachments_volume_fk" FOREIGN KEY ("volume_id","multi_attach") REFERENCES "public"."volumes"("id","multi_attach") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_source_image_id_images_id_fk" FOREIGN KEY ("source_image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_source_snapshot_id_snapshots_id_fk" FOREIGN KEY ("source_snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "images_scope_name_uq" ON "images" USING btree (coalesce("tenant_id", '00000000-0000-0000-0000-000000000000'::uuid),lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "images_storage_volume_uq" ON "images" USING btree ("storage_volume_id");--> statement-breakpoint
CREATE INDEX "images_os_idx" ON "images" USING btree ("os","version");--> statement-breakpoint
CREATE INDEX "images_created_idx" ON "images" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "images_tenant_idx" ON "images" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "snapshots_tenant_name_uq" ON "snapshots" USING btree ("tenant_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "snapshots_storage_snapshot_uq" ON "snapshots" USING btree ("storage_snapshot_id");--> statement-breakpoint
CREATE INDEX "snapshots_tenant_created_idx" ON "snapshots" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "snapshots_volume_idx" ON "snapshots" USING btree ("volume_id");--> statement-breakpoint
CREATE UNIQUE INDEX "volume_attachments_single_uq" ON "volume_attachments" USING btree ("volume_id") WHERE not "volume_attachments"."multi_attach";--> statement-breakpoint
CREATE UNIQUE INDEX "volume_attachments_node_uq" ON "volume_attachments" USING btree ("volume_id","node_id");--> statement-breakpoint
CREATE INDEX "volume_attachments_node_idx" ON "volume_attachments" USING btree ("node_id");--> statement-breakpoint
CREATE UNIQUE INDEX "volumes_tenant_name_uq" ON "volumes" USING btree ("tenant_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "volumes_storage_volume_uq" ON "volumes" USING btree ("storage_volume_id");--> statement-breakpoint
CREATE INDEX "volumes_tenant_created_idx" ON "volumes" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "volumes_created_idx" ON "volumes" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "volumes_state_idx" ON "volumes" USING btree ("state");--> statement-breakpoint
CREATE INDEX "volumes_pool_idx" ON "volumes" USING btree ("logical_pool_id");--> statement-breakpoint
CREATE INDEX "volumes_source_image_idx" ON "volumes" USING btree ("source_image_id");--> statement-breakpoint
CREATE INDEX "volumes_source_snapshot_idx" ON "volumes" USING btree ("source_snapshot_id");