// Router tests of a tenant's home and activity log against the real Postgres: only the tenant's own rows (never
// another tenant's, never rows about hosts, nodes or pools, never details naming hardware), cursor pages that cover
// everything once, the action/person/time filters, and the home's counts, recent work and failures.
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, failure, type Fixtures, insertInstance, insertPool, makeFixtures } from "@/test/fixtures";
import { tenantDetails } from "./activity";

let db: ReturnType<typeof useTestDb>;
let poolId: string;
beforeAll(async () => {
  db = useTestDb();
  poolId = (await insertPool(db)).id;
});

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);

async function auditRow(values: Partial<typeof s.auditEvents.$inferInsert> & { tenantId: string | null; action: string }) {
  const [row] = await db
    .insert(s.auditEvents)
    .values({ targetType: "vpc", targetName: uniq("t"), ...values })
    .returning();
  return row!;
}

async function operation(values: Partial<typeof s.operations.$inferInsert> & { tenantId: string | null }) {
  const [row] = await db
    .insert(s.operations)
    .values({ kind: "instance.create", targetType: "instance", targetId: crypto.randomUUID(), targetName: uniq("srv"), ...values })
    .returning();
  return row!;
}

const instance = (tenantId: string, values: Partial<typeof s.instances.$inferInsert> = {}) => insertInstance(db, { tenantId, poolId, ...values });

