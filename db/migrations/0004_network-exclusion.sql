-- Sibling subnets of one VPC never overlap, enforced by Postgres (drizzle cannot express EXCLUDE): equal vpc_id
-- (btree_gist provides = for uuid in a gist index) and overlapping cidr (inet_ops &&) cannot coexist.
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_no_overlap" EXCLUDE USING gist ("vpc_id" WITH =, "cidr" inet_ops WITH &&);--> statement-breakpoint
-- Provider networks do not overlap each other either.
ALTER TABLE "provider_networks" ADD CONSTRAINT "provider_networks_no_overlap" EXCLUDE USING gist ("cidr" inet_ops WITH &&);
