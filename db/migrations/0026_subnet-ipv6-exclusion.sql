-- Sibling subnets' IPv6 ranges never overlap either (drizzle cannot express EXCLUDE; see 0004_network-exclusion.sql).
-- Rows without an IPv6 range are left out, so IPv4-only siblings never clash on it.
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_ipv6_no_overlap" EXCLUDE USING gist ("vpc_id" WITH =, "ipv6_cidr" inet_ops WITH &&) WHERE ("ipv6_cidr" IS NOT NULL);
