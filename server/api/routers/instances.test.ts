// Router tests of the instance reads against the real Postgres: tenant filtering (other tenants' instances are
// NOT_FOUND and never listed), deleted instances hidden by default, the operation shown only when it is the
// tenant's own, paging, and the operators' cross-tenant list with node names.
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, insertHost, insertInstance, insertPool, useFixtures } from "@/test/fixtures";

const fx = useFixtures();
let poolId: string;

const instance = (tenantId: string, values: Partial<typeof s.instances.$inferInsert> = {}) => insertInstance(fx.db, { tenantId, poolId, ...values });

beforeAll(async () => {
  poolId = (await insertPool(fx.db)).id;
});

describe("instances router", () => {
  it("lists only the tenant's live instances, pages, and hides deleted ones unless asked", async () => {
    const a = await instance(fx.tenant.id, { name: uniq("a") });
    const b = await instance(fx.tenant.id, { name: uniq("b"), state: "running" });
    const gone = await instance(fx.tenant.id, { name: uniq("gone"), state: "deleted" });
    const foreign = await instance(fx.otherTenant.id);
    const member = callerAs(fx, "tenantMember");

    const all = await member.instances.list({ tenant: fx.tenant.slug, limit: 100 });
    const ids = all.items.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids).not.toContain(gone.id);
    expect(ids).not.toContain(foreign.id);
    expect(all.items.find((r) => r.id === a.id)?.poolName).toMatch(/^pool/);

    const withDeleted = await member.instances.list({ tenant: fx.tenant.slug, includeDeleted: true, limit: 100 });
    expect(withDeleted.items.map((r) => r.id)).toContain(gone.id);

    const running = await member.instances.list({ tenant: fx.tenant.slug, state: "running" });
    expect(running.items.map((r) => r.id)).toEqual([b.id]);

    const first = await member.instances.list({ tenant: fx.tenant.slug, limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBeTruthy();
    const second = await member.instances.list({ tenant: fx.tenant.slug, limit: 1, cursor: first.nextCursor });
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
  });

  it("gets an instance with its operation, and NOT_FOUND across tenants", async () => {
    const [op] = await fx.db
      .insert(s.operations)
      .values({ kind: "instance.create", targetType: "instance", tenantId: fx.tenant.id, steps: [{ name: "reserve node", status: "done" }] })
      .returning();
    const row = await instance(fx.tenant.id, { operationId: op!.id });
    const got = await callerAs(fx, "tenantMember").instances.get({ tenant: fx.tenant.slug, id: row.id });
    expect(got.operation?.id).toBe(op!.id);
    expect(got.operation?.steps[0]?.name).toBe("reserve node");

    const foreign = await instance(fx.otherTenant.id);
    const e = await callerAs(fx, "tenantMember")
      .instances.get({ tenant: fx.tenant.slug, id: foreign.id })
      .catch((x) => x);
    expect(e.code).toBe("NOT_FOUND");
    const bad = await callerAs(fx, "tenantMember")
      .instances.get({ tenant: fx.tenant.slug, id: "nope" })
      .catch((x) => x);
    expect(bad.code).toBe("BAD_REQUEST");
  });

  it("does not show another tenant's operation even if an id points at it", async () => {
    const [op] = await fx.db.insert(s.operations).values({ kind: "instance.create", targetType: "instance", tenantId: fx.otherTenant.id }).returning();
    const row = await instance(fx.tenant.id, { operationId: op!.id });
    const got = await callerAs(fx, "tenantMember").instances.get({ tenant: fx.tenant.slug, id: row.id });
    expect(got.operation).toBeNull();
  });

  it("lets operators list every tenant's instances with their node", async () => {
    const node = await insertHost(fx.db, { poolId });
    const mine = await instance(fx.tenant.id, { nodeId: node.id, state: "running" });
    const theirs = await instance(fx.otherTenant.id);
    const list = await callerAs(fx, "operatorViewer").instances.adminList({ poolId, limit: 100 });
    const byId = new Map(list.items.map((r) => [r.id, r]));
    expect(byId.get(mine.id)?.nodeName).toBe(node.name);
    expect(byId.get(mine.id)?.tenantSlug).toBe(fx.tenant.slug);
    expect(byId.has(theirs.id)).toBe(true);
    const one = await callerAs(fx, "operatorViewer").instances.adminList({ tenantId: fx.otherTenant.id, poolId, limit: 100 });
    expect(one.items.every((r) => r.tenantId === fx.otherTenant.id)).toBe(true);
  });
});
