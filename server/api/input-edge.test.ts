// Bad input never becomes a 500 (issue #12), case by case against the real database and the lab storage service:
// refusals from another copy of a module (tsx vs Next bundles) keep their meaning, unstorable text is refused naming
// the field, forged cursors are "Invalid cursor" on every list, updates that change nothing answer the row, and
// client errors are logged in one line. The fuzz suite (fuzz.test.ts) keeps the whole class away; these pin each fix.
import { Writable } from "node:stream";
import { TRPCError } from "@trpc/server";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { BmcError } from "@/server/drivers/bmc/types";
import { StorageError } from "@/server/drivers/storage/client";
import { storageConfig } from "@/server/storage/backend";
import { useEngine } from "@/test/engine";
import { callerAs, failure, type Fixtures, type Role } from "@/test/fixtures";
import { storageFixture } from "@/test/authz-fixtures";
import { authzTable } from "@/test/authz-table";
import { isFieldErrorCause, logTrpcError, toTrpcError } from "./errors";
import { appRouter } from "./root";

type Call = (input: unknown) => Promise<unknown>;
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, { _def: { inputs: unknown[] } }> } })._def.procedures;

/** A second copy of a module (its own classes), as the custom server and Next's bundles each load their own. */
const secondCopy = <T>(path: string): Promise<T> => import(/* @vite-ignore */ `${path}?second-copy`);

function callAs(fx: Fixtures, role: Role, path: string): Call {
  const [router, proc] = path.split(".") as [string, string];
  return (callerAs(fx, role) as unknown as Record<string, Record<string, Call>>)[router]![proc]!;
}

/** The first caller the authorization table lets through for `path`. */
function allowedRole(path: string): Role | undefined {
  return (["operatorAdmin", "tenantAdmin", "tenantMember", "operatorViewer"] as const).find((r) => authzTable[path]?.expect[r] === "ok");
}

/** Whether a zod input schema (possibly wrapped in default/optional) has a `cursor` field. */
function takesCursor(schema: unknown): boolean {
  let s = schema as { shape?: Record<string, unknown>; def?: { innerType?: unknown } } | undefined;
  for (let i = 0; i < 5 && s; i++) {
    if (s.shape) return "cursor" in s.shape;
    s = s.def?.innerType as typeof s;
  }
  return false;
}

