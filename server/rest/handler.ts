// The REST API v1 request handler (fetch-style Request → Response), served by app/api/v1/[...path]/route.ts. Matches
// the route (./routes.ts), assembles the procedure's input from path, query string and JSON body, and calls the tRPC
// procedure through a server-side caller with the same context a browser call gets (API token or session cookie):
// the same authorization, validation, messages and audit. Errors are RFC 9457 problem details with the message the
// UI would show. Creates honour an Idempotency-Key (api_idempotency_keys).
import { createHash } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { and, eq, sql } from "drizzle-orm";
import { ZodError } from "zod";
import { getDb } from "@/db/client";
import { apiIdempotencyKeys } from "@/db/schema";
import { isFieldErrorCause, logTrpcError, toTrpcError } from "@/server/api/errors";
import { createCaller } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { openApiDocument, routeInput } from "./openapi";
import { matchRoute, type RestRoute } from "./routes";

export const API_PREFIX = "/api/v1";
const MAX_BODY = 1024 * 1024;
const IDEMPOTENCY_TTL = "24 hours";

type Json = Record<string, unknown>;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } });
}

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict",
  412: "Precondition failed",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable content",
  429: "Too many requests",
  500: "Internal server error",
};

export function problem(status: number, code: string, detail: string, instance?: string, extra: Json = {}): Response {
  return new Response(
    JSON.stringify({
      type: `https://anvil.dev/problems/${code.toLowerCase().replace(/_/g, "-")}`,
      title: TITLES[status] ?? "Error",
      status,
      detail,
      code,
      ...(instance ? { instance } : {}),
      ...extra,
    }),
    { status, headers: { "content-type": "application/problem+json", "cache-control": "no-store" } },
  );
}

/** A thrown error → the problem a person can act on (the same words the tRPC errorFormatter gives the UI). */
function problemOf(e: unknown, instance: string, procedure: string): Response {
  const err = e instanceof TRPCError ? e : (toTrpcError(e) ?? new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: e }));
  const status = getHTTPStatusCodeFromError(err);
  let fieldErrors: Record<string, string[]> | undefined;
  let detail = err.message;
  if (err.cause instanceof ZodError) {
    fieldErrors = {};
    for (const issue of err.cause.issues) {
      const key = issue.path.join(".") || "_";
      fieldErrors[key] = [...(fieldErrors[key] ?? []), issue.message];
    }
    detail = `Invalid input: ${Object.entries(fieldErrors)
      .map(([k, v]) => `${k}: ${v.join(", ")}`)
      .join("; ")}`;
  } else if (isFieldErrorCause(err.cause)) {
    fieldErrors = { [err.cause.field]: [err.cause.message] };
  }
  if (status >= 500) {
    logTrpcError(err, procedure);
    detail = "Something went wrong on the server; it has been logged.";
  }
  return problem(status, err.code, detail, instance, fieldErrors ? { fieldErrors } : {});
}

