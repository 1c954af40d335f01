// canOpenConsole: operators (admin read-write, viewer read-only, API-token scope narrowing), tenant users (only
// hosts running one of their instances, tied to that instance and the node's console epoch; refused while the
// tenant is suspended), DPUs operators only; and the console epoch the database bumps at every handover of a host
// (placement, removal, deletion, rebuild onto a new system volume) — the trigger of migration 0013.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import type { Principal } from "@/server/auth/principal";
import { type Fixtures, insertInstance, insertPool, makeFixtures, tenantState } from "@/test/fixtures";
// (imported under another name: biome reads a module-level use*() call as a React hook)
import { uniq, useTestDb as connectTestDb } from "@/test/db";
import { canOpenConsole, consoleEpoch, REFUSALS } from "./authz";
import { insertNode } from "./test-helpers";

const db = connectTestDb();
let fx: Fixtures;
let host: { id: string; name: string; kind: "host" };
let otherHost: { id: string; name: string; kind: "host" };
let freeHost: { id: string; name: string; kind: "host" };
let dpu: { id: string; name: string; kind: "dpu" };
let poolId: string;
let instanceId: string;

const node = async (kind: "host" | "dpu" = "host", parentNodeId?: string) => {
  const name = uniq(`authz-${kind}`);
  const id = await insertNode(db, {
    name,
    kind,
    parentNodeId,
    bmcDriver: "redfish",
    bmcAddress: `http://127.0.0.1:9/redfish/v1/Systems/${name}`,
    username: "u",
    password: "p",
  });
  return { id, name, kind };
};

beforeAll(async () => {
  fx = await makeFixtures(db);
  host = (await node()) as typeof host;
  otherHost = (await node()) as typeof otherHost;
  freeHost = (await node()) as typeof freeHost;
  dpu = (await node("dpu", host.id)) as typeof dpu;
  poolId = (await insertPool(db)).id;
  instanceId = (await insertInstance(db, { tenantId: fx.tenant.id, poolId, systemVolumeSizeGiB: 10, nodeId: host.id, state: "running" })).id;
  // A deleted instance of the tenant still pointing at otherHost grants nothing.
  await db
    .insert(s.instances)
    .values({ tenantId: fx.tenant.id, poolId, name: uniq("gone"), systemVolumeSizeGiB: 10, nodeId: otherHost.id, state: "deleted", deletedAt: new Date() });
});

const withToken = (p: Principal, scope: Principal["tokenScope"]): Principal => ({ ...p, tokenScope: scope });

