CREATE TABLE "api_idempotency_keys" (
	"principal" text NOT NULL,
	"key" text NOT NULL,
	"request" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer,
	"body" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_idempotency_keys_principal_key_pk" PRIMARY KEY("principal","key")
);