/** Query strings are text: turn each value into what the procedure's input schema expects (number, boolean, list). */
function coerceQuery(value: string[], schema: Json | undefined): unknown {
  const types = new Set<string>();
  const collect = (s: Json | undefined) => {
    if (!s) return;
    if (typeof s.type === "string") types.add(s.type);
    for (const alt of (s.anyOf as Json[] | undefined) ?? []) collect(alt);
  };
  collect(schema);
  if (types.has("array")) return value.flatMap((v) => v.split(",")).filter((v) => v !== "");
  const v = value[value.length - 1]!;
  if ((types.has("integer") || types.has("number")) && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (types.has("boolean") && (v === "true" || v === "false")) return v === "true";
  return v;
}

async function readBody(req: Request): Promise<{ ok: true; body: Json } | { ok: false; res: Response }> {
  const type = req.headers.get("content-type") ?? "";
  const raw = await req.text().catch(() => null);
  if (raw === null) return { ok: false, res: problem(400, "BAD_REQUEST", "The request body could not be read") };
  if (raw.length > MAX_BODY) return { ok: false, res: problem(413, "PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY} bytes`) };
  if (raw.trim() === "") return { ok: true, body: {} };
  if (!/^application\/(json|[\w.+-]+\+json)\b/i.test(type))
    return { ok: false, res: problem(415, "UNSUPPORTED_MEDIA_TYPE", "Send the request body as JSON (Content-Type: application/json)") };
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
      return { ok: false, res: problem(400, "BAD_REQUEST", "The request body must be a JSON object") };
    return { ok: true, body: parsed as Json };
  } catch {
    return { ok: false, res: problem(400, "BAD_REQUEST", "The request body is not valid JSON") };
  }
}

/** The procedure's input for this request: path parameters, then the query string or the JSON body. */
function assembleInput(route: RestRoute, params: Record<string, string>, url: URL, body: Json): Json {
  const { rest, inQuery } = routeInput(route);
  const input: Json = {};
  if (inQuery) {
    for (const name of new Set(url.searchParams.keys())) input[name] = coerceQuery(url.searchParams.getAll(name), rest[name]);
  } else Object.assign(input, body);
  for (const [k, v] of Object.entries(params)) {
    if (route.wrapIds && k === "id") input.ids = [v];
    else input[route.rename?.[k] ?? k] = v;
  }
  return input;
}

function callProcedure(caller: unknown, procedure: string, input: Json): Promise<unknown> {
  let fn: unknown = caller;
  for (const part of procedure.split(".")) fn = (fn as Record<string, unknown>)[part];
  return (fn as (i: Json) => Promise<unknown>)(input);
}

/** What the route answers on success: the procedure's result, shaped for REST where it differs. */
function shape(
  route: RestRoute,
  result: unknown,
  params: Record<string, string>,
  origin: string,
): { status: number; body: unknown; headers: Record<string, string> } {
  if (route.operationId === "getInstanceConsole") {
    const u = new URL(origin);
    const ws = `${u.protocol === "https:" ? "wss" : "ws"}://${u.host}/api/console/instance/${encodeURIComponent(params.id!)}`;
    return { status: 200, body: { url: ws }, headers: {} };
  }
  if (route.status === 202) {
    const r = (result ?? {}) as { id?: string; operationId?: string };
    const opUrl = params.tenant && r.operationId ? `${API_PREFIX}/tenants/${encodeURIComponent(params.tenant)}/operations/${r.operationId}` : "";
    return { status: 202, body: { ...r, operation: opUrl }, headers: opUrl ? { location: opUrl } : {} };
  }
  // A bulk node action given the one node of the path answers with that node's outcome.
  if (route.wrapIds && Array.isArray(result)) return { status: route.status, body: result[0] ?? {}, headers: {} };
  return { status: route.status, body: result ?? {}, headers: {} };
}

function principalKey(ctx: { principal: { userId: string; sessionId: string | null; tokenScope: unknown } | null; headers: Headers }): string | null {
  if (!ctx.principal) return null;
  const bearer = ctx.headers.get("authorization")?.slice(7).trim();
  const tokenId = bearer ? bearer.split("_")[1] : undefined;
  return tokenId ? `token:${tokenId}` : `user:${ctx.principal.userId}`;
}

export async function handleRestRequest(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || "/" : url.pathname;
  const method = req.method.toUpperCase();
  if (method === "GET" && (path === "/openapi.json" || path === "/openapi")) return json(200, openApiDocument(), { "cache-control": "public, max-age=60" });
  const found = matchRoute(method, path);
  if (!found) return problem(404, "NOT_FOUND", `No API route ${method} ${API_PREFIX}${path}; see ${API_PREFIX}/openapi.json`, url.pathname);
  if ("allowed" in found)
    return new Response(
      JSON.stringify({
        type: "about:blank",
        title: "Method not allowed",
        status: 405,
        code: "METHOD_NOT_ALLOWED",
        detail: `${method} is not allowed here; use ${found.allowed.map((m) => m.toUpperCase()).join(", ")}`,
      }),
      {
        status: 405,
        headers: { "content-type": "application/problem+json", allow: found.allowed.map((m) => m.toUpperCase()).join(", ") },
      },
    );
  const { route, params } = found;
  let body: Json = {};
  if (method !== "GET" && method !== "DELETE") {
    const b = await readBody(req);
    if (!b.ok) return b.res;
    body = b.body;
  }
  const input = assembleInput(route, params, url, body);
  const ctx = await createContext({ headers: req.headers });
  if (!ctx.principal) return problem(401, "UNAUTHORIZED", "Sign in to continue: send Authorization: Bearer <API token>.", url.pathname);
  const caller = createCaller(ctx);
  const origin = process.env.ANVIL_URL ?? url.origin;

  // Idempotency: one key, one request, one effect.
  const idemKey = route.idempotent ? req.headers.get("idempotency-key") : null;
  if (idemKey !== null && (idemKey.length < 1 || idemKey.length > 128 || !/^[\x21-\x7e]+$/.test(idemKey)))
    return problem(400, "BAD_REQUEST", "Idempotency-Key must be 1–128 visible ASCII characters", url.pathname);
  const who = principalKey(ctx);
  const requestLine = `${method} ${path}`;
  const requestHash = createHash("sha256").update(JSON.stringify(input)).digest("hex");
  if (idemKey && who) {
    const db = getDb();
    const claimed = await db
      .insert(apiIdempotencyKeys)
      .values({ principal: who, key: idemKey, request: requestLine, requestHash })
      .onConflictDoNothing()
      .returning();
    if (!claimed.length) {
      const [prior] = await db
        .select()
        .from(apiIdempotencyKeys)
        .where(and(eq(apiIdempotencyKeys.principal, who), eq(apiIdempotencyKeys.key, idemKey)));
      if (prior && prior.createdAt.getTime() < Date.now() - 24 * 3600_000) {
        // Expired: the key may be used afresh.
        await db.delete(apiIdempotencyKeys).where(and(eq(apiIdempotencyKeys.principal, who), eq(apiIdempotencyKeys.key, idemKey)));
        return handleRestRequest(new Request(req.url, { method: req.method, headers: req.headers, body: JSON.stringify(body) }));
      }
      if (!prior || prior.request !== requestLine || prior.requestHash !== requestHash)
        return problem(
          422,
          "UNPROCESSABLE_CONTENT",
          "This Idempotency-Key was already used for a different request; use a new key for a new request",
          url.pathname,
        );
      if (prior.status === null) return problem(409, "CONFLICT", "A request with this Idempotency-Key is still being processed; retry shortly", url.pathname);
      return json(prior.status, prior.body, { "idempotent-replayed": "true" });
    }
  }
  let res: { status: number; body: unknown; headers: Record<string, string> };
  try {
    const result = await callProcedure(caller, route.procedure, input);
    res = shape(route, result, params, origin);
  } catch (e) {
    const p = problemOf(e, url.pathname, route.procedure);
    if (idemKey && who) {
      // A refused request did nothing: the key may be used again (after fixing the input).
      await getDb()
        .delete(apiIdempotencyKeys)
        .where(and(eq(apiIdempotencyKeys.principal, who), eq(apiIdempotencyKeys.key, idemKey)));
    }
    return p;
  }
  const bodyJson = JSON.parse(JSON.stringify(res.body)) as unknown;
  if (idemKey && who)
    await getDb()
      .update(apiIdempotencyKeys)
      .set({ status: res.status, body: bodyJson })
      .where(and(eq(apiIdempotencyKeys.principal, who), eq(apiIdempotencyKeys.key, idemKey)));
  return json(res.status, bodyJson, res.headers);
}

/** Housekeeping: forget idempotency keys past their 24 hours. */
export async function sweepIdempotencyKeys(): Promise<number> {
  const r = await getDb()
    .delete(apiIdempotencyKeys)
    .where(sql`${apiIdempotencyKeys.createdAt} < now() - ${IDEMPOTENCY_TTL}::interval`)
    .returning({ key: apiIdempotencyKeys.key });
  return r.length;
}
