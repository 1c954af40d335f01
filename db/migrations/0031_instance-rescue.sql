ALTER TYPE "public"."instance_state" ADD VALUE 'rescuing' BEFORE 'deleting';--> statement-breakpoint
ALTER TYPE "public"."instance_state" ADD VALUE 'rescue' BEFORE 'deleting';--> statement-breakpoint
ALTER TYPE "public"."instance_state" ADD VALUE 'unrescuing' BEFORE 'deleting';--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "rescue_storage_volume_id" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "rescue" boolean DEFAULT false NOT NULL;