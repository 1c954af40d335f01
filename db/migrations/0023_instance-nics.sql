ALTER TABLE "ports" ADD COLUMN "instance_id" uuid;--> statement-breakpoint
ALTER TABLE "ports" ADD COLUMN "nic_index" integer;--> statement-breakpoint
UPDATE "ports" SET "instance_id" = i."id", "nic_index" = 0 FROM "instances" i WHERE i."port_id" = "ports"."id";--> statement-breakpoint
ALTER TABLE "ports" ADD CONSTRAINT "ports_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ports_instance_nic_uq" ON "ports" USING btree ("instance_id","nic_index") WHERE "ports"."instance_id" is not null;--> statement-breakpoint
ALTER TABLE "instances" DROP COLUMN "extra_port_ids";--> statement-breakpoint
ALTER TABLE "ports" ADD CONSTRAINT "ports_nic_index" CHECK (("ports"."instance_id" is null) = ("ports"."nic_index" is null) and ("ports"."nic_index" is null or "ports"."nic_index" between 0 and 15));