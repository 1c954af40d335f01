CREATE TYPE "public"."bmc_access" AS ENUM('direct', 'cascade');--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "bmc_access" "bmc_access" DEFAULT 'direct' NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_bmc_access_cascade" CHECK ("nodes"."bmc_access" = 'direct' or ("nodes"."kind" = 'dpu' and "nodes"."parent_node_id" is not null));