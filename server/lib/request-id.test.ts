// A client's X-Request-Id reaches audit rows only when it is a short id of safe characters; anything else is replaced
// by a generated one. Over real HTTP: the front door, the tRPC route, a mutation that writes an audit row.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { type AppServer, startAppServer } from "@/test/http-app";
import { requestIdFrom } from "./request-id";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let fx: Fixtures;
let app: AppServer;
let token: string;

beforeAll(async () => {
  fx = await makeFixtures(useTestDb());
  app = await startAppServer();
  token = (await callerAs(fx, "operatorAdmin").apiTokens.create({ name: uniq("rid"), expiresInDays: 1, scope: { kind: "platform", role: "operator-admin" } }))
    .token;
});
afterAll(async () => {
  await app.close();
});

async function createPool(requestId: string) {
  const name = uniq("rid");
  const res = await fetch(`${app.url}/api/trpc/pools.create`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ json: { name, resourceClass: "bm.test" } }),
  });
  expect(res.status).toBe(200);
  const [row] = await fx.db
    .select({ requestId: s.auditEvents.requestId })
    .from(s.auditEvents)
    .where(and(eq(s.auditEvents.action, "pool.create"), eq(s.auditEvents.targetName, name)));
  return row!.requestId;
}

describe("request ids", () => {
  it("keeps a safe client id in the audit row", async () => {
    expect(await createPool("ci-run:42.step_7")).toBe("ci-run:42.step_7");
  });

  it("replaces an unsafe one with a generated id", async () => {
    for (const bad of ["<script>alert(1)</script>", "a b", "x".repeat(65), "caf\u00e9", "; drop table audit"]) {
      expect(requestIdFrom(new Headers({ "x-request-id": bad }))).toMatch(UUID);
    }
    expect(await createPool(`${"y".repeat(60)}<img src=x>`)).toMatch(UUID);
    expect(requestIdFrom(new Headers())).toMatch(UUID);
  });
});
