// Sign-in and sessions through better-auth (email + password, scrypt hashes, sessions in Postgres,
// login rate limiting in Postgres). Sign-up is closed: operators create users.
import "server-only";
import { APIError, betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { eq } from "drizzle-orm";
import { getDb } from "@/db/client";
import * as schema from "@/db/schema";
import { CLIENT_IP_HEADER } from "@/server/lib/client-ip";
import { derivedKey } from "@/server/lib/secrets";
import { twoFactor } from "better-auth/plugins";
import { ssoPlugins } from "./sso";
import { afterHook, beforeHook, checkedUserData, logAuthError } from "./guards";

function build() {
  const baseURL = process.env.ANVIL_URL ?? "http://localhost:3000";
  return betterAuth({
    appName: "Anvil",
    logger: { level: process.env.NODE_ENV === "test" ? "error" : "warn" },
    baseURL,
    secret: derivedKey("auth").toString("hex"),
    database: drizzleAdapter(getDb(), {
      provider: "pg",
      schema: {
        user: schema.users,
        session: schema.sessions,
        account: schema.accounts,
        verification: schema.verifications,
        rateLimit: schema.rateLimits,
        twoFactor: schema.twoFactors,
      },
    }),
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 8, maxPasswordLength: 256, revokeSessionsOnPasswordReset: true },
    // Per-account sign-in failures, other sessions ended on a password change, the name rule (server/auth/guards.ts).
    hooks: { before: beforeHook, after: afterHook },
    onAPIError: { onError: logAuthError },
    user: {
      additionalFields: {
        platformRole: { type: "string", required: false, input: false },
        disabled: { type: "boolean", required: false, input: false, defaultValue: false },
      },
    },
    session: {
      expiresIn: 60 * 60 * 12,
      updateAge: 60 * 60,
      additionalFields: { activeTenantId: { type: "string", required: false, input: false } },
    },
    rateLimit: {
      enabled: true,
      storage: "database",
      window: 60,
      max: 300,
      customRules: {
        "/sign-in/email": { window: 60, max: Number(process.env.ANVIL_LOGIN_RATE_MAX ?? 10) },
        // Guessing the current password with a stolen session is as slow as guessing it at sign-in.
        "/change-password": { window: 60, max: Number(process.env.ANVIL_LOGIN_RATE_MAX ?? 10) },
        // Two-factor setup and codes per address like sign-in (the plugin's own 3 per 10 s trips a person who mistypes
        // once); guessing codes is bounded anyway: 5 tries per sign-in, then the account locks for 15 min after 10.
        "/two-factor/*": { window: 60, max: Number(process.env.ANVIL_LOGIN_RATE_MAX ?? 10) },
      },
    },
    // TOTP second factor for password sign-in (enable with the password, verify a code to finish, backup codes);
    // single sign-on with an OpenID Connect provider when ANVIL_OIDC_ISSUER is set (server/auth/sso.ts).
    plugins: [twoFactor({ issuer: "Anvil" }), ...ssoPlugins()],
    advanced: {
      // Browsers treat http://localhost as a secure context, so Secure cookies work in development too.
      useSecureCookies: process.env.ANVIL_INSECURE_COOKIES !== "1",
      cookiePrefix: "anvil",
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure: process.env.ANVIL_INSECURE_COOKIES !== "1" },
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      database: { generateId: () => crypto.randomUUID() },
    },
    trustedOrigins: (process.env.ANVIL_TRUSTED_ORIGINS ?? "").split(",").filter(Boolean).concat([baseURL]),
    databaseHooks: {
      user: {
        create: { before: async (user) => ({ data: checkedUserData(user) }) },
        update: { before: async (user) => ({ data: checkedUserData(user) }) },
      },
      session: {
        create: {
          before: async (session) => {
            const [u] = await getDb().select({ disabled: schema.users.disabled }).from(schema.users).where(eq(schema.users.id, session.userId));
            if (u?.disabled) throw new APIError("FORBIDDEN", { message: "This account is disabled. Ask an operator to enable it." });
            return { data: session };
          },
        },
      },
    },
  });
}

type Auth = ReturnType<typeof build>;
const g = globalThis as unknown as { __anvilAuth?: Auth };

export function getAuth(): Auth {
  g.__anvilAuth ??= build();
  return g.__anvilAuth;
}