describe("activity.log", () => {
  let fx: Fixtures;
  beforeAll(async () => {
    fx = await makeFixtures(db);
  });

  it("lists the tenant's own audit rows only: not another tenant's, not operators' rows about hardware, no hardware in details", async () => {
    const mine = await auditRow({
      tenantId: fx.tenant.id,
      action: "vpc.create",
      actorEmail: fx.principals.tenantAdmin.email,
      details: { cidr: "10.0.0.0/16" },
    });
    const theirs = await auditRow({ tenantId: fx.otherTenant.id, action: "vpc.create", actorEmail: fx.principals.otherTenantMember.email });
    const global = await auditRow({ tenantId: null, action: "pool.create", targetType: "pool" });
    // An operator's console on a host, even if it were recorded against the tenant, is the operator's business.
    const onNode = await auditRow({ tenantId: fx.tenant.id, action: "console.open", targetType: "node", targetName: "host-07", details: { kind: "host" } });
    const poolRow = await auditRow({ tenantId: fx.tenant.id, action: "pool.update", targetType: "pool" });
    // A tenant's own row that mentions where it ran keeps everything but that.
    const recovered = await auditRow({
      tenantId: fx.tenant.id,
      action: "instance.recover",
      targetType: "instance",
      details: { reason: "host failed", nodeId: crypto.randomUUID(), nodeName: "host-07", from: { hostName: "host-07", state: "running" } },
    });
    const consoleRow = await auditRow({
      tenantId: fx.tenant.id,
      action: "console.open",
      targetType: "instance",
      details: { kind: "host", readOnly: false, instanceId: "i" },
    });

    const list = await callerAs(fx, "tenantMember").activity.log({ tenant: fx.tenant.slug, limit: 200 });
    const ids = list.items.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([mine.id, recovered.id, consoleRow.id]));
    for (const hidden of [theirs.id, global.id, onNode.id, poolRow.id]) expect(ids).not.toContain(hidden);
    expect(list.items.find((r) => r.id === mine.id)).toMatchObject({
      action: "vpc.create",
      actorEmail: fx.principals.tenantAdmin.email,
      details: { cidr: "10.0.0.0/16" },
    });
    expect(list.items.find((r) => r.id === recovered.id)?.details).toEqual({ reason: "host failed", from: { state: "running" } });
    expect(list.items.find((r) => r.id === consoleRow.id)?.details).toEqual({ readOnly: false, instanceId: "i" });
    expect(JSON.stringify(list.items)).not.toContain("host-07");
    expect(list.items[0]).not.toHaveProperty("actorUserId");

    // The other tenant sees its row and none of these; asking for this tenant by slug is NOT_FOUND.
    const other = await callerAs(fx, "otherTenantMember").activity.log({ tenant: fx.otherTenant.slug, limit: 200 });
    expect(other.items.map((r) => r.id)).toEqual([theirs.id]);
    expect((await failure(callerAs(fx, "otherTenantMember").activity.log({ tenant: fx.tenant.slug }))).code).toBe("NOT_FOUND");
    expect((await failure(callerAs(fx, "operatorAdmin").activity.log({ tenant: fx.tenant.slug }))).code).toBe("NOT_FOUND");
  });

  it("records a real change: a VPC the tenant creates shows in its log and not in the other tenant's", async () => {
    const name = uniq("vpc");
    await callerAs(fx, "tenantAdmin").vpcs.create({ tenant: fx.tenant.slug, name, cidr: "10.42.0.0/16" });
    const mine = await callerAs(fx, "tenantMember").activity.log({ tenant: fx.tenant.slug, action: "vpc.create" });
    expect(mine.items.map((r) => r.targetName)).toContain(name);
    expect(mine.items.find((r) => r.targetName === name)?.actorEmail).toBe(fx.principals.tenantAdmin.email);
    const theirs = await callerAs(fx, "otherTenantMember").activity.log({ tenant: fx.otherTenant.slug, limit: 200 });
    expect(theirs.items.map((r) => r.targetName)).not.toContain(name);
  });

  it("pages newest first with a cursor: every row once, in order, then the end", async () => {
    const t = await makeFixtures(db);
    const rows = [];
    for (let i = 0; i < 7; i++) rows.push(await auditRow({ tenantId: t.tenant.id, action: "vpc.update", at: at(100 - i) }));
    // Two rows at the same instant: the id breaks the tie, neither is skipped or repeated.
    const same = at(50);
    rows.push(
      await auditRow({ tenantId: t.tenant.id, action: "vpc.update", at: same }),
      await auditRow({ tenantId: t.tenant.id, action: "vpc.update", at: same }),
    );
    const caller = callerAs(t, "tenantMember");
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const p: Awaited<ReturnType<typeof caller.activity.log>> = await caller.activity.log({ tenant: t.tenant.slug, limit: 2, cursor });
      expect(p.items.length).toBeLessThanOrEqual(2);
      seen.push(...p.items.map((r) => r.id));
      cursor = p.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(rows.length);
    expect(new Set(seen).size).toBe(rows.length);
    const expected = [...rows].sort((a, b) => b.at.getTime() - a.at.getTime() || (b.id < a.id ? -1 : 1)).map((r) => r.id);
    expect(seen).toEqual(expected);

    const asc = await caller.activity.log({ tenant: t.tenant.slug, dir: "asc", limit: 1 });
    expect(asc.items[0]?.id).toBe(rows[0]!.id);
    expect((await failure(caller.activity.log({ tenant: t.tenant.slug, cursor: "not-a-cursor" }))).code).toBe("BAD_REQUEST");
  });

  it("filters by action, by person and by time", async () => {
    const t = await makeFixtures(db);
    const alice = t.principals.tenantAdmin.email;
    const bob = t.principals.tenantMember.email;
    const a1 = await auditRow({ tenantId: t.tenant.id, action: "vpc.create", actorEmail: alice, at: at(300) });
    const a2 = await auditRow({ tenantId: t.tenant.id, action: "subnet.create", actorEmail: alice, at: at(200) });
    const b1 = await auditRow({ tenantId: t.tenant.id, action: "vpc.create", actorEmail: bob, at: at(100) });
    // The same action by someone in another tenant never shows.
    await auditRow({ tenantId: t.otherTenant.id, action: "vpc.create", actorEmail: alice, at: at(150) });
    const c = callerAs(t, "tenantMember");
    const ids = async (input: Omit<Parameters<typeof c.activity.log>[0], "tenant">) =>
      (await c.activity.log({ tenant: t.tenant.slug, ...input })).items.map((r) => r.id);

    expect(await ids({ action: "vpc.create" })).toEqual([b1.id, a1.id]);
    expect(await ids({ actor: alice })).toEqual([a2.id, a1.id]);
    expect(await ids({ action: "vpc.create", actor: alice })).toEqual([a1.id]);
    expect(await ids({ from: at(250) })).toEqual([b1.id, a2.id]);
    expect(await ids({ to: at(250) })).toEqual([a1.id]);
    expect(await ids({ from: at(250), to: at(150) })).toEqual([a2.id]);
    expect(await ids({ action: "nothing.like.this" })).toEqual([]);
    const bad = await failure(c.activity.log({ tenant: t.tenant.slug, from: at(10), to: at(20) }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toMatch(/end of the time range is before its start/);

    const facets = await c.activity.facets({ tenant: t.tenant.slug });
    expect(facets).toEqual({ actions: ["subnet.create", "vpc.create"], actors: [alice, bob].sort() });
  });
});

describe("activity.operations", () => {
  type StepStatus = NonNullable<(typeof s.operations.$inferInsert)["steps"]>[number]["status"];
  /** An operation's two steps, "a" then "b", with these statuses. */
  const steps = (a: StepStatus, b: StepStatus) => [
    { name: "a", status: a },
    { name: "b", status: b },
  ];

  it("lists the tenant's operations, newest first, by status and time, with pages; nothing of another tenant or of hosts", async () => {
    const t = await makeFixtures(db);
    const ok = await operation({
      tenantId: t.tenant.id,
      status: "succeeded",
      createdAt: at(30),
      steps: steps("done", "done"),
    });
    const bad = await operation({
      tenantId: t.tenant.id,
      status: "failed",
      error: "No free host",
      createdAt: at(20),
      steps: steps("done", "failed"),
    });
    const run = await operation({
      tenantId: t.tenant.id,
      status: "running",
      createdAt: at(10),
      currentStep: "b",
      steps: steps("done", "running"),
    });
    const foreign = await operation({ tenantId: t.otherTenant.id, status: "failed" });
    const hostOp = await operation({ tenantId: t.tenant.id, kind: "node.power", targetType: "node", targetName: "host-07" });
    const c = callerAs(t, "tenantMember");

    const all = await c.activity.operations({ tenant: t.tenant.slug });
    expect(all.items.map((r) => r.id)).toEqual([run.id, bad.id, ok.id]);
    expect(all.items.map((r) => r.id)).not.toContain(foreign.id);
    expect(all.items.map((r) => r.id)).not.toContain(hostOp.id);
    expect(all.items[1]).toMatchObject({ status: "failed", error: "No free host", stepsTotal: 2, stepsDone: 1 });
    expect(all.items[0]).not.toHaveProperty("input");
    expect(all.items[0]).not.toHaveProperty("result");

    expect((await c.activity.operations({ tenant: t.tenant.slug, status: "failed" })).items.map((r) => r.id)).toEqual([bad.id]);
    expect((await c.activity.operations({ tenant: t.tenant.slug, from: at(25), to: at(15) })).items.map((r) => r.id)).toEqual([bad.id]);

    const p1 = await c.activity.operations({ tenant: t.tenant.slug, limit: 2 });
    expect(p1.items.map((r) => r.id)).toEqual([run.id, bad.id]);
    const p2 = await c.activity.operations({ tenant: t.tenant.slug, limit: 2, cursor: p1.nextCursor });
    expect(p2.items.map((r) => r.id)).toEqual([ok.id]);
    expect(p2.nextCursor).toBeNull();
    expect((await failure(callerAs(t, "otherTenantMember").activity.operations({ tenant: t.tenant.slug }))).code).toBe("NOT_FOUND");
  });
});

describe("activity.home", () => {
  it("counts instances by state, lists recent operations and what failed (with the reason), and says when work is under way", async () => {
    const t = await makeFixtures(db);
    const c = callerAs(t, "tenantMember");
    const empty = await c.activity.home({ tenant: t.tenant.slug });
    expect(empty).toEqual({ instancesByState: {}, recentOperations: [], failed: { instances: [], volumes: [], operations: [] }, busy: false });

    await instance(t.tenant.id, { state: "running" });
    await instance(t.tenant.id, { state: "running" });
    await instance(t.tenant.id, { state: "stopped" });
    await instance(t.tenant.id, { state: "deleted" });
    const broken = await instance(t.tenant.id, { state: "failed", stateReason: "The storage service refused the clone: out of space" });
    await instance(t.otherTenant.id, { state: "failed", stateReason: "not yours" });
    const [vol] = await db
      .insert(s.volumes)
      .values({
        tenantId: t.tenant.id,
        name: uniq("vol"),
        sizeGiB: 10,
        kind: "data",
        logicalPoolId: "lp-test",
        state: "error",
        error: "Storage service unreachable",
      })
      .returning();

    // A failed create later made good by a retry is no longer a failure; an old failure has aged out; a fresh one shows.
    const target = crypto.randomUUID();
    await operation({ tenantId: t.tenant.id, targetId: target, status: "failed", error: "first try", createdAt: at(60) });
    await operation({ tenantId: t.tenant.id, targetId: target, status: "succeeded", createdAt: at(50) });
    await operation({ tenantId: t.tenant.id, status: "failed", error: "long ago", createdAt: at(8 * 24 * 60) });
    const failedOp = await operation({
      tenantId: t.tenant.id,
      targetId: broken.id,
      targetName: broken.name,
      status: "failed",
      error: "clone refused",
      createdAt: at(40),
    });
    await operation({ tenantId: t.otherTenant.id, status: "failed", error: "theirs", createdAt: at(30) });
    await operation({ tenantId: t.tenant.id, kind: "node.power", targetType: "node", status: "failed", error: "host-07 BMC down", createdAt: at(20) });

    const home = await c.activity.home({ tenant: t.tenant.slug });
    expect(home.instancesByState).toEqual({ running: 2, stopped: 1, failed: 1 });
    expect(home.failed.instances).toEqual([expect.objectContaining({ id: broken.id, reason: "The storage service refused the clone: out of space" })]);
    expect(home.failed.volumes).toEqual([expect.objectContaining({ id: vol!.id, reason: "Storage service unreachable" })]);
    expect(home.failed.operations.map((o) => o.id)).toEqual([failedOp.id]);
    expect(home.recentOperations.map((o) => o.error)).toEqual(["clone refused", null, "first try", "long ago"]);
    expect(JSON.stringify(home)).not.toMatch(/theirs|not yours|host-07/);
    expect(home.busy).toBe(false);

    // Something under way: an operation running, or an instance in a transitional state.
    const running = await operation({ tenantId: t.tenant.id, status: "running", createdAt: at(1) });
    const busy = await c.activity.home({ tenant: t.tenant.slug });
    expect(busy.busy).toBe(true);
    expect(busy.recentOperations[0]?.id).toBe(running.id);

    const t2 = await makeFixtures(db);
    await instance(t2.tenant.id, { state: "creating" });
    expect((await callerAs(t2, "tenantMember").activity.home({ tenant: t2.tenant.slug })).busy).toBe(true);

    // At most ten recent operations.
    for (let i = 0; i < 12; i++) await operation({ tenantId: t2.tenant.id, status: "succeeded", createdAt: at(100 + i) });
    expect((await callerAs(t2, "tenantMember").activity.home({ tenant: t2.tenant.slug })).recentOperations).toHaveLength(10);
  });
});

describe("tenantDetails", () => {
  it("drops keys naming hardware at any depth, and the node kind of console rows", () => {
    expect(tenantDetails("instance.recover", { reason: "x", nodeId: "n", hostName: "h", dpuId: "d", bmcAddress: "b", nested: [{ node: "n", ok: 1 }] })).toEqual(
      { reason: "x", nested: [{ ok: 1 }] },
    );
    expect(tenantDetails("console.open", { kind: "host" })).toBeNull();
    expect(tenantDetails("volume.create", { kind: "data" })).toEqual({ kind: "data" });
    expect(tenantDetails("vpc.create", null)).toBeNull();
  });
});
