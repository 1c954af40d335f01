// The authorization coverage table: every tRPC procedure × every kind of caller, with the expected outcome.
// server/api/authz.test.ts runs each cell for real and fails when a procedure has no row here.
// Later resources add their rows (and input fixtures) here.
import { nodeFixture, operationFixture, poolsFixture } from "./authz-fixtures";
import type { Fixtures, Role } from "@/test/fixtures";

/** "ok" = allowed and succeeded. BAD_REQUEST / PRECONDITION_FAILED = allowed through authorization, then refused
 *  by input validation or a rule (used where success would need real hardware behind the fixture). */
export type Outcome = "ok" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_REQUEST" | "PRECONDITION_FAILED";
export interface AuthzRow {
  /** Input for one call; may create what the call consumes (called once per role). */
  input: (fx: Fixtures, role: Role) => unknown | Promise<unknown>;
  expect: Record<Role, Outcome>;
}

const anyone: Record<Role, Outcome> = {
  anonymous: "ok",
  operatorAdmin: "ok",
  operatorViewer: "ok",
  tenantAdmin: "ok",
  tenantMember: "ok",
  otherTenantMember: "ok",
};
const signedIn: Record<Role, Outcome> = { ...anyone, anonymous: "UNAUTHORIZED" };
/** Operator console reads: operators only; everyone else is told it does not exist. */
export const operatorRead: Record<Role, Outcome> = {
  anonymous: "UNAUTHORIZED",
  operatorAdmin: "ok",
  operatorViewer: "ok",
  tenantAdmin: "NOT_FOUND",
  tenantMember: "NOT_FOUND",
  otherTenantMember: "NOT_FOUND",
};
export const operatorWrite: Record<Role, Outcome> = { ...operatorRead, operatorViewer: "FORBIDDEN" };
/** Tenant portal reads of fx.tenant: its members; operators and other tenants get NOT_FOUND. */
export const tenantRead: Record<Role, Outcome> = {
  anonymous: "UNAUTHORIZED",
  operatorAdmin: "NOT_FOUND",
  operatorViewer: "NOT_FOUND",
  tenantAdmin: "ok",
  tenantMember: "ok",
  otherTenantMember: "NOT_FOUND",
};
export const tenantWrite: Record<Role, Outcome> = { ...tenantRead };
export const tenantAdminWrite: Record<Role, Outcome> = { ...tenantRead, tenantMember: "FORBIDDEN" };

export const authzTable: Record<string, AuthzRow> = {
  "session.me": { input: () => undefined, expect: anyone },
  "session.switchTenant": {
    input: (fx) => ({ tenant: fx.tenant.slug }),
    expect: { ...signedIn, operatorAdmin: "NOT_FOUND", operatorViewer: "NOT_FOUND", otherTenantMember: "NOT_FOUND" },
  },

  "pools.list": { input: () => ({}), expect: operatorRead },
  "pools.get": { input: async (fx) => ({ id: (await poolsFixture(fx)).id }), expect: operatorRead },
  "pools.create": { input: () => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, resourceClass: "bm.test" }), expect: operatorWrite },
  "pools.update": { input: async (fx) => ({ id: (await poolsFixture(fx)).id, description: "changed" }), expect: operatorWrite },
  "pools.delete": { input: async (fx) => ({ id: (await poolsFixture(fx)).id }), expect: operatorWrite },

  "audit.list": { input: () => ({}), expect: operatorRead },

  "nodes.list": { input: () => ({ q: "authz" }), expect: operatorRead },
  "nodes.get": { input: async (fx) => ({ id: (await nodeFixture(fx)).id }), expect: operatorRead },
  "nodes.overview": { input: () => undefined, expect: operatorRead },
  "nodes.enroll": {
    // Authorized callers get through to the BMC probe, which finds nothing on a closed port.
    input: () => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, driver: "redfish", address: "http://127.0.0.1:1", username: "u", password: "p" }),
    expect: { ...operatorWrite, operatorAdmin: "BAD_REQUEST" },
  },
  "nodes.enrollBulk": { input: () => ({ csv: "name,driver,bmc_address,bmc_username,bmc_password\nauthz-bulk,redfish,http://127.0.0.1:1,u,p\n" }), expect: operatorWrite },
  "nodes.probe": { input: () => ({ driver: "redfish", address: "http://127.0.0.1:1", username: "u", password: "p" }), expect: operatorWrite },
  "nodes.transition": { input: async (fx) => ({ id: (await nodeFixture(fx)).id, event: "provide" }), expect: operatorWrite },
  "nodes.inspect": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id] }), expect: operatorWrite },
  "nodes.power": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id], action: "on" }), expect: operatorWrite },
  "nodes.setBootDevice": { input: async (fx) => ({ id: (await nodeFixture(fx)).id, device: "disk" }), expect: { ...operatorWrite, operatorAdmin: "PRECONDITION_FAILED" } },
  "nodes.setMaintenance": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id], on: true, reason: "authz" }), expect: operatorWrite },
  "nodes.moveToPool": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id], poolId: (await poolsFixture(fx)).id }), expect: operatorWrite },
  "nodes.delete": { input: async (fx) => ({ id: (await nodeFixture(fx)).id }), expect: operatorWrite },
  "nodes.runStep": { input: async (fx) => ({ id: (await nodeFixture(fx)).id, step: "power_on" }), expect: operatorWrite },
  "nodes.firmwareUpdate": {
    input: async (fx) => ({ id: (await nodeFixture(fx, { kind: "dpu", powerState: "on" })).id, imageUri: "http://127.0.0.1:1/bf.bfb" }),
    expect: operatorWrite,
  },
  "events.list": { input: () => ({}), expect: operatorRead },
  "operations.list": { input: () => ({}), expect: operatorRead },
  "operations.get": { input: async (fx) => ({ id: (await operationFixture(fx)).id }), expect: operatorRead },
};
