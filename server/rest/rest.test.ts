// The REST API v1 driven by its GENERATED client (openapi-fetch over the openapi-typescript types of the current
// document) against the real lab: a tenant script with an API token builds a network, creates an instance and polls
// its operation to running, stops it and deletes it; creates are idempotent by key; lists page by cursor; errors
// are RFC 9457 problems with the UI's words. Every response is validated against the OpenAPI document.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngine, stopEngine } from "@/server/workflows/engine";
import { workflows } from "@/server/workflows/registry";
import { useTestDb } from "@/test/db";
import { type Fixtures, makeFixtures, type Role } from "@/test/fixtures";
import { type InstanceLab, startInstanceLab } from "@/test/instance-lab";
import { generateClientTypes } from "./client-gen";
import { apiClient, ResponseValidator, serveApi, tokensFor } from "@/test/rest-kit";

const validator = new ResponseValidator();
let fx: Fixtures;
let L: InstanceLab;
let api: Awaited<ReturnType<typeof serveApi>>;
let tokens: Record<Role, string | null>;
let client: ReturnType<typeof apiClient>;

beforeAll(async () => {
  fx = await makeFixtures(useTestDb());
  await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: "rest-test", schedules: false });
  L = await startInstanceLab(fx, { hosts: 2 });
  api = await serveApi();
  tokens = await tokensFor(fx);
  client = apiClient(api.url, tokens.tenantAdmin, validator);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await stopEngine();
  await L?.close();
});

async function pollOperation(tenant: string, id: string) {
  for (let i = 0; i < 600; i++) {
    const { data, error } = await client.GET("/tenants/{tenant}/operations/{id}", { params: { path: { tenant, id } } });
    if (error) throw new Error(JSON.stringify(error));
    if (data.status === "succeeded" || data.status === "failed" || data.status === "cancelled") return data;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`operation ${id} did not end`);
}

