// API tokens end to end: created with a scope no wider than the user's, shown once and stored hashed; a Bearer
// token reaches tRPC over real HTTP (the fetch adapter behind node:http, createContext reading the Authorization
// header) and is limited to its tenant and role; revoked, expired, tampered tokens and disabled users get 401.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { appRouter } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { useTestDb } from "@/test/db";
import { callerAs, failure, fieldOf, type Fixtures, makeFixtures } from "@/test/fixtures";

let fx: Fixtures;
let server: Server;
let base: string;

beforeAll(async () => {
  fx = await makeFixtures(useTestDb());
  // The same wiring as app/api/trpc/[trpc]/route.ts, served by node:http on an ephemeral loopback port.
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: request,
      router: appRouter,
      createContext: () => createContext({ headers: request.headers }),
    });
    res.writeHead(response.status, { "content-type": response.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/trpc`;
});
afterAll(async () => {
  server.close();
  await once(server, "close");
});

/** One tRPC call over HTTP with a Bearer token; returns the HTTP status and the decoded result or error. */
async function call(token: string | null, path: string, input: unknown, kind: "query" | "mutation" = "query") {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const body = JSON.stringify({ json: input });
  const res =
    kind === "query"
      ? await fetch(`${base}/${path}?input=${encodeURIComponent(body)}`, { headers })
      : await fetch(`${base}/${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
  const json = (await res.json()) as { result?: { data: { json: unknown } }; error?: { json: { message: string } } };
  return { status: res.status, data: json.result?.data.json as Record<string, unknown> | undefined, message: json.error?.json.message };
}

describe("API tokens", () => {
  it("authenticates over HTTP, limited to the token's tenant and role", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const created = await admin.apiTokens.create({ name: "ci", expiresInDays: 30, scope: { kind: "tenant", tenant: fx.tenant.slug, role: "tenant-member" } });
    expect(created.token).toMatch(/^anv_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    expect(created.scope).toBe(`${fx.tenant.slug}:tenant-member`);
    // Stored hashed: neither the token nor its secret is in the row.
    const [row] = await fx.db.select().from(s.apiTokens).where(eq(s.apiTokens.id, created.id));
    expect(JSON.stringify(row)).not.toContain(created.token.split("_")[2]);

    const ok = await call(created.token, "members.list", { tenant: fx.tenant.slug });
    expect(ok.status).toBe(200);
    expect(((ok.data?.items ?? []) as { email: string }[]).map((m) => m.email)).toContain(fx.principals.tenantAdmin.email);
    // Narrowed to tenant-member although the user is a tenant admin there.
    const write = await call(created.token, "members.add", { tenant: fx.tenant.slug, email: "x@test.local", name: "X" }, "mutation");
    expect(write.status).toBe(403);
    // Another tenant, and the operator console, do not exist for it.
    expect((await call(created.token, "members.list", { tenant: fx.otherTenant.slug })).status).toBe(404);
    expect((await call(created.token, "tenants.list", {})).status).toBe(404);
    // A token can't mint tokens.
    expect(
      (
        await call(
          created.token,
          "apiTokens.create",
          { name: "x", expiresInDays: 1, scope: { kind: "tenant", tenant: fx.tenant.slug, role: "tenant-member" } },
          "mutation",
        )
      ).status,
    ).toBe(403);
    // Nor plant an SSH key (keys reach servers in every tenant of the user); reading them is fine.
    const pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlz9WJjHHLaqCmtJ7ZBtRHtZsTsRcyWh7CJEpS2pdCS e2e@test";
    const plant = await call(created.token, "sshKeys.add", { name: "planted", publicKey: pub }, "mutation");
    expect([plant.status, plant.message]).toEqual([403, "API tokens can't add or delete SSH keys; sign in to the console to do this."]);
    expect((await call(created.token, "sshKeys.list", {})).status).toBe(200);
    // Last use is recorded.
    const [used] = await fx.db.select().from(s.apiTokens).where(eq(s.apiTokens.id, created.id));
    expect(used?.lastUsedAt).toBeInstanceOf(Date);
    const listed = await admin.apiTokens.list({});
    expect(listed.items.find((t) => t.id === created.id)).toMatchObject({ status: "active", tenantSlug: fx.tenant.slug });
  });

  it("gives 401 for revoked, expired, tampered or unknown tokens and for disabled users", async () => {
    const member = callerAs(fx, "tenantMember");
    const scope = { kind: "tenant", tenant: fx.tenant.slug, role: "tenant-member" } as const;
    const a = await member.apiTokens.create({ name: "to-revoke", expiresInDays: 1, scope });
    expect((await call(a.token, "quotas.get", { tenant: fx.tenant.slug })).status).toBe(200);
    await member.apiTokens.revoke({ id: a.id });
    const revoked = await call(a.token, "quotas.get", { tenant: fx.tenant.slug });
    expect([revoked.status, revoked.message]).toEqual([401, "Sign in to continue."]);
    expect((await failure(member.apiTokens.revoke({ id: a.id }))).code).toBe("NOT_FOUND");

    const b = await member.apiTokens.create({ name: "to-expire", expiresInDays: 1, scope });
    await fx.db
      .update(s.apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(s.apiTokens.id, b.id));
    expect((await call(b.token, "quotas.get", { tenant: fx.tenant.slug })).status).toBe(401);
    expect((await member.apiTokens.list({})).items.find((t) => t.id === b.id)?.status).toBe("expired");

    const c = await member.apiTokens.create({ name: "to-tamper", expiresInDays: 1, scope });
    const tampered = `${c.token.slice(0, -1)}${c.token.endsWith("A") ? "B" : "A"}`;
    expect((await call(tampered, "quotas.get", { tenant: fx.tenant.slug })).status).toBe(401);
    expect((await call("anv_nonsense", "quotas.get", { tenant: fx.tenant.slug })).status).toBe(401);
    expect((await call(null, "quotas.get", { tenant: fx.tenant.slug })).status).toBe(401);

    await fx.db.update(s.users).set({ disabled: true }).where(eq(s.users.id, fx.principals.tenantMember.userId));
    try {
      expect((await call(c.token, "quotas.get", { tenant: fx.tenant.slug })).status).toBe(401);
    } finally {
      await fx.db.update(s.users).set({ disabled: false }).where(eq(s.users.id, fx.principals.tenantMember.userId));
    }
    expect((await call(c.token, "quotas.get", { tenant: fx.tenant.slug })).status).toBe(200);
  });

  it("refuses scopes wider than the user's and lifetimes over a year", async () => {
    const member = callerAs(fx, "tenantMember");
    const wider = await failure(
      member.apiTokens.create({ name: "w", expiresInDays: 1, scope: { kind: "tenant", tenant: fx.tenant.slug, role: "tenant-admin" } }),
    );
    expect([wider.code, fieldOf(wider)]).toEqual(["FORBIDDEN", "scope.role"]);
    const notMine = await failure(
      member.apiTokens.create({ name: "n", expiresInDays: 1, scope: { kind: "tenant", tenant: fx.otherTenant.slug, role: "tenant-member" } }),
    );
    expect(notMine.code).toBe("NOT_FOUND");
    expect((await failure(member.apiTokens.create({ name: "p", expiresInDays: 1, scope: { kind: "platform", role: "operator-viewer" } }))).code).toBe(
      "FORBIDDEN",
    );
    expect(
      (await failure(callerAs(fx, "operatorViewer").apiTokens.create({ name: "p", expiresInDays: 1, scope: { kind: "platform", role: "operator-admin" } })))
        .code,
    ).toBe("FORBIDDEN");
    const long = await failure(
      member.apiTokens.create({ name: "l", expiresInDays: 366, scope: { kind: "tenant", tenant: fx.tenant.slug, role: "tenant-member" } }),
    );
    expect(long.code).toBe("BAD_REQUEST");
    expect(long.message).toMatch(/At most 365 days/);
  });

  it("scopes operator tokens to a platform role, narrowed when the user is demoted", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const { user } = await op.users.create({ email: `op-${crypto.randomUUID().slice(0, 6)}@test.local`, name: "Second Op", platformRole: "operator-admin" });
    const secondOp = callerAs(
      {
        ...fx,
        principals: { ...fx.principals, operatorAdmin: { ...fx.principals.operatorAdmin, userId: user.id, email: user.email, platformRole: "operator-admin" } },
      },
      "operatorAdmin",
    );
    const t = await secondOp.apiTokens.create({ name: "ops", expiresInDays: 7, scope: { kind: "platform", role: "operator-admin" } });
    expect((await call(t.token, "tenants.list", {})).status).toBe(200);
    // A platform token has no tenant: the portal is not found for it.
    expect((await call(t.token, "quotas.get", { tenant: fx.tenant.slug })).status).toBe(404);
    await op.users.setPlatformRole({ id: user.id, role: "operator-viewer" });
    expect((await call(t.token, "tenants.list", {})).status).toBe(200);
    expect((await call(t.token, "tenants.create", { slug: "from-token", name: "x" }, "mutation")).status).toBe(403);
    await op.users.setPlatformRole({ id: user.id, role: null });
    expect((await call(t.token, "tenants.list", {})).status).toBe(401);
  });
});
