CREATE INDEX "audit_tenant_action_idx" ON "audit_events" USING btree ("tenant_id","action","at","id");--> statement-breakpoint
CREATE INDEX "audit_tenant_actor_idx" ON "audit_events" USING btree ("tenant_id","actor_email","at","id");--> statement-breakpoint
CREATE INDEX "operations_tenant_status_idx" ON "operations" USING btree ("tenant_id","status","created_at","id");