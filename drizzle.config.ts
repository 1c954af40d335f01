// drizzle-kit configuration: generates SQL migrations in db/migrations from the area files in db/schema/
// (every .ts file there except the index, which only re-exports them, and tests).
import fs from "node:fs";
import { defineConfig } from "drizzle-kit";

const schema = fs
  .readdirSync("./db/schema")
  .filter((f) => f.endsWith(".ts") && f !== "index.ts" && !f.endsWith(".test.ts"))
  .map((f) => `./db/schema/${f}`);

export default defineConfig({
  dialect: "postgresql",
  schema,
  out: "./db/migrations",
});
