// Changing one's password and TOTP two-factor, through better-auth's real HTTP handler against Postgres, with real
// TOTP codes computed here (RFC 6238: HMAC-SHA1 over the 30-second counter, dynamic truncation, 6 digits):
// enabling needs the password and shows an otpauth URI + backup codes; it takes effect only once a code is verified;
// sign-in then asks for a code (a wrong one refused, a right one or a backup code — once — gives the session);
// disabling needs the password. A password change needs the current password and ends the other sessions.
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { createUserWithPassword } from "@/db/seed";
import { createContext } from "@/server/api/trpc";
import { CLIENT_IP_HEADER } from "@/server/lib/client-ip";
import { uniq, useTestDb } from "@/test/db";
import { CookieJar } from "@/test/oidc-flow";
import { getAuth } from "./auth";

const db = useTestDb();
const origin = "http://localhost:3000";
const PASSWORD = "correct horse battery";

function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) for a base32 secret, at time `at` (ms). */
function totp(secretBase32: string, at = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const h = createHmac("sha1", base32Decode(secretBase32)).update(counter).digest();
  const o = h[h.length - 1]! & 0x0f;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** A code that is certainly wrong now (half the code space away from the right one). */
const otherThan = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, "0");

let ip = 1;
/** One POST to better-auth as a browser (its own cookie jar), from a fresh client address (per-address limits). */
async function post(jar: CookieJar, path: string, body: unknown, from?: string) {
  const res = await getAuth().handler(
    new Request(`${origin}/api/auth${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin,
        cookie: jar.header(),
        [CLIENT_IP_HEADER]: from ?? `10.88.${Math.floor(ip / 250)}.${(ip++ % 250) + 1}`,
      },
      body: JSON.stringify(body),
    }),
  );
  jar.take(res);
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const signedInAs = async (jar: CookieJar) => (await createContext({ headers: new Headers({ cookie: jar.header() }) })).principal;
const hasSession = (jar: CookieJar) => jar.has(/session_token$/);

async function browserSignedIn(email: string, password = PASSWORD) {
  const jar = new CookieJar();
  const r = await post(jar, "/sign-in/email", { email, password });
  return { jar, ...r };
}

describe("TOTP two-factor", () => {
  let email: string;
  let userId: string;
  let secret: string;
  let backupCodes: string[];
  beforeAll(async () => {
    email = `${uniq("totp")}@test.local`;
    userId = await createUserWithPassword(db, { email, name: "Two Factor", password: PASSWORD });
  });

  it("is enabled with the password, and takes effect only once a code from the authenticator is verified", async () => {
    const { jar } = await browserSignedIn(email);
    expect((await post(jar, "/two-factor/enable", { password: "not my password" })).status).toBe(400);

    const en = await post(jar, "/two-factor/enable", { password: PASSWORD });
    expect(en.status).toBe(200);
    const uri = new URL(en.json.totpURI as string);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe(`/Anvil:${email}`);
    secret = uri.searchParams.get("secret")!;
    backupCodes = en.json.backupCodes as string[];
    expect(backupCodes.length).toBeGreaterThanOrEqual(8);
    // Stored encrypted: neither the secret nor a backup code is in the row.
    const [row] = await db.select().from(s.twoFactors).where(eq(s.twoFactors.userId, userId));
    expect(row!.verified).toBe(false);
    expect(row!.secret).not.toContain(secret);
    for (const c of backupCodes) expect(row!.backupCodes).not.toContain(c);

    // Not yet in force: a password alone still signs in.
    expect(hasSession((await browserSignedIn(email)).jar)).toBe(true);

    expect((await post(jar, "/two-factor/verify-totp", { code: otherThan(totp(secret)) })).status).toBe(401);
    const ok = await post(jar, "/two-factor/verify-totp", { code: totp(secret) });
    expect(ok.status).toBe(200);
    expect((await db.select().from(s.users).where(eq(s.users.id, userId)))[0]!.twoFactorEnabled).toBe(true);
    expect((await signedInAs(jar))?.userId).toBe(userId);
  });

  it("then asks for a code at sign-in: no session for the password alone, a wrong code refused, the right one signs in", async () => {
    const b = await browserSignedIn(email);
    expect(b.status).toBe(200);
    expect(b.json.twoFactorRedirect).toBe(true);
    expect(hasSession(b.jar)).toBe(false);
    expect(await signedInAs(b.jar)).toBeNull();

    const bad = await post(b.jar, "/two-factor/verify-totp", { code: otherThan(totp(secret)) });
    expect(bad.status).toBe(401);
    expect(hasSession(b.jar)).toBe(false);

    const good = await post(b.jar, "/two-factor/verify-totp", { code: totp(secret) });
    expect(good.status).toBe(200);
    expect((await signedInAs(b.jar))?.userId).toBe(userId);
  });

  it("lets a person mistype a few codes in a row without being throttled", async () => {
    const jar = new CookieJar();
    const from = "10.89.0.1";
    expect((await post(jar, "/sign-in/email", { email, password: PASSWORD }, from)).json.twoFactorRedirect).toBe(true);
    for (let i = 0; i < 3; i++) expect((await post(jar, "/two-factor/verify-totp", { code: otherThan(totp(secret)) }, from)).status).toBe(401);
    expect((await post(jar, "/two-factor/verify-totp", { code: totp(secret) }, from)).status).toBe(200);
    expect((await signedInAs(jar))?.userId).toBe(userId);
  });

  it("accepts a backup code instead, once", async () => {
    const b = await browserSignedIn(email);
    expect((await post(b.jar, "/two-factor/verify-backup-code", { code: backupCodes[0] })).status).toBe(200);
    expect((await signedInAs(b.jar))?.userId).toBe(userId);
    const again = await browserSignedIn(email);
    expect((await post(again.jar, "/two-factor/verify-backup-code", { code: backupCodes[0] })).status).toBe(401);
    expect(hasSession(again.jar)).toBe(false);
  });

  it("is disabled with the password only; sign-in then needs the password alone", async () => {
    const b = await browserSignedIn(email);
    await post(b.jar, "/two-factor/verify-totp", { code: totp(secret) });
    expect((await post(b.jar, "/two-factor/disable", { password: "not my password" })).status).toBe(400);
    expect((await post(b.jar, "/two-factor/disable", { password: PASSWORD })).status).toBe(200);
    expect((await db.select().from(s.users).where(eq(s.users.id, userId)))[0]!.twoFactorEnabled).toBe(false);
    expect(await db.select().from(s.twoFactors).where(eq(s.twoFactors.userId, userId))).toEqual([]);
    expect(hasSession((await browserSignedIn(email)).jar)).toBe(true);
  });

  it("the RFC 6238 reference vector holds for the code computed here", () => {
    // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) → the 6-digit code is its last six.
    // The RFC's key is the ASCII "12345678901234567890", base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
    expect(totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59_000)).toBe("287082");
  });
});

describe("changing one's password", () => {
  it("needs the current password, and ends every other session", async () => {
    const email = `${uniq("chpw")}@test.local`;
    const userId = await createUserWithPassword(db, { email, name: "Changer", password: PASSWORD });
    const laptop = (await browserSignedIn(email)).jar;
    const phone = (await browserSignedIn(email)).jar;
    expect((await signedInAs(phone))?.userId).toBe(userId);

    const wrong = await post(laptop, "/change-password", { currentPassword: "not my password", newPassword: "a brand new passphrase" });
    expect(wrong.status).toBe(400);
    expect((await signedInAs(phone))?.userId).toBe(userId);

    const ok = await post(laptop, "/change-password", { currentPassword: PASSWORD, newPassword: "a brand new passphrase" });
    expect(ok.status).toBe(200);
    expect((await signedInAs(laptop))?.userId).toBe(userId);
    expect(await signedInAs(phone)).toBeNull();
    expect((await db.select().from(s.sessions).where(eq(s.sessions.userId, userId))).length).toBe(1);

    expect((await browserSignedIn(email, PASSWORD)).status).toBe(401);
    expect(hasSession((await browserSignedIn(email, "a brand new passphrase")).jar)).toBe(true);
  });
});
