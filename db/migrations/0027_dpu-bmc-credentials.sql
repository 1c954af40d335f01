ALTER TABLE "nodes" ALTER COLUMN "bmc_credentials" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ALTER COLUMN "bmc_credentials_fingerprint" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_credentials_set" CHECK ("nodes"."kind" = 'dpu' or ("nodes"."bmc_credentials" is not null and "nodes"."bmc_credentials_fingerprint" is not null));