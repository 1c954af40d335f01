// The Postgres schema, one file per area.
// Add an area as db/schema/<area>.ts and export it here; drizzle-kit reads every file in this folder
// except this index (drizzle.config.ts).

export * from "./api";
export * from "./audit";
export * from "./cluster";
export * from "./compute";
export * from "./console";
export * from "./hardware";
export * from "./identity";
export * from "./live-events";
export * from "./network";
export * from "./operations";
export * from "./quotas";
export * from "./rollouts";
export * from "./storage";
export * from "./tenancy";
export * from "./webhooks";
