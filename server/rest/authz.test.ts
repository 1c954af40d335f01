// Authorization is identical on both transports: every REST route runs, for every kind of caller (by API token with
// that caller's full scope), the input of its procedure's row in test/authz-table.ts, and must answer the HTTP
// status of that row's expected outcome. A route whose procedure has no row fails; every response is validated
// against the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authzTable, type Outcome } from "@/test/authz-table";
import { startEngine, stopEngine } from "@/server/workflows/engine";
import { workflows } from "@/server/workflows/registry";
import { useTestDb } from "@/test/db";
import { type Fixtures, makeFixtures, type Role, roles } from "@/test/fixtures";
import { routeInput } from "./openapi";
import { pathParams, restRoutes } from "./routes";
import { ResponseValidator, serveApi, tokensFor } from "@/test/rest-kit";

/** Procedures that refuse API tokens by design (a leaked token must not plant an SSH key): FORBIDDEN for every
 *  signed-in caller here, since this matrix authenticates with tokens. */
const TOKENS_REFUSED = new Set(["sshKeys.add", "sshKeys.delete"]);
const STATUS: Record<Exclude<Outcome, "ok">, number> = { UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_REQUEST: 400, PRECONDITION_FAILED: 412 };

describe("REST authorization = tRPC authorization", () => {
  let fx: Fixtures;
  let api: Awaited<ReturnType<typeof serveApi>>;
  let tokens: Record<Role, string | null>;
  const validator = new ResponseValidator();

  beforeAll(async () => {
    fx = await makeFixtures(useTestDb());
    await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: "rest-authz-test", schedules: false });
    api = await serveApi();
    tokens = await tokensFor(fx);
  });
  afterAll(async () => {
    await api?.close();
    await stopEngine();
  });

  it("every route's procedure has a row in the authz table", () => {
    expect(restRoutes.filter((r) => !authzTable[r.procedure]).map((r) => r.procedure)).toEqual([]);
  });

  for (const route of restRoutes) {
    const row = authzTable[route.procedure];
    if (!row) continue;
    it.each(roles)(`${route.method.toUpperCase()} ${route.path} (${route.procedure}) as %s`, async (role) => {
      const input = ((await row.input(fx, role)) ?? {}) as Record<string, unknown>;
      const { inQuery } = routeInput(route);
      let path = route.path;
      const used = new Set<string>();
      for (const p of pathParams(route.path)) {
        const v = route.wrapIds && p === "id" ? (input.ids as string[])[0] : input[p];
        path = path.replace(`{${p}}`, encodeURIComponent(String(v)));
        used.add(route.wrapIds && p === "id" ? "ids" : p);
      }
      const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !used.has(k)));
      const url = new URL(`${api.url}/api/v1${path}`);
      let body: string | undefined;
      if (inQuery) {
        for (const [k, v] of Object.entries(rest)) if (v !== undefined) url.searchParams.set(k, Array.isArray(v) ? v.join(",") : String(v));
      } else body = JSON.stringify(rest);
      const token = tokens[role];
      const res = await fetch(url, {
        method: route.method.toUpperCase(),
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
        body,
      });
      const text = await res.text();
      const json = text ? JSON.parse(text) : null;
      validator.check(route.method.toUpperCase(), url.pathname, res.status, json);
      const want = TOKENS_REFUSED.has(route.procedure) && role !== "anonymous" ? "FORBIDDEN" : row.expect[role];
      const expected = want === "ok" ? route.status : STATUS[want];
      expect(res.status === expected ? res.status : `${res.status} ${text.slice(0, 300)}`).toBe(expected);
    });
  }

  it("validated every response against the OpenAPI document", () => {
    expect(validator.checked).toBeGreaterThanOrEqual(restRoutes.length * roles.length);
  });
});
