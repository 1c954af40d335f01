// The console never crosses tenants when a host is reused, and access is re-checked while a console is open.
// Against the lab's Redfish BMC console (a real getty and shell), real sign-in, real WebSockets, two proxies on one
// database standing for two BFF replicas:
//  - a live tenant viewer is closed the moment its instance leaves the host (4409), on every replica, and the next
//    tenant's console replays none of the previous tenant's output — also when the previous viewer had already left
//    and the session was lingering;
//  - keystrokes of an ended viewer reach nobody;
//  - sign-out, a disabled user, a removed membership, a revoked API token and a suspended tenant each end an open
//    console at once (NOTIFY from the database's triggers; the interval re-check is set to an hour here so only the
//    notification can do it), and the interval re-check alone does it too (a proxy that does not listen).
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserWithPassword } from "@/db/seed";
import * as s from "@/db/schema";
import { newToken } from "@/server/auth/tokens";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { resetVia } from "@/sim/redfish/test-helpers";
// (imported under another name: biome reads a module-level use*() call as a React hook)
import { uniq, useTestDb as connectTestDb } from "@/test/db";
import { insertInstance, insertPool, tenantState } from "@/test/fixtures";
import { createConsoleProxy } from "./proxy";
import { HANDOVER_CODE } from "./session";
import { ConsoleWs, insertNode, serveProxy, signInCookie, TEST_ORIGIN, until } from "./test-helpers";

const db = connectTestDb();
const PASSWORD = "handover test password";
const HOUR = 3600_000;
let sim: RedfishSim;
let replica1: Awaited<ReturnType<typeof serveProxy>>;
let replica2: Awaited<ReturnType<typeof serveProxy>>;
let proxy1: ReturnType<typeof createConsoleProxy>;
let proxy2: ReturnType<typeof createConsoleProxy>;
let poolId: string;
const hosts: string[] = [];
const tenants: Record<"acme" | "globex", { id: string; cookie: string; userId: string }> = {
  acme: { id: "", cookie: "", userId: "" },
  globex: { id: "", cookie: "", userId: "" },
};
let operatorCookie = "";

async function tenantWithUser(name: string) {
  const [t] = await db
    .insert(s.tenants)
    .values({ slug: uniq(name), name: `${name} handover` })
    .returning();
  const email = `${uniq(name)}@test.local`;
  const userId = await createUserWithPassword(db, { email, name: `${name} user`, password: PASSWORD });
  await db.insert(s.memberships).values({ tenantId: t!.id, userId, role: "tenant-admin" });
  return { id: t!.id, userId, cookie: await signInCookie(email, PASSWORD), email };
}

async function place(tenantId: string, nodeId: string): Promise<string> {
  return (await insertInstance(db, { tenantId, poolId, systemVolumeSizeGiB: 10, nodeId, state: "running" })).id;
}

/** What the delete workflow's last steps do to the row: off the host, then gone. */
async function removeInstance(id: string) {
  await db.update(s.instances).set({ nodeId: null, state: "deleting" }).where(eq(s.instances.id, id));
  await db.update(s.instances).set({ state: "deleted", deletedAt: new Date() }).where(eq(s.instances.id, id));
}

const openInstance = (srv: { url: string }, id: string, cookie: string) =>
  ConsoleWs.open(`${srv.url}/api/console/instance/${id}`, { cookie, origin: TEST_ORIGIN });

async function shell(c: ConsoleWs, host: string) {
  await c.waitState("connected");
  c.type("\r");
  await c.waitText(new RegExp(`${host} login: |anvil@${host}:~\\$ `));
  if (!/anvil@[^:]+:~\$ $/.test(c.text)) {
    c.type("anvil\r");
    await c.waitText("Password: ");
    c.type("secret\r");
    await c.waitText(`anvil@${host}:~$ `);
  }
}

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 5, dpuEvery: 0, powerTransitionMs: 20, bootMs: 100 });
  for (let i = 1; i <= 5; i++) {
    const id = `node-000${i}`;
    sim.setBootable(id, true);
    const bmc = sim.byId(id)!;
    hosts.push(
      await insertNode(db, { name: uniq(`handover-${i}`), bmcDriver: "redfish", bmcAddress: bmc.url, username: bmc.username, password: bmc.password }),
    );
    await resetVia(bmc, "On");
  }
  poolId = (await insertPool(db)).id;
  proxy1 = createConsoleProxy({ db, allowedOrigin: TEST_ORIGIN, recheckIntervalMs: HOUR, session: { initialBackoffMs: 100, maxBackoffMs: 500 } });
  proxy2 = createConsoleProxy({ db, allowedOrigin: TEST_ORIGIN, recheckIntervalMs: HOUR, session: { initialBackoffMs: 100, maxBackoffMs: 500 } });
  replica1 = await serveProxy(proxy1);
  replica2 = await serveProxy(proxy2);
  const a = await tenantWithUser("acme");
  const g = await tenantWithUser("globex");
  tenants.acme = a;
  tenants.globex = g;
  const opEmail = `${uniq("op")}@test.local`;
  await createUserWithPassword(db, { email: opEmail, name: "Op", password: PASSWORD, platformRole: "operator-admin" });
  operatorCookie = await signInCookie(opEmail, PASSWORD);
});

