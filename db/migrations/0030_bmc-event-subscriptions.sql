CREATE TABLE "bmc_event_subscriptions" (
	"node_id" uuid PRIMARY KEY NOT NULL,
	"delivery" text NOT NULL,
	"subscription_uri" text,
	"token_hash" text,
	"destination" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bmc_event_subs_delivery" CHECK ("bmc_event_subscriptions"."delivery" in ('sse', 'push')),
	CONSTRAINT "bmc_event_subs_push" CHECK ("bmc_event_subscriptions"."delivery" = 'sse' or ("bmc_event_subscriptions"."subscription_uri" is not null and "bmc_event_subscriptions"."token_hash" is not null))
);
--> statement-breakpoint
ALTER TABLE "bmc_event_subscriptions" ADD CONSTRAINT "bmc_event_subscriptions_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bmc_event_subs_token_uq" ON "bmc_event_subscriptions" USING btree ("token_hash");