describe("REST API v1", () => {
  it("ships client types generated from the current OpenAPI document (npm run api:client)", async () => {
    const committed = fs.readFileSync(new URL("./client/schema.d.ts", import.meta.url), "utf8");
    expect(committed === (await generateClientTypes()), "server/rest/client/schema.d.ts is stale: run npm run api:client").toBe(true);
  });

  it("serves its OpenAPI 3.1 document and a reference page without signing in", async () => {
    const doc = await (await fetch(`${api.url}/api/v1/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/tenants/{tenant}/instances"].post.operationId).toBe("createInstance");
    const page = await fetch(`${api.url}/api/v1/docs`);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain("Anvil API reference");
    expect(html).toContain("/api/v1/tenants/{tenant}/instances");
  });

  it("creates by Idempotency-Key once: the retry gets the first answer, another body with the key is refused", async () => {
    const tenant = fx.tenant.slug;
    const key = crypto.randomUUID();
    const body = { name: `rest-${key.slice(0, 6)}`, cidr: "10.77.0.0/16" };
    const first = await client.POST("/tenants/{tenant}/vpcs", { params: { path: { tenant }, header: { "Idempotency-Key": key } }, body });
    expect(first.response.status).toBe(201);
    const again = await client.POST("/tenants/{tenant}/vpcs", { params: { path: { tenant }, header: { "Idempotency-Key": key } }, body });
    expect(again.response.status).toBe(201);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(again.data!.id).toBe(first.data!.id);
    const other = await client.POST("/tenants/{tenant}/vpcs", {
      params: { path: { tenant }, header: { "Idempotency-Key": key } },
      body: { ...body, name: `${body.name}-x` },
    });
    expect(other.response.status).toBe(422);
    expect(other.error).toMatchObject({ status: 422, code: "UNPROCESSABLE_CONTENT" });
    // Without a key, the same body is a second create: refused as a duplicate name, as the UI would say.
    const dup = await client.POST("/tenants/{tenant}/vpcs", { params: { path: { tenant } }, body });
    expect(dup.response.status).toBe(409);
    expect(dup.error!.fieldErrors).toHaveProperty("name");
  });

  it("pages lists by cursor", async () => {
    const tenant = fx.tenant.slug;
    for (let i = 0; i < 3; i++)
      await client.POST("/tenants/{tenant}/vpcs", {
        params: { path: { tenant } },
        body: { name: `page-${i}-${crypto.randomUUID().slice(0, 4)}`, cidr: `10.${90 + i}.0.0/16` },
      });
    const seen = new Set<string>();
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const { data } = await client.GET("/tenants/{tenant}/vpcs", { params: { path: { tenant }, query: { limit: 2, cursor: cursor ?? undefined } } });
      for (const v of data!.items) seen.add(v.id);
      cursor = data!.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(pages).toBeGreaterThan(1);
    const all = await client.GET("/tenants/{tenant}/vpcs", { params: { path: { tenant }, query: { limit: 200 } } });
    expect(seen.size).toBe(all.data!.items.length);
    const forged = await client.GET("/tenants/{tenant}/vpcs", { params: { path: { tenant }, query: { cursor: "bm90IGEgY3Vyc29y" } } });
    expect(forged.response.status).toBe(400);
  });

  it("creates an instance, polls its operation to running, gives its console URL, stops and deletes it", async () => {
    const tenant = fx.tenant.slug;
    const created = await client.POST("/tenants/{tenant}/instances", {
      params: { path: { tenant }, header: { "Idempotency-Key": crypto.randomUUID() } },
      body: { name: `rest-srv-${crypto.randomUUID().slice(0, 6)}`, poolId: L.poolId, imageId: L.imageId, subnetId: L.subnetId },
    });
    expect(created.response.status).toBe(202);
    const { id, operationId, operation } = created.data!;
    expect(created.response.headers.get("location")).toBe(operation);
    expect((await pollOperation(tenant, operationId)).status).toBe("succeeded");
    const got = await client.GET("/tenants/{tenant}/instances/{id}", { params: { path: { tenant, id: id! } } });
    expect(got.data).toMatchObject({ id, state: "running", placed: true });
    expect(JSON.stringify(got.data)).not.toMatch(/"nodeId"/);

    const con = await client.GET("/tenants/{tenant}/instances/{id}/console", { params: { path: { tenant, id: id! } } });
    expect(con.data!.url).toMatch(new RegExp(`^ws://.*/api/console/instance/${id}$`));

    const stop = await client.POST("/tenants/{tenant}/instances/{id}/stop", { params: { path: { tenant, id: id! } }, body: { force: true } });
    expect(stop.response.status).toBe(202);
    expect((await pollOperation(tenant, stop.data!.operationId)).status).toBe("succeeded");
    expect((await client.GET("/tenants/{tenant}/instances/{id}", { params: { path: { tenant, id: id! } } })).data!.state).toBe("stopped");

    // Another tenant's token learns nothing of it.
    const other = apiClient(api.url, tokens.otherTenantMember, validator);
    const theirs = await other.GET("/tenants/{tenant}/instances/{id}", { params: { path: { tenant, id: id! } } });
    expect(theirs.response.status).toBe(404);

    const del = await client.DELETE("/tenants/{tenant}/instances/{id}", { params: { path: { tenant, id: id! } } });
    expect(del.response.status).toBe(202);
    expect((await pollOperation(tenant, del.data!.operationId)).status).toBe("succeeded");
  });

  it("answers bad requests with problem details a person can act on", async () => {
    const tenant = fx.tenant.slug;
    const bad = await client.POST("/tenants/{tenant}/instances", { params: { path: { tenant } }, body: { name: "", poolId: "nope" } as never });
    expect(bad.response.status).toBe(400);
    expect(bad.response.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(bad.error).toMatchObject({ status: 400, code: "BAD_REQUEST" });
    expect(bad.error!.detail).toMatch(/^Invalid input: /);
    expect(Object.keys(bad.error!.fieldErrors ?? {})).toEqual(expect.arrayContaining(["poolId"]));

    const anon = apiClient(api.url, null, validator);
    expect((await anon.GET("/tenants/{tenant}/instances", { params: { path: { tenant } } })).response.status).toBe(401);

    const raw = async (method: string, path: string, init: RequestInit = {}) => {
      const r = await fetch(`${api.url}/api/v1${path}`, {
        method,
        ...init,
        headers: { authorization: `Bearer ${tokens.tenantAdmin}`, ...(init.headers ?? {}) },
      });
      const body = await r.json();
      validator.check(method, `/api/v1${path}`, r.status, body);
      return { status: r.status, body };
    };
    expect((await raw("GET", "/no/such/thing")).status).toBe(404);
    const wrongMethod = await raw("PUT", `/tenants/${tenant}/instances`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.detail).toMatch(/use GET, POST/);
    const notJson = await raw("POST", `/tenants/${tenant}/vpcs`, { body: "{not json", headers: { "content-type": "application/json" } });
    expect(notJson).toMatchObject({ status: 400, body: { detail: "The request body is not valid JSON" } });
    const text = await raw("POST", `/tenants/${tenant}/vpcs`, { body: "name=x", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
  });

  it("lists rolling DPU updates and refuses a bad one on its field (operator token)", async () => {
    const ops = apiClient(api.url, tokens.operatorAdmin, validator);
    const list = await ops.GET("/rollouts");
    expect(list.response.status).toBe(200);
    expect(Array.isArray(list.data!.items)).toBe(true);
    const bad = await ops.POST("/rollouts", { body: { imageUri: "ftp://x/y.bfb", maxUnavailable: 0, instancePolicy: "skip" } as never });
    expect(bad.response.status).toBe(400);
    expect(Object.keys(bad.error!.fieldErrors ?? {})).toEqual(expect.arrayContaining(["imageUri", "maxUnavailable"]));
    const missing = await ops.GET("/rollouts/{id}", { params: { path: { id: crypto.randomUUID() } } });
    expect(missing.response.status).toBe(404);
    expect((await client.GET("/rollouts")).response.status).toBe(404); // a tenant's token: operator routes do not exist for it
  });

  it("validated every response it saw against the OpenAPI document", () => {
    expect(validator.checked).toBeGreaterThan(20);
  });
});