afterAll(async () => {
  await replica1?.close();
  await replica2?.close();
  await sim?.close();
});

describe("a host handed to another tenant", () => {
  it("closes the old tenant's live console on every replica, and the new tenant sees none of the old output", async () => {
    const node = hosts[0]!;
    const x = await place(tenants.acme.id, node);
    const a = await openInstance(replica1, x, tenants.acme.cookie);
    const hello = await a.waitControl((m) => m.type === "hello", "hello");
    // A tenant learns the instance, never the node behind it.
    expect(hello).toMatchObject({ target: { type: "instance", id: x } });
    expect(JSON.stringify(hello)).not.toContain(node);
    expect(hello.node).toBeUndefined();
    // An operator watching the same host on the other replica.
    const op = await ConsoleWs.open(`${replica2.url}/api/console/${node}`, { cookie: operatorCookie, origin: TEST_ORIGIN });
    await op.waitState("connected");
    await shell(a, "node-0001");
    a.type("echo acme-secret\r");
    await a.waitText("acme-secret\r\nanvil@");
    await op.waitText("acme-secret");

    await removeInstance(x);
    expect(await a.waitClose()).toMatchObject({ code: HANDOVER_CODE });
    expect((await op.waitClose()).code).toBe(HANDOVER_CODE);
    expect(proxy1.hub.get(node)).toBeUndefined();
    expect(proxy2.hub.get(node)).toBeUndefined();
    // Typing after the close reaches nothing (the socket is closed; nothing was left to receive it).
    // Acme asking again learns only that there is no such instance.
    const again = await openInstance(replica1, x, tenants.acme.cookie);
    expect(await again.waitClose()).toEqual({ code: 4404, reason: "No such instance" });

    const y = await place(tenants.globex.id, node);
    const b = await openInstance(replica2, y, tenants.globex.cookie);
    const bHello = await b.waitControl((m) => m.type === "hello", "hello");
    expect(bHello).toMatchObject({ scrollbackBytes: 0 });
    await b.waitState("connected");
    b.type("\r");
    await b.waitText(/\$ |login: /);
    expect(b.text).not.toContain("acme-secret");
    // Acme cannot open Globex's instance, and the answer is the same as for an instance that does not exist.
    const cross = await openInstance(replica1, y, tenants.acme.cookie);
    expect(await cross.waitClose()).toEqual({ code: 4404, reason: "No such instance" });
    await b.close();
  });

  it("forgets a lingering session's scrollback at the handover: the next tenant gets no replay", async () => {
    const node = hosts[1]!;
    const x = await place(tenants.acme.id, node);
    const a = await openInstance(replica1, x, tenants.acme.cookie);
    await shell(a, "node-0002");
    a.type("echo lingering\r");
    await a.waitText("lingering\r\nanvil@");
    await a.close();
    // Nobody watches; the session lingers with the scrollback (so acme could come back to it).
    expect(proxy1.hub.get(node)?.isEnded).toBe(false);
    expect(proxy1.hub.get(node)!.ring.snapshot().toString()).toContain("lingering");
    await removeInstance(x);
    await until("lingering session ended", () => proxy1.hub.get(node) === undefined);
    const y = await place(tenants.globex.id, node);
    const b = await openInstance(replica1, y, tenants.globex.cookie);
    expect(await b.waitControl((m) => m.type === "hello", "hello")).toMatchObject({ scrollbackBytes: 0 });
    await b.waitState("connected");
    b.type("\r");
    await b.waitText(/\$ |login: /);
    expect(b.text).not.toContain("lingering");
    await b.close();
  });

  it("closes a console when the instance is rebuilt onto a new system disk or recovered to another host", async () => {
    const node = hosts[2]!;
    const x = await place(tenants.acme.id, node);
    const a = await openInstance(replica1, x, tenants.acme.cookie);
    await a.waitState("connected");
    await db
      .update(s.instances)
      .set({ storageVolumeId: `vol-${uniq()}` })
      .where(eq(s.instances.id, x));
    expect((await a.waitClose()).code).toBe(HANDOVER_CODE);
    // Reconnecting (what the UI does after 4409) follows the instance; after a recovery that is the spare host.
    const a2 = await openInstance(replica1, x, tenants.acme.cookie);
    await a2.waitState("connected");
    await db.update(s.instances).set({ nodeId: hosts[3]! }).where(eq(s.instances.id, x));
    expect((await a2.waitClose()).code).toBe(HANDOVER_CODE);
    const a3 = await openInstance(replica1, x, tenants.acme.cookie);
    await a3.waitState("connected");
    a3.type("\r");
    await a3.waitText(/node-0004/);
    await a3.close();
    await removeInstance(x);
  });
});

