// Test fixtures: a tenant pair and one principal per role, and a tRPC caller acting as each of them; the file-wide
// setup most router tests share (useFixtures, makeNetwork, appAndDbGroups, useTestStorage), a few rows many tests insert directly
// (insertTenant, insertPool, insertHost, insertInstance), and how a test reads a refusal (failure, fieldOf).
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll } from "vitest";
import type { Db } from "../db/client";
import * as s from "../db/schema";
import { createCaller } from "../server/api/root";
import type { Principal } from "../server/auth/principal";
import { seal } from "../server/lib/secrets";
import { uniq, useTestDb } from "./db";
import { rejection } from "./rejection";

export const roles = ["anonymous", "operatorAdmin", "operatorViewer", "tenantAdmin", "tenantMember", "otherTenantMember"] as const;
export type Role = (typeof roles)[number];

export interface Fixtures {
  db: Db;
  tenant: { id: string; slug: string };
  otherTenant: { id: string; slug: string };
  principals: Record<Exclude<Role, "anonymous">, Principal>;
}

async function user(db: Db, label: string, platformRole: Principal["platformRole"]): Promise<Principal> {
  const id = crypto.randomUUID();
  const email = `${uniq(label)}@test.local`;
  await db.insert(s.users).values({ id, email, name: label, platformRole });
  return { userId: id, email, name: label, platformRole, sessionId: null, tokenScope: null };
}

export async function makeFixtures(db: Db): Promise<Fixtures> {
  const [tenant] = await db
    .insert(s.tenants)
    .values({ slug: uniq("acme"), name: "Acme test" })
    .returning();
  const [otherTenant] = await db
    .insert(s.tenants)
    .values({ slug: uniq("globex"), name: "Globex test" })
    .returning();
  const principals = {
    operatorAdmin: await user(db, "opadmin", "operator-admin"),
    operatorViewer: await user(db, "opviewer", "operator-viewer"),
    tenantAdmin: await user(db, "tadmin", null),
    tenantMember: await user(db, "tmember", null),
    otherTenantMember: await user(db, "other", null),
  };
  await db.insert(s.memberships).values([
    { tenantId: tenant!.id, userId: principals.tenantAdmin.userId, role: "tenant-admin" },
    { tenantId: tenant!.id, userId: principals.tenantMember.userId, role: "tenant-member" },
    { tenantId: otherTenant!.id, userId: principals.otherTenantMember.userId, role: "tenant-admin" },
  ]);
  return { db, tenant: { id: tenant!.id, slug: tenant!.slug }, otherTenant: { id: otherTenant!.id, slug: otherTenant!.slug }, principals };
}

export function callerAs(fx: Fixtures, role: Role) {
  const principal = role === "anonymous" ? null : fx.principals[role];
  return createCaller({ db: fx.db, principal, requestId: `test-${role}`, headers: new Headers() });
}

export async function tenantState(db: Db, id: string, state: "active" | "suspended") {
  await db.update(s.tenants).set({ state }).where(eq(s.tenants.id, id));
}

/**
 * The fixtures on the run's database, made once for the test file (a beforeAll registered where this is called), with
 * the tenant's quota row set to `quotas` when given. The object is filled in when that hook runs: read it in tests
 * and later hooks, not at the file's top level.
 */
export function useFixtures(quotas?: Omit<typeof s.quotas.$inferInsert, "tenantId">): Fixtures {
  const fx = {} as Fixtures;
  beforeAll(async () => {
    Object.assign(fx, await makeFixtures(useTestDb()));
    if (quotas) await fx.db.insert(s.quotas).values({ tenantId: fx.tenant.id, ...quotas });
  });
  return fx;
}

/**
 * The lab storage service (test/storage.ts) for the test file: started before its tests, closed (with Anvil's client)
 * after. Loaded on use, so files without storage do not load the simulator.
 */
export function useTestStorage() {
  let svc: { close(): Promise<void> } | undefined;
  beforeAll(async () => {
    svc = await (await import("./storage")).startTestStorage();
  });
  afterAll(async () => {
    await (await import("../server/storage/backend")).getStorage().close();
    await svc?.close();
  });
}

