CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"webhook_id" uuid NOT NULL,
	"event_id" bigint NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"response_status" integer,
	"response_body" text,
	"error" text,
	"last_attempt_at" timestamp (3) with time zone,
	"delivered_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"tenant_id" uuid,
	"payload" jsonb NOT NULL,
	"dispatched" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"events" jsonb NOT NULL,
	"secret" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_once_uq" ON "webhook_deliveries" USING btree ("webhook_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_idx" ON "webhook_deliveries" USING btree ("webhook_id","created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_events_pending_idx" ON "webhook_events" USING btree ("id") WHERE not "webhook_events"."dispatched";--> statement-breakpoint
CREATE UNIQUE INDEX "webhooks_owner_name_uq" ON "webhooks" USING btree (coalesce("tenant_id", '00000000-0000-0000-0000-000000000000'::uuid),lower("name"));--> statement-breakpoint
CREATE INDEX "webhooks_tenant_idx" ON "webhooks" USING btree ("tenant_id");--> statement-breakpoint
-- The webhook outbox: events written in the same transaction as the change, so none is lost and none is invented.
CREATE FUNCTION "anvil_webhook_instance_state"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Nothing is written while nobody listens (no enabled webhook): no cost on the provisioning path.
  IF OLD.state IS DISTINCT FROM NEW.state AND EXISTS (SELECT 1 FROM "webhooks" WHERE "enabled") THEN
    INSERT INTO "webhook_events" ("type", "tenant_id", "payload") VALUES ('instance.state_changed', NEW.tenant_id,
      jsonb_build_object('instanceId', NEW.id, 'name', NEW.name, 'from', OLD.state, 'to', NEW.state, 'reason', NEW.state_reason));
    PERFORM pg_notify('anvil_webhooks', '');
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "instances_webhook_state" AFTER UPDATE OF "state" ON "instances"
  FOR EACH ROW EXECUTE FUNCTION "anvil_webhook_instance_state"();
--> statement-breakpoint
CREATE FUNCTION "anvil_webhook_operation_end"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('succeeded', 'failed', 'cancelled') AND EXISTS (SELECT 1 FROM "webhooks" WHERE "enabled") THEN
    INSERT INTO "webhook_events" ("type", "tenant_id", "payload") VALUES ('operation.' || NEW.status, NEW.tenant_id,
      jsonb_build_object('operationId', NEW.id, 'kind', NEW.kind, 'status', NEW.status, 'targetType', NEW.target_type,
        'targetId', NEW.target_id, 'targetName', NEW.target_name, 'error', NEW.error));
    PERFORM pg_notify('anvil_webhooks', '');
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "operations_webhook_end" AFTER UPDATE OF "status" ON "operations"
  FOR EACH ROW EXECUTE FUNCTION "anvil_webhook_operation_end"();
--> statement-breakpoint
CREATE FUNCTION "anvil_webhook_node_fault"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.fault IS DISTINCT FROM NEW.fault AND EXISTS (SELECT 1 FROM "webhooks" WHERE "enabled") THEN
    INSERT INTO "webhook_events" ("type", "tenant_id", "payload") VALUES ('node.fault', NULL,
      jsonb_build_object('nodeId', NEW.id, 'name', NEW.name, 'kind', NEW.kind, 'fault', NEW.fault, 'raised', NEW.fault IS NOT NULL));
    PERFORM pg_notify('anvil_webhooks', '');
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "nodes_webhook_fault" AFTER UPDATE OF "fault" ON "nodes"
  FOR EACH ROW EXECUTE FUNCTION "anvil_webhook_node_fault"();
