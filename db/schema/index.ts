// The Postgres schema, one file per area (core: identity, tenancy, audit, pools, nodes, operations).
// Add an area as db/schema/<area>.ts and export it here; drizzle-kit reads every file in this folder
// except this index (drizzle.config.ts).
export * from "./core";
export * from "./quotas";
export * from "./network";
export * from "./tenancy";
export * from "./storage";
export * from "./compute";
export * from "./cluster";
export * from "./console";
export * from "./api";
export * from "./webhooks";
