CREATE TYPE "public"."provider_address_kind" AS ENUM('floating', 'snat');--> statement-breakpoint
CREATE TABLE "provider_addresses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"provider_network_id" uuid NOT NULL,
	"kind" "provider_address_kind" NOT NULL,
	"address" "inet" NOT NULL,
	"port_id" uuid,
	"vpc_id" uuid,
	"dpu_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_addresses_host" CHECK (family("provider_addresses"."address") = 4 and masklen("provider_addresses"."address") = 32),
	CONSTRAINT "provider_addresses_kind_fields" CHECK (case "provider_addresses"."kind" when 'floating' then "provider_addresses"."vpc_id" is null and "provider_addresses"."dpu_id" is null else "provider_addresses"."port_id" is null and "provider_addresses"."vpc_id" is not null and "provider_addresses"."dpu_id" is not null end)
);
--> statement-breakpoint
ALTER TABLE "provider_networks" ADD COLUMN "gateway" "inet";--> statement-breakpoint
ALTER TABLE "provider_networks" ADD COLUMN "gateway_mac" "macaddr";--> statement-breakpoint
ALTER TABLE "provider_networks" ADD COLUMN "range_start" "inet";--> statement-breakpoint
ALTER TABLE "provider_networks" ADD COLUMN "range_end" "inet";--> statement-breakpoint
ALTER TABLE "vpcs" ADD COLUMN "external_network_id" uuid;--> statement-breakpoint
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_provider_network_id_provider_networks_id_fk" FOREIGN KEY ("provider_network_id") REFERENCES "public"."provider_networks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_port_id_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."ports"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_vpc_id_vpcs_id_fk" FOREIGN KEY ("vpc_id") REFERENCES "public"."vpcs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_addresses" ADD CONSTRAINT "provider_addresses_dpu_id_nodes_id_fk" FOREIGN KEY ("dpu_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "provider_addresses_network_address_uq" ON "provider_addresses" USING btree ("provider_network_id","address");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_addresses_port_uq" ON "provider_addresses" USING btree ("port_id");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_addresses_snat_uq" ON "provider_addresses" USING btree ("vpc_id","dpu_id");--> statement-breakpoint
CREATE INDEX "provider_addresses_tenant_created_idx" ON "provider_addresses" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
ALTER TABLE "vpcs" ADD CONSTRAINT "vpcs_external_network_id_provider_networks_id_fk" FOREIGN KEY ("external_network_id") REFERENCES "public"."provider_networks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_networks" ADD CONSTRAINT "provider_networks_gateway_inside" CHECK ("provider_networks"."gateway" is null or (family("provider_networks"."gateway") = 4 and "provider_networks"."gateway" << "provider_networks"."cidr"));--> statement-breakpoint
ALTER TABLE "provider_networks" ADD CONSTRAINT "provider_networks_gateway_both" CHECK (("provider_networks"."gateway" is null) = ("provider_networks"."gateway_mac" is null));--> statement-breakpoint
ALTER TABLE "provider_networks" ADD CONSTRAINT "provider_networks_range_both" CHECK (("provider_networks"."range_start" is null) = ("provider_networks"."range_end" is null));--> statement-breakpoint
ALTER TABLE "provider_networks" ADD CONSTRAINT "provider_networks_range_inside" CHECK ("provider_networks"."range_start" is null or ("provider_networks"."range_start" << "provider_networks"."cidr" and "provider_networks"."range_end" << "provider_networks"."cidr" and "provider_networks"."range_start" <= "provider_networks"."range_end"));