-- One casing for audit actions and target types: snake_case resource and verb ("security_group.add_rule"), as the
-- rest already were ("api_token.create", "member.set_role"). Rows written before keep their meaning.
UPDATE "audit_events" SET "action" = 'security_group.add_rule' WHERE "action" = 'securityGroup.addRule';--> statement-breakpoint
UPDATE "audit_events" SET "action" = 'security_group.delete_rule' WHERE "action" = 'securityGroup.deleteRule';--> statement-breakpoint
UPDATE "audit_events" SET "action" = 'tenant.network_policy' WHERE "action" = 'tenant.networkPolicy';--> statement-breakpoint
UPDATE "audit_events" SET "action" = regexp_replace("action", '^securityGroup\.', 'security_group.') WHERE "action" LIKE 'securityGroup.%';--> statement-breakpoint
UPDATE "audit_events" SET "action" = regexp_replace("action", '^diskPool\.', 'disk_pool.') WHERE "action" LIKE 'diskPool.%';--> statement-breakpoint
UPDATE "audit_events" SET "action" = regexp_replace("action", '^logicalPool\.', 'logical_pool.') WHERE "action" LIKE 'logicalPool.%';--> statement-breakpoint
UPDATE "audit_events" SET "action" = regexp_replace("action", '^providerNetwork\.', 'provider_network.') WHERE "action" LIKE 'providerNetwork.%';--> statement-breakpoint
UPDATE "audit_events" SET "target_type" = CASE "target_type" WHEN 'securityGroup' THEN 'security_group' WHEN 'diskPool' THEN 'disk_pool' WHEN 'logicalPool' THEN 'logical_pool' ELSE 'provider_network' END
  WHERE "target_type" IN ('securityGroup', 'diskPool', 'logicalPool', 'providerNetwork');