describe("bad input is a 4xx a person can act on", () => {
  const fx = useEngine("input-edge-test");

  it("a storage refusal raised by another copy of the storage client module keeps its code and the service's message", async () => {
    const { storage, logicalPoolId } = await storageFixture(fx);
    const lp = await storage.getLogicalPool(logicalPoolId);
    // The custom server's copy of the client reaches Next's routers through the client cached on globalThis.
    const copy = await secondCopy<typeof import("@/server/drivers/storage/client")>("../drivers/storage/client.ts");
    expect(copy.StorageError).not.toBe(StorageError);
    const cached = (globalThis as unknown as { __anvilStorage: { client: unknown } }).__anvilStorage;
    const cfg = storageConfig();
    if (cfg?.kind !== "http") throw new Error("this test needs the HTTP storage service (ANVIL_STORAGE_URL)");
    const own = cached.client;
    const foreign = copy.createStorageClient({ url: cfg.url, token: cfg.token });
    cached.client = foreign;
    try {
      const e = await failure(callAs(fx, "operatorAdmin", "storage.deleteDiskPool")({ id: lp.diskPoolId }));
      expect(e.code).toBe("PRECONDITION_FAILED");
      expect(e.message).toMatch(/is used by logical pool/);
    } finally {
      cached.client = own;
      await foreign.close();
    }
  });

  it("BMC, DPU agent and rule compiler errors from another module copy map by their brand", async () => {
    const bmc = await secondCopy<typeof import("@/server/drivers/bmc/types")>("../drivers/bmc/types.ts");
    const agent = await secondCopy<typeof import("@/server/drivers/dpu-agent/client")>("../drivers/dpu-agent/client.ts");
    const rules = await secondCopy<typeof import("@/server/domain/rule-compiler")>("../domain/rule-compiler.ts");
    expect(new bmc.BmcError("auth", "x", "y")).not.toBeInstanceOf(BmcError);
    expect(toTrpcError(new bmc.BmcError("auth", "10.0.0.9", "BMC refused the credentials"))?.code).toBe("PRECONDITION_FAILED");
    expect(toTrpcError(new bmc.BmcError("invalid", "10.0.0.9", "bad boot device"))?.code).toBe("BAD_REQUEST");
    expect(toTrpcError(new agent.DpuAgentError(404, "not_found", "no such disk"))?.code).toBe("NOT_FOUND");
    expect(toTrpcError(new agent.DpuAgentError(409, "conflict", "name taken"))?.code).toBe("PRECONDITION_FAILED");
    expect(toTrpcError(new rules.RuleCompileError("too many rules"))?.message).toBe("too many rules");
    expect(toTrpcError(new Error("a bug"))).toBeUndefined();
  });

  it("NUL bytes and lone surrogates are refused at the input edge, naming the field", async () => {
    const cases: [Role, string, unknown, string][] = [
      ["tenantMember", "vpcs.list", { tenant: "acme\u0000" }, "tenant"],
      ["tenantMember", "vpcs.list", { tenant: fx.tenant.slug, q: "a\u0000b" }, "q"],
      ["tenantAdmin", "vpcs.create", { tenant: fx.tenant.slug, name: "web\ud800", cidr: "10.9.0.0/16" }, "name"],
      ["operatorAdmin", "users.get", { id: "\u0000" }, "id"],
      ["operatorAdmin", "nodes.inspect", { ids: [crypto.randomUUID(), "x\udc00"] }, "ids.1"],
      ["operatorAdmin", "quotas.set", { tenantId: fx.tenant.id, limits: { "vpcs\u0000": 1 } }, "limits"],
    ];
    for (const [role, path, input, field] of cases) {
      const e = await failure(callAs(fx, role, path)(input));
      expect(e.code, `${path} ${field}`).toBe("BAD_REQUEST");
      expect(e.message).toContain(`${field}:`);
      expect(isFieldErrorCause(e.cause) && e.cause.field).toBe(field);
    }
  });

  it("ids that are not uuids are NOT_FOUND or BAD_REQUEST", async () => {
    expect((await failure(callAs(fx, "operatorAdmin", "users.get")({ id: "not-a-uuid" }))).code).toBe("NOT_FOUND");
    expect((await failure(callAs(fx, "tenantMember", "vpcs.get")({ tenant: fx.tenant.slug, id: "not-a-uuid" }))).code).toBe("BAD_REQUEST");
    expect((await failure(callAs(fx, "tenantMember", "apiTokens.revoke")({ id: "not-a-token" }))).code).toBe("NOT_FOUND");
  });

  it("forged cursors are BAD_REQUEST 'Invalid cursor' on every list, and a real next cursor still works", async () => {
    const uuid = crypto.randomUUID();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const forged = [
      "garbage",
      b64({ d: 1 }),
      b64(["x"]),
      b64([{ d: "garbage" }, uuid]),
      b64([[], uuid]),
      b64([{ d: "2020-01-01T00:00:00Z", x: 1 }, uuid]),
      b64(["a", 5]),
      b64(["a\u0000", uuid]),
    ];
    const lists = Object.keys(procedures).filter((p) => procedures[p]!._def.inputs.some(takesCursor) && authzTable[p] && allowedRole(p));
    expect(lists.length).toBeGreaterThan(15);
    for (const path of lists) {
      const role = allowedRole(path)!;
      const input = ((await authzTable[path]!.input(fx, role)) ?? {}) as Record<string, unknown>;
      for (const cursor of forged) {
        const e = await failure(callAs(fx, role, path)({ ...input, cursor }));
        expect([path, e.code, e.message]).toEqual([path, "BAD_REQUEST", expect.stringMatching(/Invalid cursor/)]);
      }
      const first = (await callAs(fx, role, path)({ ...input, limit: 1 })) as { nextCursor?: string | null };
      if (first.nextCursor) await callAs(fx, role, path)({ ...input, limit: 1, cursor: first.nextCursor });
    }
  });

  it("an update that changes nothing answers the row as it is", async () => {
    const updates = Object.keys(authzTable).filter((p) => /\.update/.test(p) && allowedRole(p));
    expect(updates.length).toBeGreaterThan(8);
    const answered: string[] = [];
    for (const path of updates) {
      const role = allowedRole(path)!;
      const full = (await authzTable[path]!.input(fx, role)) as Record<string, unknown>;
      const bare = Object.fromEntries(Object.entries(full).filter(([k]) => k === "id" || k === "tenant"));
      let row: { id: string };
      try {
        row = (await callAs(fx, role, path)(bare)) as { id: string };
      } catch (e) {
        // An update whose input requires a field (a rename) says which one.
        const issues = ((e as TRPCError).cause as { issues?: { path: unknown[] }[] } | undefined)?.issues ?? [];
        expect([path, (e as TRPCError).code, issues[0]?.path.length]).toEqual([path, "BAD_REQUEST", 1]);
        continue;
      }
      expect([path, row.id]).toEqual([path, full.id]);
      // A field sent as undefined means "leave it", not "set nothing".
      const field = Object.keys(full).find((k) => k !== "id" && k !== "tenant")!;
      const again = (await callAs(fx, role, path)({ ...bare, [field]: undefined })) as { id: string };
      expect([path, again.id]).toEqual([path, full.id]);
      answered.push(path);
    }
    expect(answered).toEqual(
      expect.arrayContaining([
        "images.update",
        "networksAdmin.updateProviderNetwork",
        "pools.update",
        "ports.update",
        "securityGroups.update",
        "subnets.update",
        "volumes.update",
        "vpcs.update",
      ]),
    );
  });

  it("a malformed percent-encoded procedure path is a 400 from the HTTP route, batched or not", async () => {
    const route = await import("@/app/api/trpc/[trpc]/route");
    for (const url of ["http://localhost/api/trpc/%E0%A4?batch=1&input=%7B%7D", "http://localhost/api/trpc/%E0%A4?input=%7B%7D"]) {
      const r = await route.GET(new Request(url));
      expect([url, r.status]).toEqual([url, 400]);
    }
  });

  it("logs a client error in one line without a stack, a server error with its stack", () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    const log = pino({ level: "debug" }, sink);
    logTrpcError(new TRPCError({ code: "BAD_REQUEST", message: "Invalid cursor", cause: new Error("deep") }), "pools.list", log);
    logTrpcError(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: new Error("a bug") }), "pools.list", log);
    expect(lines).toHaveLength(2);
    expect(JSON.stringify(lines[0])).not.toMatch(/stack|at .*\.ts/);
    expect(lines[0]).toMatchObject({ level: 30, path: "pools.list", code: "BAD_REQUEST", status: 400, reason: "Invalid cursor" });
    expect(lines[1]).toMatchObject({ level: 50, path: "pools.list", code: "INTERNAL_SERVER_ERROR" });
    expect((lines[1]!.err as { stack?: string }).stack).toMatch(/a bug/);
  });
});
