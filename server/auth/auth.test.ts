// Sign-in through better-auth's real HTTP handler against Postgres: cookies, session → principal,
// wrong password, disabled accounts, sign-out, and the login rate limit.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { createUserWithPassword } from "@/db/seed";
import { createContext } from "@/server/api/trpc";
import { CLIENT_IP_HEADER } from "@/server/lib/client-ip";
import { uniq, useTestDb } from "@/test/db";
import { getAuth } from "./auth";

const db = useTestDb();
const origin = "http://localhost:3000";

function signIn(email: string, password: string, ip = "10.9.9.9") {
  return getAuth().handler(
    new Request(`${origin}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin, [CLIENT_IP_HEADER]: ip },
      body: JSON.stringify({ email, password }),
    }),
  );
}

function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

describe("sign-in", () => {
  let email: string;
  beforeAll(async () => {
    email = `${uniq("user")}@test.local`;
    await createUserWithPassword(db, { email, name: "Test Op", password: "correct horse battery", platformRole: "operator-viewer" });
  });

  it("signs in with a secure, httpOnly, sameSite session cookie that resolves to the principal", async () => {
    const res = await signIn(email, "correct horse battery", "10.0.0.1");
    expect(res.status).toBe(200);
    const raw = res.headers.getSetCookie().find((c) => c.includes("session_token"))!;
    expect(raw).toMatch(/HttpOnly/i);
    expect(raw).toMatch(/Secure/i);
    expect(raw).toMatch(/SameSite=Lax/i);
    const ctx = await createContext({ headers: new Headers({ cookie: cookieOf(res) }) });
    expect(ctx.principal?.email).toBe(email);
    expect(ctx.principal?.platformRole).toBe("operator-viewer");
    // The password is stored as a KDF hash, never in clear.
    const [acct] = await db.select().from(s.accounts).innerJoin(s.users, eq(s.users.id, s.accounts.userId)).where(eq(s.users.email, email));
    expect(acct!.accounts.password).not.toContain("correct horse");
    expect(acct!.accounts.password!.length).toBeGreaterThan(40);
  });

  it("refuses a wrong password with 401 and no cookie", async () => {
    const res = await signIn(email, "wrong password!", "10.0.0.2");
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie().filter((c) => c.includes("session_token=") && !c.includes("session_token=;"))).toEqual([]);
  });

  it("signs out: the session no longer resolves", async () => {
    const res = await signIn(email, "correct horse battery", "10.0.0.3");
    const cookie = cookieOf(res);
    const out = await getAuth().handler(
      new Request(`${origin}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin, [CLIENT_IP_HEADER]: "10.0.0.3" } }),
    );
    expect(out.status).toBe(200);
    const ctx = await createContext({ headers: new Headers({ cookie }) });
    expect(ctx.principal).toBeNull();
  });

  it("refuses a disabled account", async () => {
    const e2 = `${uniq("off")}@test.local`;
    await createUserWithPassword(db, { email: e2, name: "Off", password: "correct horse battery" });
    await db.update(s.users).set({ disabled: true }).where(eq(s.users.email, e2));
    const res = await signIn(e2, "correct horse battery", "10.0.0.4");
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/disabled/);
  });

  it("rate-limits sign-in attempts per client address", async () => {
    const max = Number(process.env.ANVIL_LOGIN_RATE_MAX ?? 10);
    const statuses: number[] = [];
    // Each guess names another account, so only the per-address limit is at work (per account: guards.test.ts).
    for (let i = 0; i < max + 2; i++) statuses.push((await signIn(`${uniq("guess")}@test.local`, "wrong password!", "10.0.0.99")).status);
    expect(statuses.slice(0, max).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(max)).toEqual([429, 429]);
    // Another address is not affected.
    expect((await signIn(email, "correct horse battery", "10.0.0.100")).status).toBe(200);
  });
});