describe("canOpenConsole", () => {
  it("refuses anonymous callers as unauthenticated", async () => {
    expect(await canOpenConsole(null, host, db)).toEqual({ ok: false, code: 4401, reason: REFUSALS.signIn });
  });

  it("lets operator admins in read-write and operator viewers read-only, hosts and DPUs alike", async () => {
    for (const n of [host, dpu]) {
      expect(await canOpenConsole(fx.principals.operatorAdmin, n, db)).toMatchObject({ ok: true, readOnly: false, tenantId: null, instance: null });
      expect(await canOpenConsole(fx.principals.operatorViewer, n, db)).toMatchObject({ ok: true, readOnly: true, tenantId: null, instance: null });
    }
  });

  it("narrows an operator admin's API token to its scope", async () => {
    const viewerToken = withToken(fx.principals.operatorAdmin, { platformRole: "operator-viewer", tenantId: null, tenantRole: null });
    expect(await canOpenConsole(viewerToken, host, db)).toMatchObject({ ok: true, readOnly: true });
    const tenantToken = withToken(fx.principals.operatorAdmin, { platformRole: null, tenantId: fx.tenant.id, tenantRole: "tenant-member" });
    expect(await canOpenConsole(tenantToken, dpu, db)).toEqual({ ok: false, code: 4403, reason: REFUSALS.dpu });
  });

  it("refuses tenant users a host that runs none of their instances, and every DPU console", async () => {
    expect(await canOpenConsole(fx.principals.tenantMember, freeHost, db)).toEqual({ ok: false, code: 4403, reason: REFUSALS.notYours });
    expect(await canOpenConsole(fx.principals.tenantAdmin, dpu, db)).toEqual({ ok: false, code: 4403, reason: REFUSALS.dpu });
  });

  it("lets a tenant's members into their instance's host, tied to that instance and epoch; nobody else; not a deleted instance's", async () => {
    const epoch = await consoleEpoch(db, host.id);
    expect(epoch).toBeGreaterThan(0); // placing the instance was a handover
    expect(await canOpenConsole(fx.principals.tenantMember, host, db)).toMatchObject({
      ok: true,
      readOnly: false,
      tenantId: fx.tenant.id,
      instance: { id: instanceId },
      epoch,
    });
    expect(await canOpenConsole(fx.principals.tenantAdmin, host, db)).toMatchObject({ ok: true });
    expect(await canOpenConsole(fx.principals.otherTenantMember, host, db)).toEqual({ ok: false, code: 4403, reason: REFUSALS.notYours });
    expect(await canOpenConsole(fx.principals.tenantMember, otherHost, db)).toEqual({ ok: false, code: 4403, reason: REFUSALS.notYours });
    // A token scoped to another tenant does not open this tenant's host, even for a member.
    const otherScope = withToken(fx.principals.tenantMember, { platformRole: null, tenantId: fx.otherTenant.id, tenantRole: "tenant-member" });
    expect(await canOpenConsole(otherScope, host, db)).toEqual({ ok: false, code: 4403, reason: REFUSALS.notYours });
  });

  it("answers 'No such instance' alike for another tenant's instance, a missing one, and one no longer on that host", async () => {
    const none = { ok: false, code: 4404, reason: REFUSALS.noInstance };
    expect(await canOpenConsole(fx.principals.otherTenantMember, host, db, instanceId)).toEqual(none);
    expect(await canOpenConsole(fx.principals.tenantMember, host, db, crypto.randomUUID())).toEqual(none);
    expect(await canOpenConsole(fx.principals.tenantMember, dpu, db, instanceId)).toEqual(none);
    expect(await canOpenConsole(fx.principals.tenantMember, freeHost, db, instanceId)).toEqual(none);
    expect(await canOpenConsole(fx.principals.tenantMember, host, db, instanceId)).toMatchObject({ ok: true, instance: { id: instanceId } });
  });

  it("closes a suspended tenant's consoles", async () => {
    await tenantState(db, fx.tenant.id, "suspended");
    try {
      expect(await canOpenConsole(fx.principals.tenantMember, host, db)).toMatchObject({
        ok: false,
        code: 4403,
        reason: expect.stringContaining("is suspended"),
      });
    } finally {
      await tenantState(db, fx.tenant.id, "active");
    }
    expect(await canOpenConsole(fx.principals.tenantMember, host, db)).toMatchObject({ ok: true });
  });
});

describe("console epochs (a handover of a host bumps its epoch)", () => {
  it("moves at placement, at removal, at deletion and at a rebuild — and not at other instance updates", async () => {
    const n = await node();
    expect(await consoleEpoch(db, n.id)).toBe(0);
    const [i] = await db
      .insert(s.instances)
      .values({ tenantId: fx.tenant.id, poolId, name: uniq("epoch"), systemVolumeSizeGiB: 10, state: "creating" })
      .returning();
    await db.update(s.instances).set({ nodeId: n.id }).where(eq(s.instances.id, i.id));
    expect(await consoleEpoch(db, n.id)).toBe(1);
    await db.update(s.instances).set({ state: "running", description: "x" }).where(eq(s.instances.id, i.id));
    expect(await consoleEpoch(db, n.id)).toBe(1);
    await db.update(s.instances).set({ storageVolumeId: "vol-2" }).where(eq(s.instances.id, i.id)); // rebuilt
    expect(await consoleEpoch(db, n.id)).toBe(2);
    await db.update(s.instances).set({ nodeId: null }).where(eq(s.instances.id, i.id)); // torn down / recovered away
    expect(await consoleEpoch(db, n.id)).toBe(3);
    await db.update(s.instances).set({ nodeId: n.id }).where(eq(s.instances.id, i.id));
    await db.update(s.instances).set({ deletedAt: new Date(), state: "deleted" }).where(eq(s.instances.id, i.id));
    expect(await consoleEpoch(db, n.id)).toBe(5);
    await db.delete(s.instances).where(eq(s.instances.id, i.id));
    expect(await consoleEpoch(db, n.id)).toBe(6);
    // Deleting the node takes its epoch row with it (and must not fail on the handover trigger).
    await db.delete(s.nodes).where(eq(s.nodes.id, n.id));
    expect(await consoleEpoch(db, n.id)).toBe(0);
  });
});
