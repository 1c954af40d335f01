// The authorization coverage table: every tRPC procedure × every kind of caller, with the expected outcome.
// server/api/authz.test.ts runs each cell for real and fails when a procedure has no row here.
// Later resources add their rows (and input fixtures) here.
import { poolsFixture } from "./authz-fixtures";
import type { Fixtures, Role } from "@/test/fixtures";

export type Outcome = "ok" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND";
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
};
