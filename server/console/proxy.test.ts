// The console proxy end to end with the lab's Redfish BMC: real sign-in (better-auth session cookie), real
// WebSockets through a plain HTTP server carrying the upgrade handler, the Redfish driver finding the
// ConsoleURI, the lab's boot log and getty. Covers: boot log + login prompt + echo, scrollback replay to a
// second (read-only) viewer, reconnect after the lab drops the console, refusals (tenant, DPU, cross-origin,
// unauthenticated, unknown node), API-token access, and the audit rows of each session.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserWithPassword } from "@/db/seed";
import * as s from "@/db/schema";
import { newToken } from "@/server/auth/tokens";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { resetVia } from "@/sim/redfish/test-helpers";
// (imported under another name: biome reads a module-level use*() call as a React hook)
import { uniq, useTestDb as connectTestDb } from "@/test/db";
import { createConsoleProxy } from "./proxy";
import { ConsoleWs, insertNode, serveProxy, signInCookie, TEST_ORIGIN, until } from "./test-helpers";
import { insertInstance, insertPool, insertTenant } from "@/test/fixtures";

const db = connectTestDb();
const PASSWORD = "console test password";
let sim: RedfishSim;
let srv: Awaited<ReturnType<typeof serveProxy>>;
let proxy: ReturnType<typeof createConsoleProxy>;
let hostId: string;
let dpuId: string;
const cookies: Record<"admin" | "viewer" | "tenant" | "other", string> = { admin: "", viewer: "", tenant: "", other: "" };
let tenantId: string;
let host2Id: string;
let adminEmail: string;
let adminUserId: string;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 3, powerTransitionMs: 30, bootMs: 200 });
  sim.setBootable("node-0001", true);
  proxy = createConsoleProxy({ db, allowedOrigin: TEST_ORIGIN, session: { initialBackoffMs: 100, maxBackoffMs: 500 } });
  srv = await serveProxy(proxy);
  const host = sim.byId("node-0001")!;
  const dpu = sim.byId("node-0001-dpu")!;
  hostId = await insertNode(db, { name: uniq("console-host"), bmcDriver: "redfish", bmcAddress: host.url, username: host.username, password: host.password });
  dpuId = await insertNode(db, {
    name: uniq("console-dpu"),
    kind: "dpu",
    parentNodeId: hostId,
    bmcDriver: "redfish",
    bmcAddress: dpu.url,
    username: dpu.username,
    password: dpu.password,
  });

  adminEmail = `${uniq("opadmin")}@test.local`;
  const viewerEmail = `${uniq("opviewer")}@test.local`;
  const tenantEmail = `${uniq("tmember")}@test.local`;
  adminUserId = await createUserWithPassword(db, { email: adminEmail, name: "Console Admin", password: PASSWORD, platformRole: "operator-admin" });
  await createUserWithPassword(db, { email: viewerEmail, name: "Console Viewer", password: PASSWORD, platformRole: "operator-viewer" });
  const tenantUser = await createUserWithPassword(db, { email: tenantEmail, name: "Tenant Member", password: PASSWORD });
  const t = await insertTenant(db, "acme", "Acme console test");
  await db.insert(s.memberships).values({ tenantId: t.id, userId: tenantUser, role: "tenant-admin" });
  tenantId = t.id;
  const otherEmail = `${uniq("other")}@test.local`;
  const otherUser = await createUserWithPassword(db, { email: otherEmail, name: "Other Tenant", password: PASSWORD });
  const o = await insertTenant(db, "globex", "Globex console test");
  await db.insert(s.memberships).values({ tenantId: o.id, userId: otherUser, role: "tenant-admin" });
  cookies.other = await signInCookie(otherEmail, PASSWORD);
  const host2 = sim.byId("node-0003")!;
  host2Id = await insertNode(db, {
    name: uniq("console-host2"),
    bmcDriver: "redfish",
    bmcAddress: host2.url,
    username: host2.username,
    password: host2.password,
  });
  cookies.admin = await signInCookie(adminEmail, PASSWORD);
  cookies.viewer = await signInCookie(viewerEmail, PASSWORD);
  cookies.tenant = await signInCookie(tenantEmail, PASSWORD);
});

afterAll(async () => {
  await srv?.close();
  await sim?.close();
});

const open = (nodeId: string, who: keyof typeof cookies, extra: Record<string, string> = {}) =>
  ConsoleWs.open(`${srv.url}/api/console/${nodeId}`, { cookie: cookies[who], origin: TEST_ORIGIN, ...extra });

