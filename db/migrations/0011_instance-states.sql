ALTER TYPE "public"."instance_state" ADD VALUE 'starting' BEFORE 'stopping';--> statement-breakpoint
ALTER TYPE "public"."instance_state" ADD VALUE 'rebooting' BEFORE 'deleting';--> statement-breakpoint
ALTER TYPE "public"."instance_state" ADD VALUE 'rebuilding' BEFORE 'deleting';--> statement-breakpoint
ALTER TYPE "public"."instance_state" ADD VALUE 'recovering' BEFORE 'deleting';