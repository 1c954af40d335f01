// Instance actions beyond the lifecycle: attach / detach data volumes, backup to an image, rebuild. Spread into the
// instances router (server/api/routers/instances.ts), so they are called as instances.<name>.
export const instanceActionProcedures = {};
