CREATE TABLE "quotas" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"instances" integer DEFAULT 10 NOT NULL,
	"cores" integer DEFAULT 512 NOT NULL,
	"ram_gib" integer DEFAULT 4096 NOT NULL,
	"volumes" integer DEFAULT 20 NOT NULL,
	"volume_gib" integer DEFAULT 2000 NOT NULL,
	"snapshots" integer DEFAULT 20 NOT NULL,
	"vpcs" integer DEFAULT 5 NOT NULL,
	"subnets" integer DEFAULT 20 NOT NULL,
	"security_groups" integer DEFAULT 20 NOT NULL,
	"addresses" integer DEFAULT 100 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "quotas" ADD CONSTRAINT "quotas_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;