DROP INDEX "ip_allocations_port_uq";--> statement-breakpoint
ALTER TABLE "subnets" ADD COLUMN "ipv6_cidr" "cidr";--> statement-breakpoint
ALTER TABLE "subnets" ADD COLUMN "ipv6_gateway" "inet";--> statement-breakpoint
CREATE UNIQUE INDEX "ip_allocations_port_family_uq" ON "ip_allocations" USING btree ("port_id",family("address"));--> statement-breakpoint
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_ipv6_both" CHECK (("subnets"."ipv6_cidr" is null) = ("subnets"."ipv6_gateway" is null));--> statement-breakpoint
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_ipv6_cidr_64" CHECK ("subnets"."ipv6_cidr" is null or (family("subnets"."ipv6_cidr") = 6 and masklen("subnets"."ipv6_cidr") = 64));--> statement-breakpoint
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_ipv6_gateway_inside" CHECK ("subnets"."ipv6_gateway" is null or ("subnets"."ipv6_gateway" << "subnets"."ipv6_cidr" and host("subnets"."ipv6_gateway") <> host("subnets"."ipv6_cidr")));