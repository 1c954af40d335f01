ALTER TABLE "images" ADD COLUMN "checksum_sha256" text;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_checksum_hex" CHECK ("images"."checksum_sha256" ~ '^[0-9a-f]{64}$');