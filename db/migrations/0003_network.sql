CREATE TYPE "public"."sg_direction" AS ENUM('ingress', 'egress');--> statement-breakpoint
CREATE TYPE "public"."sg_ethertype" AS ENUM('ipv4', 'ipv6');--> statement-breakpoint
CREATE TYPE "public"."sg_protocol" AS ENUM('tcp', 'udp', 'icmp', 'any');--> statement-breakpoint
CREATE TABLE "ip_allocations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"subnet_id" uuid NOT NULL,
	"address" "inet" NOT NULL,
	"port_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ip_allocations_host" CHECK (masklen("ip_allocations"."address") = case when family("ip_allocations"."address") = 4 then 32 else 128 end)
);
--> statement-breakpoint
CREATE TABLE "port_security_groups" (
	"port_id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	CONSTRAINT "port_security_groups_port_id_group_id_pk" PRIMARY KEY("port_id","group_id")
);
--> statement-breakpoint
CREATE TABLE "ports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"subnet_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"mac" "macaddr" NOT NULL,
	"node_id" uuid,
	"dpu_function" text,
	"rules_version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_networks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"cidr" "cidr" NOT NULL,
	"vlan_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_networks_vlan_range" CHECK ("provider_networks"."vlan_id" between 1 and 4094)
);
--> statement-breakpoint
CREATE TABLE "security_group_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	"direction" "sg_direction" NOT NULL,
	"ethertype" "sg_ethertype" NOT NULL,
	"protocol" "sg_protocol" NOT NULL,
	"port_min" integer,
	"port_max" integer,
	"remote_cidr" "cidr",
	"remote_group_id" uuid,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sg_rules_remote_one" CHECK (("security_group_rules"."remote_cidr" is null) <> ("security_group_rules"."remote_group_id" is null)),
	CONSTRAINT "sg_rules_ports" CHECK (("security_group_rules"."port_min" is null and "security_group_rules"."port_max" is null) or ("security_group_rules"."protocol" in ('tcp','udp') and "security_group_rules"."port_min" between 1 and 65535 and "security_group_rules"."port_max" between "security_group_rules"."port_min" and 65535))
);
--> statement-breakpoint
CREATE TABLE "security_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"vpc_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subnets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"vpc_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"cidr" "cidr" NOT NULL,
	"gateway" "inet" NOT NULL,
	"reserved_ranges" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"dns_servers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"vlan_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subnets_vlan_range" CHECK ("subnets"."vlan_id" is null or "subnets"."vlan_id" between 1 and 4094),
	CONSTRAINT "subnets_gateway_inside" CHECK ("subnets"."gateway" << "subnets"."cidr")
);
--> statement-breakpoint
CREATE TABLE "tenant_network_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"allow_public_cidrs" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vpcs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"cidr" "cidr" NOT NULL,
	"ipv6_cidr" "cidr",
	"vni" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vpcs_vni_range" CHECK ("vpcs"."vni" between 10000 and 16777215),
	CONSTRAINT "vpcs_cidr_v4" CHECK (family("vpcs"."cidr") = 4),
	CONSTRAINT "vpcs_ipv6_cidr_v6" CHECK ("vpcs"."ipv6_cidr" is null or family("vpcs"."ipv6_cidr") = 6)
);
--> statement-breakpoint
ALTER TABLE "ip_allocations" ADD CONSTRAINT "ip_allocations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ip_allocations" ADD CONSTRAINT "ip_allocations_subnet_id_subnets_id_fk" FOREIGN KEY ("subnet_id") REFERENCES "public"."subnets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ip_allocations" ADD CONSTRAINT "ip_allocations_port_id_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."ports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "port_security_groups" ADD CONSTRAINT "port_security_groups_port_id_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."ports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "port_security_groups" ADD CONSTRAINT "port_security_groups_group_id_security_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."security_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ports" ADD CONSTRAINT "ports_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ports" ADD CONSTRAINT "ports_subnet_id_subnets_id_fk" FOREIGN KEY ("subnet_id") REFERENCES "public"."subnets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ports" ADD CONSTRAINT "ports_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "security_group_rules" ADD CONSTRAINT "security_group_rules_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "security_group_rules" ADD CONSTRAINT "security_group_rules_group_id_security_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."security_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "security_group_rules" ADD CONSTRAINT "security_group_rules_remote_group_id_security_groups_id_fk" FOREIGN KEY ("remote_group_id") REFERENCES "public"."security_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "security_groups" ADD CONSTRAINT "security_groups_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "security_groups" ADD CONSTRAINT "security_groups_vpc_id_vpcs_id_fk" FOREIGN KEY ("vpc_id") REFERENCES "public"."vpcs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subnets" ADD CONSTRAINT "subnets_vpc_id_vpcs_id_fk" FOREIGN KEY ("vpc_id") REFERENCES "public"."vpcs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_network_policies" ADD CONSTRAINT "tenant_network_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vpcs" ADD CONSTRAINT "vpcs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ip_allocations_subnet_address_uq" ON "ip_allocations" USING btree ("subnet_id","address");--> statement-breakpoint
CREATE UNIQUE INDEX "ip_allocations_port_uq" ON "ip_allocations" USING btree ("port_id");--> statement-breakpoint
CREATE INDEX "port_security_groups_group_idx" ON "port_security_groups" USING btree ("group_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ports_mac_uq" ON "ports" USING btree ("mac");--> statement-breakpoint
CREATE UNIQUE INDEX "ports_tenant_name_uq" ON "ports" USING btree ("tenant_id",lower("name"));--> statement-breakpoint
CREATE INDEX "ports_tenant_created_idx" ON "ports" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "ports_subnet_idx" ON "ports" USING btree ("subnet_id");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_networks_name_uq" ON "provider_networks" USING btree (lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "provider_networks_vlan_uq" ON "provider_networks" USING btree ("vlan_id");--> statement-breakpoint
CREATE INDEX "provider_networks_created_idx" ON "provider_networks" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "security_group_rules_group_idx" ON "security_group_rules" USING btree ("group_id","created_at","id");--> statement-breakpoint
CREATE INDEX "security_group_rules_remote_idx" ON "security_group_rules" USING btree ("remote_group_id");--> statement-breakpoint
CREATE UNIQUE INDEX "security_groups_vpc_name_uq" ON "security_groups" USING btree ("vpc_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "security_groups_vpc_default_uq" ON "security_groups" USING btree ("vpc_id") WHERE "security_groups"."is_default";--> statement-breakpoint
CREATE INDEX "security_groups_tenant_created_idx" ON "security_groups" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "subnets_vpc_name_uq" ON "subnets" USING btree ("vpc_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "subnets_vpc_vlan_uq" ON "subnets" USING btree ("vpc_id","vlan_id");--> statement-breakpoint
CREATE INDEX "subnets_tenant_created_idx" ON "subnets" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "subnets_vpc_idx" ON "subnets" USING btree ("vpc_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "vpcs_vni_uq" ON "vpcs" USING btree ("vni");--> statement-breakpoint
CREATE UNIQUE INDEX "vpcs_tenant_name_uq" ON "vpcs" USING btree ("tenant_id",lower("name"));--> statement-breakpoint
CREATE INDEX "vpcs_tenant_created_idx" ON "vpcs" USING btree ("tenant_id","created_at","id");