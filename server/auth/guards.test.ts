// Sign-in and account rules over real HTTP (the front door in front of better-auth's real handler, test/http-app.ts):
// the client address behind a trusted proxy (X-Forwarded-For right to left) and without one (socket address,
// X-Forwarded-For ignored), failed sign-ins per account, a password change ending the other sessions, and the
// display-name rule on better-auth's own update-user endpoint and adapter writes, a refused request logged as one
// info line (no error, no stack).
import http from "node:http";
import { eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as s from "@/db/schema";
import { createUserWithPassword } from "@/db/seed";
import { createContext } from "@/server/api/trpc";
import { uniq, useTestDb } from "@/test/db";
import { logger } from "@/server/lib/log";
import { type AppServer, startAppServer } from "@/test/http-app";
import { getAuth } from "./auth";
import { accountFailureMax } from "./guards";

const db = useTestDb();
const origin = "http://localhost:3000";
const PASSWORD = "correct horse battery";
const ipMax = Number(process.env.ANVIL_LOGIN_RATE_MAX ?? 10);

interface Reply {
  status: number;
  json: Record<string, unknown> & { code?: string; message?: string };
  headers: http.IncomingHttpHeaders;
  cookie: string;
}

/** One JSON request to the app server, optionally from a given loopback address and with X-Forwarded-For. */
function call(app: AppServer, path: string, o: { body?: unknown; cookie?: string; xff?: string; from?: string; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers: Record<string, string> = { origin };
    if (payload !== undefined) headers["content-type"] = "application/json";
    if (o.cookie) headers.cookie = o.cookie;
    if (o.xff) headers["x-forwarded-for"] = o.xff;
    const req = http.request({ host: "127.0.0.1", port: app.port, path, method: o.method ?? "POST", headers, localAddress: o.from }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => {
        const cookie = (res.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
        resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : {}, headers: res.headers, cookie });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const octet = () => 1 + Math.floor(Math.random() * 250);
const signIn = (app: AppServer, email: string, password: string, o: { xff?: string; from?: string } = {}) =>
  call(app, "/api/auth/sign-in/email", { body: { email, password }, ...o });
const stranger = () => `${uniq("nobody")}@test.local`;

let proxied: AppServer; // behind a trusted proxy (the test client on 127.0.0.1 plays it)
let direct: AppServer; // no trusted proxies configured

beforeAll(async () => {
  proxied = await startAppServer({ trustedProxies: "127.0.0.1/32" });
  direct = await startAppServer({ trustedProxies: "" });
});
afterAll(async () => {
  await Promise.all([proxied.close(), direct.close()]);
});

describe("client address for the sign-in rate limit", () => {
  it("behind a trusted proxy: each client has its own bucket, whatever it writes into X-Forwarded-For", async () => {
    const client = `198.51.100.${octet()}`;
    for (let i = 0; i < ipMax; i++) {
      // The client writes a different address each time; the proxy appends the real one.
      const r = await signIn(proxied, stranger(), "wrong password!", { xff: `203.0.113.${i + 1}, ${client}` });
      expect(r.status).toBe(401);
    }
    expect((await signIn(proxied, stranger(), "wrong password!", { xff: `10.1.2.3, ${client}` })).status).toBe(429);
    // Another client behind the same proxy is not affected (before: one bucket for everyone behind the proxy).
    expect((await signIn(proxied, stranger(), "wrong password!", { xff: `198.51.100.${octet()}` })).status).not.toBe(429);
  });

  it("without a trusted proxy list, X-Forwarded-For is ignored: the socket address is the client", async () => {
    const from = `127.0.${octet()}.${octet()}`;
    for (let i = 0; i < ipMax; i++) expect((await signIn(direct, stranger(), "wrong password!", { from, xff: `192.0.2.${i + 1}` })).status).toBe(401);
    expect((await signIn(direct, stranger(), "wrong password!", { from, xff: "192.0.2.200" })).status).toBe(429);
    // Another socket address has its own bucket.
    expect((await signIn(direct, stranger(), "wrong password!", { from: `127.0.${octet()}.${octet()}` })).status).toBe(401);
  });
});

describe("failed sign-ins per account", () => {
  it("locks an account after the limit, from every address, and says for how long", async () => {
    const email = `${uniq("target")}@test.local`;
    await createUserWithPassword(db, { email, name: "Target", password: PASSWORD });
    const max = accountFailureMax();
    // Spread over many addresses, as an attacker would: the per-address limit never triggers.
    for (let i = 0; i < max; i++)
      expect((await signIn(proxied, email.toUpperCase(), "wrong password!", { xff: `198.18.${octet()}.${octet()}` })).status).toBe(401);
    const locked = await signIn(proxied, email, PASSWORD, { xff: `198.19.${octet()}.${octet()}` });
    expect(locked.status).toBe(429);
    expect(locked.json.code).toBe("ACCOUNT_SIGN_IN_LOCKED");
    expect(locked.json.message).toMatch(/Too many failed sign-ins for this account\. Try again in 15 minutes/);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(14 * 60);
    expect(locked.cookie).toBe("");
    // Other accounts sign in as usual.
    const other = `${uniq("bystander")}@test.local`;
    await createUserWithPassword(db, { email: other, name: "Bystander", password: PASSWORD });
    expect((await signIn(proxied, other, PASSWORD, { xff: `198.19.${octet()}.${octet()}` })).status).toBe(200);
  });

  it("a successful sign-in clears the count", async () => {
    const email = `${uniq("forgetful")}@test.local`;
    await createUserWithPassword(db, { email, name: "Forgetful", password: PASSWORD });
    const max = accountFailureMax();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < max - 1; i++) expect((await signIn(proxied, email, "wrong password!", { xff: `198.18.${octet()}.${octet()}` })).status).toBe(401);
      expect((await signIn(proxied, email, PASSWORD, { xff: `198.18.${octet()}.${octet()}` })).status).toBe(200);
    }
    const rows = await db
      .select()
      .from(s.rateLimits)
      .where(like(s.rateLimits.key, `sign-in-failures:${email}`));
    expect(rows).toEqual([]);
  });
});

describe("account changes through better-auth's own endpoints", () => {
  let email: string;
  const xff = () => `198.20.${octet()}.${octet()}`;
  const principalOf = async (cookie: string) => (await createContext({ headers: new Headers({ cookie }) })).principal;

  beforeAll(async () => {
    email = `${uniq("changer")}@test.local`;
    await createUserWithPassword(db, { email, name: "Changer", password: PASSWORD });
  });

  it("a password change ends every other session, even when the client asks to keep them", async () => {
    const laptop = await signIn(proxied, email, PASSWORD, { xff: xff() });
    const phone = await signIn(proxied, email, PASSWORD, { xff: xff() });
    expect((await principalOf(phone.cookie))?.email).toBe(email);
    const changed = await call(proxied, "/api/auth/change-password", {
      cookie: laptop.cookie,
      xff: xff(),
      body: { currentPassword: PASSWORD, newPassword: "a new horse battery", revokeOtherSessions: false },
    });
    expect(changed.status).toBe(200);
    expect(await principalOf(phone.cookie)).toBeNull();
    // The session that made the change continues, under the new cookie it was given.
    expect((await principalOf(changed.cookie))?.email).toBe(email);
    expect((await signIn(proxied, email, "a new horse battery", { xff: xff() })).status).toBe(200);
  });

  it("update-user keeps the display-name rule: a 900 KB name and a blank one are refused, a name is trimmed", async () => {
    const session = await signIn(proxied, email, "a new horse battery", { xff: xff() });
    const [before] = await db.select({ name: s.users.name }).from(s.users).where(eq(s.users.email, email));
    const huge = await call(proxied, "/api/auth/update-user", { cookie: session.cookie, xff: xff(), body: { name: "x".repeat(900_000) } });
    expect(huge.status).toBe(400);
    expect(huge.json.message).toBe("Invalid input: name: At most 100 characters");
    const blank = await call(proxied, "/api/auth/update-user", { cookie: session.cookie, xff: xff(), body: { name: "   " } });
    expect(blank.status).toBe(400);
    const [unchanged] = await db.select({ name: s.users.name }).from(s.users).where(eq(s.users.email, email));
    expect(unchanged).toEqual(before);
    const ok = await call(proxied, "/api/auth/update-user", { cookie: session.cookie, xff: xff(), body: { name: "  Ada Lovelace " } });
    expect(ok.status).toBe(200);
    const [after] = await db.select({ name: s.users.name }).from(s.users).where(eq(s.users.email, email));
    expect(after!.name).toBe("Ada Lovelace");
    const image = await call(proxied, "/api/auth/update-user", { cookie: session.cookie, xff: xff(), body: { image: `https://x.test/${"y".repeat(5000)}` } });
    expect(image.status).toBe(400);
  });

  it("any write of a user through better-auth's adapter keeps the rule too", async () => {
    const [u] = await db.select({ id: s.users.id }).from(s.users).where(eq(s.users.email, email));
    const ctx = await getAuth().$context;
    await expect(ctx.internalAdapter.updateUser(u!.id, { name: "y".repeat(101) })).rejects.toThrow(/At most 100 characters/);
    const [after] = await db.select({ name: s.users.name }).from(s.users).where(eq(s.users.email, email));
    expect(after!.name).not.toMatch(/^y+$/);
  });
});

describe("logging of refused auth requests", () => {
  it("logs a client's malformed request as one info line, not as an error", async () => {
    const errors = vi.spyOn(logger, "error");
    const infos = vi.spyOn(logger, "info");
    const consoleErrors = vi.spyOn(console, "error");
    try {
      const res = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port: proxied.port,
            path: "/api/auth/sign-in/email",
            method: "POST",
            headers: { origin, "content-type": "application/json", "x-forwarded-for": `198.21.${octet()}.${octet()}` },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode!);
          },
        );
        req.on("error", reject);
        req.end("{not json");
      });
      expect(res).toBe(400);
      expect(errors).not.toHaveBeenCalled();
      expect(consoleErrors).not.toHaveBeenCalled();
      expect(infos).toHaveBeenCalledWith(expect.objectContaining({ status: 400, reason: "Invalid JSON in request body" }), "auth request refused");
    } finally {
      vi.restoreAllMocks();
    }
  });
});
