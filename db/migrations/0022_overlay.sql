CREATE TABLE "dpu_overlays" (
	"dpu_id" uuid NOT NULL,
	"vni" integer NOT NULL,
	"desired_hash" text,
	"applied_hash" text,
	"applied_at" timestamp with time zone,
	"remote_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"retry_at" timestamp with time zone,
	CONSTRAINT "dpu_overlays_dpu_id_vni_pk" PRIMARY KEY("dpu_id","vni")
);
--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "underlay_ip" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "underlay_ip_source" text;--> statement-breakpoint
ALTER TABLE "dpu_overlays" ADD CONSTRAINT "dpu_overlays_dpu_id_nodes_id_fk" FOREIGN KEY ("dpu_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dpu_overlays_vni_idx" ON "dpu_overlays" USING btree ("vni");--> statement-breakpoint
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_underlay_ip_source" CHECK ("nodes"."underlay_ip_source" in ('agent', 'operator'));