// Sessions against the real database, with sessions made by real sign-ins through better-auth's handler: a user lists
// their own sessions (this one marked) and ends one or all the others — each then no longer resolves — but never
// someone else's (NOT_FOUND); an API token can't; an operator admin signs a user out everywhere (audited), an
// operator viewer can't. The Security summary says how the user signs in.
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { createUserWithPassword } from "@/db/seed";
import { createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { getAuth } from "@/server/auth/auth";
import { CLIENT_IP_HEADER } from "@/server/lib/client-ip";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";

const db = useTestDb();
const origin = "http://localhost:3000";
const PASSWORD = "correct horse battery";
let fx: Fixtures;
let ip = 1;

async function signIn(email: string, userAgent: string): Promise<string> {
  const res = await getAuth().handler(
    new Request(`${origin}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin, "user-agent": userAgent, [CLIENT_IP_HEADER]: `10.66.0.${ip++}` },
      body: JSON.stringify({ email, password: PASSWORD }),
    }),
  );
  expect(res.status).toBe(200);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}
const ctxOf = (cookie: string) => createContext({ headers: new Headers({ cookie }) });
const callerFor = async (cookie: string) => createCaller(await ctxOf(cookie));

const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
const CHROME_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";

beforeAll(async () => {
  fx = await makeFixtures(db);
});

describe("a user's own sessions", () => {
  let email: string;
  let userId: string;
  beforeAll(async () => {
    email = `${uniq("sess")}@test.local`;
    userId = await createUserWithPassword(db, { email, name: "Sessions", password: PASSWORD });
  });

  it("lists them, this one marked, and ends one of the others", async () => {
    const laptop = await signIn(email, FIREFOX);
    const desktop = await signIn(email, CHROME_MAC);
    const me = await callerFor(laptop);
    const { items } = await me.account.sessions({});
    expect(items.map((i) => [i.client, i.current]).sort()).toEqual([
      ["Chrome on macOS", false],
      ["Firefox on Linux", true],
    ]);
    expect(items.every((i) => i.ipAddress?.startsWith("10.66.0."))).toBe(true);
    expect(JSON.stringify(items)).not.toMatch(/token/i);

    const other = items.find((i) => !i.current)!;
    expect(await me.account.revokeSession({ id: other.id })).toEqual({ id: other.id, current: false });
    expect((await ctxOf(desktop)).principal).toBeNull();
    expect((await ctxOf(laptop)).principal?.userId).toBe(userId);
    const [row] = await db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, userId), eq(s.auditEvents.action, "session.revoke")));
    expect(row?.details).toMatchObject({ client: "Chrome on macOS", current: false });
    // Already gone: NOT_FOUND, like a session that never was.
    await expect(me.account.revokeSession({ id: other.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("ends all the others at once, keeping this one", async () => {
    const a = await signIn(email, FIREFOX);
    const b = await signIn(email, CHROME_MAC);
    const c = await signIn(email, "curl/8.14.1");
    const r = await (await callerFor(a)).account.revokeOtherSessions();
    expect(r.sessionsRevoked).toBeGreaterThanOrEqual(2);
    expect((await ctxOf(a)).principal?.userId).toBe(userId);
    expect((await ctxOf(b)).principal).toBeNull();
    expect((await ctxOf(c)).principal).toBeNull();
    expect((await (await callerFor(a)).account.sessions({})).items.map((i) => i.current)).toEqual([true]);
  });

  it("never ends someone else's session", async () => {
    const otherEmail = `${uniq("sess-other")}@test.local`;
    await createUserWithPassword(db, { email: otherEmail, name: "Other", password: PASSWORD });
    const theirs = await signIn(otherEmail, FIREFOX);
    const theirId = (await ctxOf(theirs)).principal!.sessionId!;
    const mine = await callerFor(await signIn(email, FIREFOX));
    await expect(mine.account.revokeSession({ id: theirId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await ctxOf(theirs)).principal?.email).toBe(otherEmail);
  });

  it("is for a signed-in session: an API token is refused", async () => {
    const ctx = await ctxOf(await signIn(email, FIREFOX));
    const token = createCaller({
      ...ctx,
      principal: { ...ctx.principal!, sessionId: null, tokenScope: { platformRole: null, tenantId: fx.tenant.id, tenantRole: "tenant-member" } },
    });
    await expect(token.account.sessions({})).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(token.account.revokeOtherSessions()).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("says how the user signs in", async () => {
    const me = await callerFor(await signIn(email, FIREFOX));
    expect(await me.account.security()).toEqual({ hasPassword: true, twoFactorEnabled: false, sso: { linked: false, providerName: null } });
  });
});

describe("an operator admin signs a user out everywhere", () => {
  it("ends every session of the user, audited; viewers may not", async () => {
    const email = `${uniq("evicted")}@test.local`;
    const userId = await createUserWithPassword(db, { email, name: "Evicted", password: PASSWORD });
    const one = await signIn(email, FIREFOX);
    const two = await signIn(email, CHROME_MAC);
    await expect(callerAs(fx, "operatorViewer").users.signOutEverywhere({ id: userId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await ctxOf(one)).principal?.userId).toBe(userId);

    expect(await callerAs(fx, "operatorAdmin").users.signOutEverywhere({ id: userId })).toEqual({ id: userId, sessionsRevoked: 2 });
    expect((await ctxOf(one)).principal).toBeNull();
    expect((await ctxOf(two)).principal).toBeNull();
    expect(await db.select().from(s.sessions).where(eq(s.sessions.userId, userId))).toEqual([]);
    const [row] = await db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, userId), eq(s.auditEvents.action, "user.sign_out_everywhere")));
    expect(row).toMatchObject({ actorEmail: fx.principals.operatorAdmin.email, details: { sessionsRevoked: 2 } });
    // The user can sign in again afterwards (this is not disabling).
    expect((await ctxOf(await signIn(email, FIREFOX))).principal?.userId).toBe(userId);

    await expect(callerAs(fx, "operatorAdmin").users.signOutEverywhere({ id: "no-such-user" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