describe("access re-checked on an open console", () => {
  let instanceId: string;
  let tenantId: string;
  beforeAll(async () => {
    const t = await tenantWithUser("initech");
    tenantId = t.id;
    instanceId = await place(tenantId, hosts[4]!);
  });

  async function member(): Promise<{ userId: string; cookie: string }> {
    const email = `${uniq("m")}@test.local`;
    const userId = await createUserWithPassword(db, { email, name: "Member", password: PASSWORD });
    await db.insert(s.memberships).values({ tenantId, userId, role: "tenant-member" });
    return { userId, cookie: await signInCookie(email, PASSWORD) };
  }

  async function openAs(cookie: string, srv = replica1) {
    const c = await openInstance(srv, instanceId, cookie);
    await c.waitState("connected");
    return c;
  }

  it("ends the console when the user is removed from the tenant", async () => {
    const m = await member();
    const c = await openAs(m.cookie);
    await db.delete(s.memberships).where(and(eq(s.memberships.tenantId, tenantId), eq(s.memberships.userId, m.userId)));
    expect(await c.waitClose()).toMatchObject({ code: 4403, reason: expect.stringContaining("withdrawn") });
  });

  it("ends the console when the user is disabled", async () => {
    const m = await member();
    const c = await openAs(m.cookie, replica2);
    await db.update(s.users).set({ disabled: true }).where(eq(s.users.id, m.userId));
    expect((await c.waitClose()).code).toBe(4401);
  });

  it("ends the console when the user signs out elsewhere", async () => {
    const m = await member();
    const c = await openAs(m.cookie);
    const { getAuth } = await import("@/server/auth/auth");
    const res = await getAuth().handler(
      new Request(`${TEST_ORIGIN}/api/auth/sign-out`, { method: "POST", headers: { cookie: m.cookie, origin: TEST_ORIGIN } }),
    );
    expect(res.status).toBe(200);
    expect((await c.waitClose()).code).toBe(4401);
  });

  it("ends a console opened with an API token when the token is revoked", async () => {
    const m = await member();
    const t = newToken();
    await db.insert(s.apiTokens).values({
      id: t.id,
      userId: m.userId,
      name: uniq("bot"),
      secretHash: t.secretHash,
      tenantId,
      tenantRole: "tenant-member",
      expiresAt: new Date(Date.now() + HOUR),
    });
    const c = await ConsoleWs.open(`${replica1.url}/api/console/instance/${instanceId}`, { authorization: `Bearer ${t.token}` });
    await c.waitState("connected");
    await db.update(s.apiTokens).set({ revokedAt: new Date() }).where(eq(s.apiTokens.id, t.id));
    expect((await c.waitClose()).code).toBe(4401);
  });

  it("ends every console of a tenant that is suspended", async () => {
    const m = await member();
    const c1 = await openAs(m.cookie);
    const c2 = await openAs(m.cookie, replica2);
    await tenantState(db, tenantId, "suspended");
    try {
      for (const c of [c1, c2]) expect(await c.waitClose()).toMatchObject({ code: 4403, reason: expect.stringContaining("suspended") });
    } finally {
      await tenantState(db, tenantId, "active");
    }
  });

  it("re-checks on the interval too, without notifications", async () => {
    const polling = createConsoleProxy({ db, allowedOrigin: TEST_ORIGIN, recheckIntervalMs: 200, listen: false });
    const srv = await serveProxy(polling);
    try {
      const m = await member();
      const c = await openAs(m.cookie, srv);
      await db.delete(s.memberships).where(and(eq(s.memberships.tenantId, tenantId), eq(s.memberships.userId, m.userId)));
      expect((await c.waitClose()).code).toBe(4403);
      // And a handover seen only by polling ends the session too.
      const m2 = await member();
      const c2 = await openAs(m2.cookie, srv);
      await db
        .update(s.instances)
        .set({ storageVolumeId: `vol-${uniq()}` })
        .where(eq(s.instances.id, instanceId));
      expect((await c2.waitClose()).code).toBe(HANDOVER_CODE);
    } finally {
      await srv.close();
    }
  });
});