describe("console proxy with the lab's Redfish console", () => {
  let a: ConsoleWs;
  let b: ConsoleWs;

  it("shows an operator the boot log and login prompt, and echoes what they type", async () => {
    a = await open(hostId, "admin");
    const hello = await a.waitControl((c) => c.type === "hello", "hello");
    expect(hello).toMatchObject({ readOnly: false, node: { id: hostId, kind: "host" } });
    await a.waitState("connected");
    await resetVia(sim.byId("node-0001")!, "On");
    await a.waitText("Linux version");
    await a.waitText("node-0001 login: ");
    a.type("anvil\r");
    await a.waitText("anvil\r\nPassword: ");
    a.type("secret\r");
    await a.waitText("anvil@node-0001:~$ ");
    expect(a.text).not.toContain("secret");
    a.type("whoami\r");
    await a.waitText("whoami\r\nanvil\r\n");
  });

  it("replays the scrollback to a second viewer; an operator viewer is read-only", async () => {
    b = await open(hostId, "viewer");
    const hello = await b.waitControl((c) => c.type === "hello", "hello");
    expect(hello.readOnly).toBe(true);
    await b.waitText("node-0001 login: "); // the replay, not new output: the getty printed it before b came
    expect(b.text).toContain("Linux version");
    // One upstream for both.
    expect(proxy.hub.get(hostId)!.connects).toBe(1);
    expect(proxy.hub.get(hostId)!.viewerCount).toBe(2);

    b.type("echo sneaky\r"); // ignored: read-only
    b.control({ type: "break" });
    const refusal = await b.waitControl((c) => c.type === "error", "read-only break refusal");
    expect(refusal.reason).toBe("This console is read-only for you: operator viewers cannot send a break");
    a.type("echo visible\r");
    await a.waitText("visible\r\nanvil@node-0001:~$ ");
    await b.waitText("visible\r\nanvil@node-0001:~$ "); // live output reaches the read-only viewer too
    expect(a.text).not.toContain("sneaky");
  });

  it("reconnects when the lab drops the console; viewers stay connected, see the status, and keep working", async () => {
    const seenA = a.controls.length;
    const seenB = b.controls.length;
    const r = await fetch(`${sim.adminUrl}/admin/bmcs/node-0001/console/drop`, { method: "POST" });
    expect(r.status).toBeLessThan(300);
    const st = await a.waitState("reconnecting", seenA);
    expect(st.reason).toMatch(/ended the serial console session/);
    await a.waitState("connected", seenA);
    await b.waitState("connected", seenB);
    await a.waitText("[console: reconnected]");
    expect(a.closed).toBeNull();
    expect(b.closed).toBeNull();
    expect(proxy.hub.get(hostId)!.connects).toBe(2);
    a.type("hostname\r");
    await a.waitText("hostname\r\nnode-0001\r\n"); // the line kept its logged-in shell, as a serial port does
  });

  it("refuses bad control messages without closing", async () => {
    a.ws.send("not json");
    await a.waitControl((c) => c.type === "error" && /must be JSON/.test(c.reason ?? ""), "json error");
    a.control({ type: "resize", cols: -1, rows: 5 });
    await a.waitControl((c) => c.type === "error" && /resize/.test(c.reason ?? ""), "resize error");
    a.control({ type: "frobnicate" });
    await a.waitControl((c) => c.type === "error" && /Unknown control message type "frobnicate"/.test(c.reason ?? ""), "unknown type");
    expect(a.closed).toBeNull();
  });

  it("audits each session: who, which node, opened and closed with the duration", async () => {
    await a.close();
    await b.close();
    const rows = () =>
      db
        .select()
        .from(s.auditEvents)
        .where(and(eq(s.auditEvents.targetId, hostId), eq(s.auditEvents.actorEmail, adminEmail)));
    await until("close audit row", async () => (await rows()).some((r) => r.action === "console.close"));
    const mine = await rows();
    const opened = mine.find((r) => r.action === "console.open")!;
    const closed = mine.find((r) => r.action === "console.close")!;
    expect(opened).toMatchObject({ actorUserId: adminUserId, targetType: "node", details: { readOnly: false, kind: "host", via: "session" } });
    const d = closed.details as { durationMs: number; openedAt: string; closedAt: string };
    expect(d.durationMs).toBeGreaterThan(0);
    expect(new Date(d.closedAt).getTime() - new Date(d.openedAt).getTime()).toBe(d.durationMs);
    // The upstream lingers after the last viewer left (output keeps flowing into the scrollback).
    expect(proxy.hub.get(hostId)?.isEnded).toBe(false);
  });
});

describe("console proxy and node changes", () => {
  it("reads the node again on reconnect: a deleted node ends the session with the reason", async () => {
    const bmc = sim.byId("node-0002")!;
    const name = uniq("doomed");
    const id = await insertNode(db, { name, bmcDriver: "redfish", bmcAddress: bmc.url, username: bmc.username, password: bmc.password });
    const c = await open(id, "admin");
    await c.waitState("connected");
    await db.delete(s.nodes).where(eq(s.nodes.id, id));
    await fetch(`${sim.adminUrl}/admin/bmcs/node-0002/console/drop`, { method: "POST" });
    expect(await c.waitClose()).toEqual({ code: 4502, reason: `Node ${name} has been deleted` });
    expect(proxy.hub.get(id)).toBeUndefined();
  });
});

