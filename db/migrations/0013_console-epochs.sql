CREATE TABLE "console_epochs" (
	"node_id" uuid PRIMARY KEY NOT NULL,
	"epoch" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "console_epochs" ADD CONSTRAINT "console_epochs_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- A host changes hands: bump its console epoch and tell every replica (db/schema/console.ts).
CREATE FUNCTION "anvil_console_handover"(node uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE e bigint;
BEGIN
  IF node IS NULL THEN RETURN; END IF;
  INSERT INTO "console_epochs" ("node_id", "epoch") VALUES (node, 1)
    ON CONFLICT ("node_id") DO UPDATE SET "epoch" = "console_epochs"."epoch" + 1, "updated_at" = now()
    RETURNING "epoch" INTO e;
  PERFORM pg_notify('anvil_console', 'epoch:' || node::text || ':' || e::text);
EXCEPTION WHEN foreign_key_violation THEN
  RETURN; -- the node itself is being deleted: its consoles end with it
END $$;
--> statement-breakpoint
CREATE FUNCTION "anvil_instances_console_handover"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM anvil_console_handover(NEW.node_id);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM anvil_console_handover(OLD.node_id);
  ELSIF OLD.node_id IS DISTINCT FROM NEW.node_id THEN
    PERFORM anvil_console_handover(OLD.node_id);
    PERFORM anvil_console_handover(NEW.node_id);
  ELSIF NEW.node_id IS NOT NULL AND (
      OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
      OR OLD.storage_volume_id IS DISTINCT FROM NEW.storage_volume_id) THEN
    -- deleted in place, or rebuilt onto a fresh system volume: the old OS's output is not the new one's
    PERFORM anvil_console_handover(NEW.node_id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "instances_console_handover" AFTER INSERT OR UPDATE OR DELETE ON "instances"
  FOR EACH ROW EXECUTE FUNCTION "anvil_instances_console_handover"();
--> statement-breakpoint
-- Something that may revoke console access changed: every replica re-checks its open consoles at once.
CREATE FUNCTION "anvil_console_access_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('anvil_console', 'access');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "sessions_console_access" AFTER DELETE OR UPDATE OF "expires_at" ON "sessions"
  FOR EACH STATEMENT EXECUTE FUNCTION "anvil_console_access_changed"();
--> statement-breakpoint
CREATE TRIGGER "users_console_access" AFTER DELETE OR UPDATE OF "disabled", "platform_role" ON "users"
  FOR EACH STATEMENT EXECUTE FUNCTION "anvil_console_access_changed"();
--> statement-breakpoint
CREATE TRIGGER "memberships_console_access" AFTER DELETE OR UPDATE ON "memberships"
  FOR EACH STATEMENT EXECUTE FUNCTION "anvil_console_access_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_tokens_console_access" AFTER DELETE OR UPDATE OF "revoked_at", "expires_at", "platform_role", "tenant_id", "tenant_role" ON "api_tokens"
  FOR EACH STATEMENT EXECUTE FUNCTION "anvil_console_access_changed"();
--> statement-breakpoint
CREATE TRIGGER "tenants_console_access" AFTER DELETE OR UPDATE OF "state" ON "tenants"
  FOR EACH STATEMENT EXECUTE FUNCTION "anvil_console_access_changed"();
