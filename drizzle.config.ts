// drizzle-kit configuration: generates SQL migrations in db/migrations from db/schema/*.ts (every area file; the index only re-exports).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/[!i]*.ts",
  out: "./db/migrations",
});