describe("console proxy refusals", () => {
  it("refuses a tenant user a host that is not one of their instances, with the reason", async () => {
    const c = await open(hostId, "tenant");
    expect(await c.waitClose()).toEqual({ code: 4403, reason: "This server is not one of your instances" });
    expect(c.controls).toEqual([{ type: "status", state: "closed", reason: "This server is not one of your instances", code: 4403 }]);
  });

  it("refuses a tenant user any DPU console", async () => {
    const c = await open(dpuId, "tenant");
    expect(await c.waitClose()).toEqual({ code: 4403, reason: "DPU consoles are for operators only" });
  });

  it("refuses a cross-origin connection even with a valid session cookie", async () => {
    const c = await open(hostId, "admin", { origin: "http://evil.example" });
    expect((await c.waitClose()).code).toBe(4403);
    expect(c.controls[0]?.reason).toBe("Cross-origin console connections are refused (http://evil.example)");
    expect(c.text).toBe("");
  });

  it("refuses a connection without a session (4401) and an unknown node (4404)", async () => {
    const anon = await ConsoleWs.open(`${srv.url}/api/console/${hostId}`, { origin: TEST_ORIGIN });
    expect(await anon.waitClose()).toEqual({ code: 4401, reason: "Sign in to open a serial console" });
    const unknown = await open(crypto.randomUUID(), "admin");
    expect(await unknown.waitClose()).toEqual({ code: 4404, reason: "No such node" });
    const garbage = await open("not-a-node", "admin");
    expect((await garbage.waitClose()).code).toBe(4404);
  });

  it("lets automation in with an operator API token (Bearer, no Origin), and audits it as such", async () => {
    const t = newToken();
    await db.insert(s.apiTokens).values({
      id: t.id,
      userId: adminUserId,
      name: uniq("console-bot"),
      secretHash: t.secretHash,
      platformRole: "operator-admin",
      expiresAt: new Date(Date.now() + 3600_000),
    });
    const c = await ConsoleWs.open(`${srv.url}/api/console/${dpuId}`, { authorization: `Bearer ${t.token}` });
    await c.waitControl((m) => m.type === "hello", "hello");
    await c.waitState("connected");
    await c.close();
    await until("token audit row", async () => {
      const rows = await db
        .select()
        .from(s.auditEvents)
        .where(and(eq(s.auditEvents.targetId, dpuId), eq(s.auditEvents.action, "console.open")));
      return rows.some((r) => (r.details as { via?: string }).via === "api-token");
    });
    // A Bearer token that does not resolve is unauthenticated.
    const bad = await ConsoleWs.open(`${srv.url}/api/console/${dpuId}`, {
      authorization: "Bearer anv_000000000000000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    });
    expect((await bad.waitClose()).code).toBe(4401);
  });
});

describe("tenant consoles of their instances (/api/console/instance/<id>)", () => {
  const openInstance = (id: string, who: keyof typeof cookies) =>
    ConsoleWs.open(`${srv.url}/api/console/instance/${id}`, { cookie: cookies[who], origin: TEST_ORIGIN });
  async function instance(nodeId: string | null, state: "running" | "creating" = "running") {
    const p = await insertPool(db);
    return (await insertInstance(db, { tenantId, poolId: p.id, systemVolumeSizeGiB: 10, nodeId, state })).id;
  }

  it("lets a member of the instance's tenant type into the host it runs on; refuses another tenant", async () => {
    const id = await instance(host2Id);
    const c = await openInstance(id, "tenant");
    const hello = await c.waitControl((m) => m.type === "hello", "hello");
    // The tenant learns its instance, never the node behind it.
    expect(hello).toMatchObject({ readOnly: false, target: { type: "instance", id, kind: "host" } });
    expect(hello.node).toBeUndefined();
    expect(JSON.stringify(hello)).not.toContain(host2Id);
    await c.waitState("connected");
    sim.setBootable("node-0003", true);
    await resetVia(sim.byId("node-0003")!, "On");
    await c.waitText("node-0003 login: ");
    c.type("root\r");
    await c.waitText("root\r\nPassword: ");
    await c.close();
    const other = await openInstance(id, "other");
    // Another tenant's instance is answered exactly like one that does not exist (no existence oracle).
    expect(await other.waitClose()).toEqual({ code: 4404, reason: "No such instance" });
    await until("audit row names the instance", async () => {
      const rows = await db
        .select()
        .from(s.auditEvents)
        .where(and(eq(s.auditEvents.targetId, id), eq(s.auditEvents.action, "console.open")));
      return rows.some((r) => r.targetType === "instance" && (r.details as { instanceId?: string }).instanceId === id && r.tenantId === tenantId);
    });
  });

  it("says an instance not on a host is not reachable — only to its tenant; others learn nothing", async () => {
    const id = await instance(null, "creating");
    const mine = await openInstance(id, "tenant");
    expect(await mine.waitClose()).toEqual({ code: 4403, reason: "The instance is creating and not on a host right now" });
    const theirs = await openInstance(id, "other");
    expect(await theirs.waitClose()).toEqual({ code: 4404, reason: "No such instance" });
    const unknown = await openInstance(crypto.randomUUID(), "tenant");
    expect(await unknown.waitClose()).toEqual({ code: 4404, reason: "No such instance" });
  });
});
