// Users router against a real Postgres and better-auth's real sign-in handler: create with a temporary password
// that signs in, reset password (sessions revoked, old password refused), disable/enable (sessions revoked,
// sign-in refused), platform roles, and the "an operator admin can't demote or disable themselves" rule.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { createContext } from "@/server/api/trpc";
import { getAuth } from "@/server/auth/auth";
import { CLIENT_IP_HEADER } from "@/server/lib/client-ip";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

const origin = "http://localhost:3000";

/** Signs in through better-auth's HTTP handler; returns the session cookie or the HTTP status. */
async function signIn(email: string, password: string): Promise<{ status: number; cookie: string }> {
  const res = await getAuth().handler(
    new Request(`${origin}/api/auth/sign-in/email`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin,
        [CLIENT_IP_HEADER]: `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      },
      body: JSON.stringify({ email, password }),
    }),
  );
  return {
    status: res.status,
    cookie: res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; "),
  };
}

async function principalOf(cookie: string) {
  return (await createContext({ headers: new Headers({ cookie }) })).principal;
}

/** A user the operator admin made with this password, signed in (checked): the user, their address and the session. */
async function signedInUser(op: ReturnType<typeof callerAs>, prefix: string, name: string, password: string) {
  const email = `${uniq(prefix)}@test.local`;
  const { user } = await op.users.create({ email, name, password });
  const session = await signIn(email, password);
  expect(await principalOf(session.cookie)).not.toBeNull();
  return { user, email, session };
}

describe("users", () => {
  it("creates a user with a generated temporary password shown once, which signs in", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const email = `${uniq("new")}@Test.Local`;
    const r = await op.users.create({ email, name: "New Person" });
    expect(r.user.email).toBe(email.toLowerCase());
    expect(r.temporaryPassword.length).toBeGreaterThanOrEqual(20);
    const si = await signIn(email.toLowerCase(), r.temporaryPassword);
    expect(si.status).toBe(200);
    expect((await principalOf(si.cookie))?.email).toBe(email.toLowerCase());
    // Never stored or audited in clear.
    const audits = await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, r.user.id));
    expect(JSON.stringify(audits)).not.toContain(r.temporaryPassword);
    const dup = await failure(op.users.create({ email, name: "Again" }));
    expect(dup.code).toBe("CONFLICT");
    expect(fieldOf(dup)).toBe("email");
    expect((await failure(op.users.create({ email: "not-an-email", name: "x" }))).message).toMatch(/email/);
    const short = await failure(op.users.create({ email: `${uniq("p")}@t.local`, name: "x", password: "short" }));
    expect(short.code).toBe("BAD_REQUEST");
    expect(short.message).toMatch(/"password"[\s\S]*At least 12 characters/);
  });

  it("resets a password: new one shown once, sessions revoked, old password refused", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const { user, email, session: before } = await signedInUser(op, "reset", "Reset Me", "first-password-1");
    const r = await op.users.resetPassword({ id: user.id });
    expect(r.sessionsRevoked).toBe(1);
    expect(await principalOf(before.cookie)).toBeNull();
    expect((await signIn(email, "first-password-1")).status).toBe(401);
    expect((await signIn(email, r.temporaryPassword)).status).toBe(200);
    expect((await failure(op.users.resetPassword({ id: "no-such-user" }))).code).toBe("NOT_FOUND");
  });

  it("disables a user (sessions revoked, sign-in refused) and enables them again", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const { user, email, session: si } = await signedInUser(op, "dis", "Dis Abled", "disable-me-please");
    const r = await op.users.setDisabled({ id: user.id, disabled: true });
    expect(r.sessionsRevoked).toBe(1);
    expect(await principalOf(si.cookie)).toBeNull();
    expect((await signIn(email, "disable-me-please")).status).toBe(403);
    expect((await op.users.list({ q: email, disabled: true })).items.map((u) => u.id)).toEqual([user.id]);
    await op.users.setDisabled({ id: user.id, disabled: false });
    expect((await signIn(email, "disable-me-please")).status).toBe(200);
    const actions = (await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, user.id))).map((a) => a.action).sort();
    expect(actions).toEqual(["user.create", "user.disable", "user.enable"]);
  });

  it("sets platform roles, but an operator admin can't demote or disable themselves", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const { user } = await op.users.create({ email: `${uniq("role")}@test.local`, name: "Role" });
    await op.users.setPlatformRole({ id: user.id, role: "operator-viewer" });
    expect((await op.users.get({ id: user.id })).platformRole).toBe("operator-viewer");
    expect((await op.users.list({ q: user.email, role: "operator" })).items).toHaveLength(1);
    await op.users.setPlatformRole({ id: user.id, role: null });
    expect((await op.users.list({ q: user.email, role: "none" })).items).toHaveLength(1);
    const me = fx.principals.operatorAdmin.userId;
    const demote = await failure(op.users.setPlatformRole({ id: me, role: "operator-viewer" }));
    expect(demote.code).toBe("PRECONDITION_FAILED");
    expect(demote.message).toMatch(/can't remove your own operator admin role/);
    const disable = await failure(op.users.setDisabled({ id: me, disabled: true }));
    expect(disable.message).toMatch(/can't disable your own account/);
    const [still] = await fx.db.select().from(s.users).where(eq(s.users.id, me));
    expect(still).toMatchObject({ platformRole: "operator-admin", disabled: false });
  });

  it("shows a user's tenants in the detail", async () => {
    const d = await callerAs(fx, "operatorViewer").users.get({ id: fx.principals.tenantAdmin.userId });
    expect(d.tenants).toEqual([expect.objectContaining({ id: fx.tenant.id, role: "tenant-admin" })]);
    expect(d.tenantCount).toBe(1);
  });
});
