// Test kit for the REST API: a real HTTP server carrying the real route module (app/api/v1/[...path]/route.ts), API
// tokens for the fixture users, and the GENERATED client (openapi-fetch over server/rest/client/schema.d.ts) whose
// every response is validated against the OpenAPI document (Ajv, JSON Schema 2020-12) — a response the document
// does not describe fails the test that made it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import createClient from "openapi-fetch";
import * as s from "@/db/schema";
import { newToken } from "@/server/auth/tokens";
import type { Fixtures, Role } from "@/test/fixtures";
import * as route from "@/app/api/v1/[...path]/route";
import type { paths } from "@/server/rest/client/schema";
import { openApiDocument } from "@/server/rest/openapi";
import { matchRoute } from "@/server/rest/routes";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export async function serveApi(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const method = req.method ?? "GET";
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method,
      headers,
      body: method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks),
    });
    const fn = (route as unknown as Record<string, (r: Request) => Promise<Response>>)[method];
    const r = fn ? await fn(request) : new Response(null, { status: 405 });
    res.writeHead(r.status, Object.fromEntries(r.headers.entries()));
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** An API token per fixture role, with that role's full scope (anonymous: none). */
export async function tokensFor(fx: Fixtures): Promise<Record<Role, string | null>> {
  const make = async (
    userId: string,
    scope: { platformRole?: "operator-admin" | "operator-viewer"; tenantId?: string; tenantRole?: "tenant-admin" | "tenant-member" },
  ) => {
    const t = newToken();
    await fx.db.insert(s.apiTokens).values({
      id: t.id,
      userId,
      name: `rest-${crypto.randomUUID().slice(0, 8)}`,
      secretHash: t.secretHash,
      platformRole: scope.platformRole ?? null,
      tenantId: scope.tenantId ?? null,
      tenantRole: scope.tenantRole ?? null,
      expiresAt: new Date(Date.now() + 3600_000),
    });
    return t.token;
  };
  const p = fx.principals;
  return {
    anonymous: null,
    operatorAdmin: await make(p.operatorAdmin.userId, { platformRole: "operator-admin" }),
    operatorViewer: await make(p.operatorViewer.userId, { platformRole: "operator-viewer" }),
    tenantAdmin: await make(p.tenantAdmin.userId, { tenantId: fx.tenant.id, tenantRole: "tenant-admin" }),
    tenantMember: await make(p.tenantMember.userId, { tenantId: fx.tenant.id, tenantRole: "tenant-member" }),
    otherTenantMember: await make(p.otherTenantMember.userId, { tenantId: fx.otherTenant.id, tenantRole: "tenant-admin" }),
  };
}

/** Validates response bodies against the OpenAPI document; counts what it checked. */
export class ResponseValidator {
  checked = 0;
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly cache = new Map<string, ReturnType<Ajv2020["compile"]>>();
  private readonly base = "https://anvil.test/openapi.json";

  constructor() {
    addFormats(this.ajv);
    this.ajv.addSchema({ ...openApiDocument(), $id: this.base });
  }

  /** Throws when `body` is not what the document says `method path` answers with `status`. */
  check(method: string, urlPath: string, status: number, body: unknown): void {
    const path = urlPath.replace(/^\/api\/v1/, "");
    const found = matchRoute(method, path);
    if (!found || "allowed" in found) {
      this.validate("Problem", body, `${method} ${urlPath} ${status}`);
      return;
    }
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { $ref?: string } }> }> }>>;
    };
    const responses = doc.paths[found.route.path]![found.route.method]!.responses;
    const r = responses[String(status)];
    if (!r) throw new Error(`${method} ${urlPath} answered ${status}, which its OpenAPI operation does not list (${Object.keys(responses).join(", ")})`);
    const content = r.content["application/json"] ?? r.content["application/problem+json"];
    const ref = content!.schema.$ref!;
    this.validate(ref.split("/").pop()!, body, `${method} ${urlPath} ${status}`);
  }

  private validate(component: string, body: unknown, what: string) {
    let v = this.cache.get(component);
    if (!v) {
      v = this.ajv.compile({ $ref: `${this.base}#/components/schemas/${component}` });
      this.cache.set(component, v);
    }
    this.checked++;
    if (!v(body))
      throw new Error(
        `${what}: the response does not match the OpenAPI document's ${component}: ${this.ajv.errorsText(v.errors)}\n${JSON.stringify(body).slice(0, 800)}`,
      );
  }
}

/** The generated client for one caller, every response validated. */
export function apiClient(baseUrl: string, token: string | null, validator: ResponseValidator) {
  return createClient<paths>({
    baseUrl: `${baseUrl}/api/v1`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    fetch: async (req: Request) => {
      const res = await fetch(req);
      const text = await res.clone().text();
      const u = new URL(req.url);
      const isJson = /json/.test(res.headers.get("content-type") ?? "");
      if (isJson) validator.check(req.method, u.pathname, res.status, text ? JSON.parse(text) : null);
      return res;
    },
  });
}
