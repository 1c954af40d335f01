// Single sign-on against a real OpenID Connect provider (sim/oidc.ts: the oidc-provider package on loopback), the
// whole authorization-code flow over HTTP (test/oidc-flow.ts: Anvil's sign-in/social → the provider's login form →
// Anvil's callback): a new person gets an account, a session and what their groups map to; the groups are re-synced
// at every sign-in without touching hand grants; an operator-made account is linked; a disabled user, and a person
// in no mapped group, are refused with the reason on the login page.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { createUserWithPassword } from "@/db/seed";
import { createContext } from "@/server/api/trpc";
import { CLIENT_IP_HEADER } from "@/server/lib/client-ip";
import { type OidcSim, startOidcSim } from "@/sim/oidc";
import { uniq, useTestDb } from "@/test/db";
import { ssoSignIn } from "@/test/oidc-flow";
import { getAuth } from "./auth";

const db = useTestDb();
const origin = "http://localhost:3000";
let idp: OidcSim;
let acme: { id: string; slug: string };
let globex: { id: string; slug: string };
let initech: { id: string; slug: string };

const tenant = async (label: string) =>
  (
    await db
      .insert(s.tenants)
      .values({ slug: uniq(label), name: label })
      .returning()
  )[0]!;
const person = (login: string, groups: string[], email = `${login}@idp.test`) => {
  idp.people.set(login, { login, email, name: `${login[0]!.toUpperCase()}${login.slice(1)} Example`, groups });
  return email;
};
let octet = 1;
const signIn = (login: string) => ssoSignIn({ handler: (r) => getAuth().handler(r), origin, login, headers: { [CLIENT_IP_HEADER]: `10.77.0.${octet++}` } });

async function principalOf(cookie: string) {
  return (await createContext({ headers: new Headers({ cookie }) })).principal;
}
async function userByEmail(email: string) {
  return (await db.select().from(s.users).where(eq(s.users.email, email)))[0];
}
async function membershipsOf(userId: string) {
  const rows = await db
    .select({ tenant: s.tenants.slug, role: s.memberships.role, source: s.memberships.source })
    .from(s.memberships)
    .innerJoin(s.tenants, eq(s.tenants.id, s.memberships.tenantId))
    .where(eq(s.memberships.userId, userId));
  return Object.fromEntries(rows.map((r) => [r.tenant, `${r.role}/${r.source}`]));
}

beforeAll(async () => {
  acme = await tenant("acme");
  globex = await tenant("globex");
  initech = await tenant("initech");
  idp = await startOidcSim({
    clients: [{ clientId: "anvil-test", clientSecret: "anvil-test-secret", redirectUris: [`${origin}/api/auth/callback/oidc`] }],
    people: [],
  });
  // Read when the auth instance is built (the first request below).
  Object.assign(process.env, {
    ANVIL_OIDC_ISSUER: idp.issuer,
    ANVIL_OIDC_CLIENT_ID: "anvil-test",
    ANVIL_OIDC_CLIENT_SECRET: "anvil-test-secret",
    ANVIL_OIDC_NAME: "Lab IdP",
    ANVIL_OIDC_SCOPES: "openid email profile groups",
    ANVIL_OIDC_OPERATOR_ADMIN_GROUPS: "platform-admins",
    ANVIL_OIDC_OPERATOR_VIEWER_GROUPS: "noc, auditors",
    ANVIL_OIDC_TENANT_GROUPS: [
      `acme-admins=${acme.slug}:tenant-admin`,
      `acme-devs=${acme.slug}:tenant-member`,
      `globex-devs=${globex.slug}:tenant-member`,
      "ghosts=no-such-tenant:tenant-member",
    ].join(","),
  });
});

afterAll(async () => {
  await idp?.close();
});

