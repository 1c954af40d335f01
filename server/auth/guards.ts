// Rules better-auth's own endpoints must keep, enforced server-side in its hooks (server/auth/auth.ts), whatever a
// client sends:
//   - failed sign-ins per account: after ANVIL_LOGIN_ACCOUNT_MAX (10) failures for one e-mail within 15 minutes,
//     sign-in for it is refused (429) until 15 minutes after the last failure — from every address, since an
//     attacker spreads guesses over many. Counted for any e-mail, known or not, so the answer tells nothing. A
//     success clears the count. Stored in rate_limits beside better-auth's per-address counters.
//   - a password change ends the user's other sessions (revokeOtherSessions forced on);
//   - a user's name follows the app's display-name rule (db/validation/tenancy.ts) on every path that sets it;
//   - a refused request (4xx: bad JSON, a wrong field) is one info line in our log, not an error; a 5xx keeps its stack.
import "server-only";
import { APIError } from "better-auth";
import { createAuthMiddleware, isAPIError } from "better-auth/api";
import { eq, sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { rateLimits } from "@/db/schema";
import { displayNameRule } from "@/db/validation/tenancy";
import { logger } from "@/server/lib/log";

export const ACCOUNT_WINDOW_MS = 15 * 60 * 1000;
const IMAGE_MAX = 2048;

export function accountFailureMax(): number {
  const v = Number(process.env.ANVIL_LOGIN_ACCOUNT_MAX);
  return Number.isSafeInteger(v) && v > 0 ? v : 10;
}

const failureKey = (email: string) => `sign-in-failures:${email.trim().toLowerCase()}`;

function bodyOf(ctx: { body?: unknown }): Record<string, unknown> | null {
  return ctx.body && typeof ctx.body === "object" && !Array.isArray(ctx.body) ? (ctx.body as Record<string, unknown>) : null;
}

async function refuseIfLocked(email: string) {
  const [row] = await getDb()
    .select()
    .from(rateLimits)
    .where(eq(rateLimits.key, failureKey(email)));
  if (!row) return;
  const left = row.lastRequest + ACCOUNT_WINDOW_MS - Date.now();
  if (row.count >= accountFailureMax() && left > 0) {
    const minutes = Math.ceil(left / 60_000);
    throw new APIError(
      "TOO_MANY_REQUESTS",
      {
        message: `Too many failed sign-ins for this account. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}, or ask an operator.`,
        code: "ACCOUNT_SIGN_IN_LOCKED",
      },
      { "retry-after": String(Math.ceil(left / 1000)) },
    );
  }
}

async function recordFailure(email: string) {
  const now = Date.now();
  await getDb()
    .insert(rateLimits)
    .values({ id: crypto.randomUUID(), key: failureKey(email), count: 1, lastRequest: now })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`case when ${rateLimits.lastRequest} < ${now - ACCOUNT_WINDOW_MS} then 1 else ${rateLimits.count} + 1 end`,
        lastRequest: now,
      },
    });
}

async function clearFailures(email: string) {
  await getDb()
    .delete(rateLimits)
    .where(eq(rateLimits.key, failureKey(email)));
}

/** The display-name rule, as better-auth reports a refusal (400 naming the field). */
export function checkedName(name: unknown): string {
  const r = displayNameRule.safeParse(name);
  if (!r.success)
    throw new APIError("BAD_REQUEST", { message: `Invalid input: name: ${r.error.issues.map((i) => i.message).join(", ")}`, code: "INVALID_NAME" });
  return r.data;
}

function checkedImage(image: unknown): unknown {
  if (image === undefined || image === null) return image;
  if (typeof image !== "string" || image.length > IMAGE_MAX)
    throw new APIError("BAD_REQUEST", { message: `Invalid input: image: a URL of at most ${IMAGE_MAX} characters`, code: "INVALID_IMAGE" });
  return image;
}

/** Checks a user row about to be written by better-auth (databaseHooks: create and update). */
export function checkedUserData<T extends Record<string, unknown>>(data: T): T {
  const out: Record<string, unknown> = { ...data };
  if ("name" in data && data.name !== undefined) out.name = checkedName(data.name);
  if ("image" in data) out.image = checkedImage(data.image);
  return out as T;
}

export const beforeHook = createAuthMiddleware(async (ctx) => {
  const body = bodyOf(ctx);
  if (ctx.path === "/sign-in/email") {
    if (typeof body?.email === "string") await refuseIfLocked(body.email);
    return;
  }
  if (ctx.path === "/change-password" && body) {
    // Whoever changes a password may be locking out someone who stole it: every other session ends.
    return { context: { body: { ...body, revokeOtherSessions: true } } };
  }
  if (ctx.path === "/update-user" && body) {
    const next: Record<string, unknown> = { ...body };
    if ("name" in body) next.name = checkedName(body.name);
    if ("image" in body) next.image = checkedImage(body.image);
    return { context: { body: next } };
  }
});

export const afterHook = createAuthMiddleware(async (ctx) => {
  if (ctx.path !== "/sign-in/email") return;
  const email = bodyOf(ctx)?.email;
  if (typeof email !== "string") return;
  const returned = ctx.context.returned;
  if (isAPIError(returned)) {
    if (returned.statusCode === 401) await recordFailure(email);
  } else if (returned !== undefined) {
    await clearFailures(email);
  }
});

/** better-auth's onAPIError.onError: errors that escape an endpoint (its body parser's, for one). */
export function logAuthError(e: unknown) {
  const status = isAPIError(e) ? e.statusCode : 500;
  if (status < 500)
    logger.info({ status, code: (e as { body?: { code?: string } }).body?.code, reason: (e as Error).message.slice(0, 300) }, "auth request refused");
  else logger.error({ err: e }, "auth request failed");
}