/** The fixtures' tenant's VPC "main" (10.0.0.0/16), made by its admin, with its default group and subnet "web" (10.0.1.0/24). */
export async function makeNetwork(fx: Fixtures) {
  const admin = callerAs(fx, "tenantAdmin");
  const vpcId = (await admin.vpcs.create({ tenant: fx.tenant.slug, name: "main", cidr: "10.0.0.0/16" })).id;
  const subnetId = (await admin.subnets.create({ tenant: fx.tenant.slug, vpcId, name: "web", cidr: "10.0.1.0/24" })).id;
  const defaultGroupId = (await admin.vpcs.get({ tenant: fx.tenant.slug, id: vpcId })).defaultGroup!.id;
  return { vpcId, subnetId, defaultGroupId };
}

/** Groups "app" and "db" (unique names) in the VPC, made by the tenant member, and db's rule letting app's members reach tcp 5432. */
export async function appAndDbGroups(fx: Fixtures, vpcId: string) {
  const m = callerAs(fx, "tenantMember");
  const t = fx.tenant.slug;
  const app = await m.securityGroups.create({ tenant: t, vpcId, name: uniq("app") });
  const db = await m.securityGroups.create({ tenant: t, vpcId, name: uniq("db") });
  await m.securityGroups.addRule({ tenant: t, groupId: db.id, direction: "ingress", ethertype: "ipv4", protocol: "tcp", portMin: 5432, remoteGroupId: app.id });
  return { app, db };
}

/** A port's rules_version (bumped whenever its compiled rules may have changed). */
export async function portRulesVersion(db: Db, portId: string) {
  return (await db.select({ v: s.ports.rulesVersion }).from(s.ports).where(eq(s.ports.id, portId)))[0]!.v;
}

/** A tenant row (slug `uniq(prefix)`), straight into the database. */
export async function insertTenant(db: Db, prefix: string, name = `${prefix} test`) {
  const [row] = await db
    .insert(s.tenants)
    .values({ slug: uniq(prefix), name })
    .returning();
  return row!;
}

/** A pool row of resource class bm.test, straight into the database. */
export async function insertPool(db: Db) {
  const [row] = await db
    .insert(s.pools)
    .values({ name: uniq("pool"), resourceClass: "bm.test" })
    .returning();
  return row!;
}

/** A host node row (name `uniq("host")`) whose BMC address answers nothing, straight into the database; `values` override. */
export async function insertHost(db: Db, values: Partial<typeof s.nodes.$inferInsert> = {}) {
  const [row] = await db
    .insert(s.nodes)
    .values({
      name: uniq("host"),
      bmcDriver: "redfish",
      bmcAddress: `http://127.0.0.1:1/${uniq("bmc")}`,
      bmcCredentials: seal("{}"),
      bmcCredentialsFingerprint: "x",
      ...values,
    })
    .returning();
  return row!;
}

/** An instance row (name `uniq("srv")`, a 20 GiB system volume unless `values` say otherwise), straight into the database. */
export async function insertInstance(db: Db, values: Partial<typeof s.instances.$inferInsert> & { tenantId: string; poolId: string }) {
  const [row] = await db
    .insert(s.instances)
    .values({ name: uniq("srv"), systemVolumeSizeGiB: 20, ...values })
    .returning();
  // Its port is its primary NIC (eth0), as instances.create makes it.
  if (values.portId) await db.update(s.ports).set({ instanceId: row!.id, nicIndex: 0 }).where(eq(s.ports.id, values.portId));
  return row!;
}

/** The instance row with this id, read fresh. */
export async function instanceRow(db: Db, id: string) {
  const [row] = await db.select().from(s.instances).where(eq(s.instances.id, id));
  return row!;
}

/** The node row with this id, read fresh. */
export async function nodeRow(db: Db, id: string) {
  const [row] = await db.select().from(s.nodes).where(eq(s.nodes.id, id));
  return row!;
}

/** The tRPC refusal of a call that must fail; a call that succeeds, or fails with another kind of error, fails the test. */
export const failure = (p: Promise<unknown>): Promise<TRPCError> => rejection(p, TRPCError);

/** The field a refusal points at: a FieldErrorCause's field or the first zod issue's path. */
export function fieldOf(e: TRPCError): string | undefined {
  const c = e.cause as { field?: string; issues?: { path: PropertyKey[] }[] } | undefined;
  return c?.field ?? c?.issues?.[0]?.path.join(".");
}