describe("SSO sign-in with a real OpenID Connect provider", () => {
  it("gives a new person an account, a session, and the role and memberships their groups map to", async () => {
    const email = person("alice", ["acme-admins", "globex-devs", "noc", "ghosts", "unrelated"]);
    const r = await signIn("alice");
    expect(r.location).toBe("/");
    expect(r.anvil.has(/session_token$/)).toBe(true);
    const p = await principalOf(r.anvil.header());
    expect(p?.email).toBe(email);
    expect(p?.name).toBe("Alice Example");
    expect(p?.platformRole).toBe("operator-viewer");
    const u = (await userByEmail(email))!;
    expect(u.platformRoleFromSso).toBe(true);
    expect(await membershipsOf(u.id)).toEqual({ [acme.slug]: "tenant-admin/sso", [globex.slug]: "tenant-member/sso" });
    // The IdP's tokens are not kept; the link to the IdP identity is.
    const [acct] = await db
      .select()
      .from(s.accounts)
      .where(and(eq(s.accounts.userId, u.id), eq(s.accounts.providerId, "oidc")));
    expect(acct).toMatchObject({ accountId: "alice", accessToken: null, refreshToken: null, idToken: null });
    // Every grant is audited, with its source.
    const audits = await db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, u.id), eq(s.auditEvents.action, "member.add")));
    expect(audits.map((a) => [a.tenantId, a.details?.source]).sort()).toEqual(
      [
        [acme.id, "sso"],
        [globex.id, "sso"],
      ].sort(),
    );
  });

  it("re-syncs SSO grants at every sign-in and never touches grants made by hand", async () => {
    const email = person("bruno", ["acme-admins", "globex-devs", "platform-admins"]);
    await signIn("bruno");
    const u = (await userByEmail(email))!;
    expect(u.platformRole).toBe("operator-admin");
    // An operator adds bruno to initech by hand.
    await db.insert(s.memberships).values({ tenantId: initech.id, userId: u.id, role: "tenant-admin" });

    // The IdP drops him from globex and the platform admins, and demotes him in acme.
    idp.people.get("bruno")!.groups = ["acme-devs"];
    const r = await signIn("bruno");
    expect(r.location).toBe("/");
    expect(await membershipsOf(u.id)).toEqual({ [acme.slug]: "tenant-member/sso", [initech.slug]: "tenant-admin/manual" });
    expect((await principalOf(r.anvil.header()))?.platformRole).toBeNull();
    const removed = await db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, u.id), eq(s.auditEvents.action, "member.remove")));
    expect(removed.map((a) => [a.tenantId, a.details?.source])).toEqual([[globex.id, "sso"]]);

    // A platform role set by hand stays, whatever the groups say; the SSO membership goes with its group.
    await db.update(s.users).set({ platformRole: "operator-viewer", platformRoleFromSso: false }).where(eq(s.users.id, u.id));
    idp.people.get("bruno")!.groups = ["platform-admins"];
    const r2 = await signIn("bruno");
    expect((await principalOf(r2.anvil.header()))?.platformRole).toBe("operator-viewer");
    expect(await membershipsOf(u.id)).toEqual({ [initech.slug]: "tenant-admin/manual" });
  });

  it("links an operator-made account with the same address instead of making a second one", async () => {
    const email = `${uniq("carmen")}@idp.test`;
    const id = await createUserWithPassword(db, { email, name: "Carmen", password: "correct horse battery" });
    person("carmen", ["globex-devs"], email);
    const r = await signIn("carmen");
    expect(r.location).toBe("/");
    expect((await principalOf(r.anvil.header()))?.userId).toBe(id);
    expect(await membershipsOf(id)).toEqual({ [globex.slug]: "tenant-member/sso" });
    expect((await db.select().from(s.users).where(eq(s.users.email, email))).length).toBe(1);
  });

  it("refuses a disabled Anvil user, with the reason on the login page and no session", async () => {
    const email = person("dora", ["acme-devs"]);
    await signIn("dora");
    const u = (await userByEmail(email))!;
    await db.update(s.users).set({ disabled: true }).where(eq(s.users.id, u.id));
    await db.delete(s.sessions).where(eq(s.sessions.userId, u.id));
    const r = await signIn("dora");
    const to = new URL(r.location, origin);
    expect(to.pathname).toBe("/login");
    expect(to.searchParams.get("error")).toBe("account_disabled");
    expect(to.searchParams.get("error_description")).toMatch(/disabled/);
    expect(r.anvil.has(/session_token$/)).toBe(false);
    expect(await db.select().from(s.sessions).where(eq(s.sessions.userId, u.id))).toEqual([]);
  });

  it("makes no account for someone whose groups give no access", async () => {
    const email = person("eve", ["unrelated"]);
    const r = await signIn("eve");
    const to = new URL(r.location, origin);
    expect(to.pathname).toBe("/login");
    expect(to.searchParams.get("error")).toBe("no_access");
    expect(await userByEmail(email)).toBeUndefined();
  });
});
