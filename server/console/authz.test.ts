// canOpenConsole: operators (admin read-write, viewer read-only, API-token scope narrowing), tenant users
// (refused while no instances table exists; allowed for hosts running one of their instances once it does),
// DPUs operators only. The "instances exist" cases run in a private schema placed first on the search_path,
// so the shared test database's public schema (and the provisioning work's future table) is never touched.
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as schema from "@/db/schema";
import type { Principal } from "@/server/auth/principal";
import { makeFixtures, type Fixtures } from "@/test/fixtures";
// (imported under another name: biome reads a module-level use*() call as a React hook)
import { useTestDb as connectTestDb } from "@/test/db";
import { canOpenConsole, REFUSALS } from "./authz";

const db = connectTestDb();
let fx: Fixtures;
const host = { id: crypto.randomUUID(), name: "h1", kind: "host" as const };
const otherHost = { id: crypto.randomUUID(), name: "h2", kind: "host" as const };
const dpu = { id: crypto.randomUUID(), name: "h1-dpu", kind: "dpu" as const };

const schemaName = `console_authz_${Math.random().toString(36).slice(2, 8)}`;
let pool: pg.Pool;
let withInstances: typeof db;

beforeAll(async () => {
  fx = await makeFixtures(db);
  pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2, options: `-c search_path=${schemaName},public` });
  withInstances = drizzle(pool, { schema }) as unknown as typeof db;
  await pool.query(`create schema ${schemaName}`);
  // The shape DESIGN.md gives instances (tenant, node), with a soft delete.
  await pool.query(`create table ${schemaName}.instances (id uuid primary key, tenant_id uuid not null, node_id uuid not null, deleted_at timestamptz)`);
  await pool.query(`insert into ${schemaName}.instances values ($1, $2, $3, null), ($4, $2, $5, now())`, [
    crypto.randomUUID(),
    fx.tenant.id,
    host.id,
    crypto.randomUUID(),
    otherHost.id,
  ]);
});

afterAll(async () => {
  await pool?.query(`drop schema if exists ${schemaName} cascade`);
  await pool?.end();
});

const withToken = (p: Principal, scope: Principal["tokenScope"]): Principal => ({ ...p, tokenScope: scope });

describe("canOpenConsole", () => {
  it("refuses anonymous callers as unauthenticated", async () => {
    expect(await canOpenConsole(null, host, db)).toEqual({ ok: false, code: 4401, reason: REFUSALS.signIn });
  });

  it("lets operator admins in read-write and operator viewers read-only, hosts and DPUs alike", async () => {
    for (const n of [host, dpu]) {
      expect(await canOpenConsole(fx.principals.operatorAdmin, n, db)).toEqual({ ok: true, readOnly: false, tenantId: null });
      expect(await canOpenConsole(fx.principals.operatorViewer, n, db)).toEqual({ ok: true, readOnly: true, tenantId: null });
    }
  });

  it("narrows an operator admin's API token to its scope", async () => {
    const viewerToken = withToken(fx.principals.operatorAdmin, { platformRole: "operator-viewer", tenantId: null, tenantRole: null });
    expect(await canOpenConsole(viewerToken, host, db)).toMatchObject({ ok: true, readOnly: true });
    const tenantToken = withToken(fx.principals.operatorAdmin, { platformRole: null, tenantId: fx.tenant.id, tenantRole: "tenant-member" });
    expect(await canOpenConsole(tenantToken, dpu, db)).toEqual({ ok: false, code: 4403, reason: REFUSALS.dpu });
  });

  it("refuses tenant users a host that runs none of their instances (here: no instances table)", async () => {
    expect(await canOpenConsole(fx.principals.tenantMember, host, db)).toEqual({ ok: false, code: 4403, reason: "This server is not one of your instances" });
  });

  it("refuses tenant users every DPU console", async () => {
    expect(await canOpenConsole(fx.principals.tenantAdmin, dpu, withInstances)).toEqual({ ok: false, code: 4403, reason: "DPU consoles are for operators only" });
  });

  it("with instances: lets a tenant's members into their instance's host, nobody else, and not a deleted instance's", async () => {
    expect(await canOpenConsole(fx.principals.tenantMember, host, withInstances)).toEqual({ ok: true, readOnly: false, tenantId: fx.tenant.id });
    expect(await canOpenConsole(fx.principals.tenantAdmin, host, withInstances)).toMatchObject({ ok: true });
    expect(await canOpenConsole(fx.principals.otherTenantMember, host, withInstances)).toEqual({ ok: false, code: 4403, reason: REFUSALS.notYours });
    expect(await canOpenConsole(fx.principals.tenantMember, otherHost, withInstances)).toEqual({ ok: false, code: 4403, reason: REFUSALS.notYours });
    // A token scoped to another tenant does not open this tenant's host, even for a member.
    const otherScope = withToken(fx.principals.tenantMember, { platformRole: null, tenantId: fx.otherTenant.id, tenantRole: "tenant-member" });
    expect(await canOpenConsole(otherScope, host, withInstances)).toEqual({ ok: false, code: 4403, reason: REFUSALS.notYours });
  });
});
