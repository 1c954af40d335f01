// Cross-cutting behaviour of the lab storage service's HTTP API: bearer auth, bad input -> clear 4xx,
// Idempotency-Key replay, fault injection, the per-operation latency profile and cursor pagination.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Lab, makePools, setFaults, startLab } from "./test-kit";

let lab: Lab;
let pool: string;
beforeEach(async () => {
  lab = await startLab({ token: "s3cret" });
  pool = (await makePools(lab)).logicalPoolId;
});
afterEach(async () => {
  await lab.close();
});

describe("auth", () => {
  it("requires the bearer token on /v1 and /admin but not on /healthz", async () => {
    expect((await fetch(`${lab.url}/v1/volumes`)).status).toBe(401);
    const wrong = await fetch(`${lab.url}/v1/volumes`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain("Bearer");
    expect((await wrong.json()).error.code).toBe("unauthorized");
    expect((await fetch(`${lab.url}/admin/faults`, { method: "PUT", body: "{}" })).status).toBe(401);
    expect((await fetch(`${lab.url}/healthz`)).status).toBe(200);
    expect(lab.token).toBe("s3cret");
  });
});

describe("bad input gets a clear 4xx, never a 500", () => {
  const vol = (extra: Record<string, unknown>) => ({ name: "v", logicalPoolId: "<pool>", sizeBytes: 1024, ...extra });
  it.each([
    ["malformed JSON", "POST", "/v1/volumes", '{"name":', 400, "invalid_json", undefined],
    ["array body", "POST", "/v1/volumes", "[]", 400, "invalid_json", undefined],
    ["string size", "POST", "/v1/volumes", JSON.stringify(vol({ sizeBytes: "10" })), 400, "invalid_request", "sizeBytes"],
    ["fractional size", "POST", "/v1/volumes", JSON.stringify(vol({ sizeBytes: 1.5 })), 400, "invalid_request", "sizeBytes"],
    ["zero size", "POST", "/v1/volumes", JSON.stringify(vol({ sizeBytes: 0 })), 400, "invalid_request", "sizeBytes"],
    ["negative size", "POST", "/v1/volumes", JSON.stringify(vol({ sizeBytes: -5 })), 400, "invalid_request", "sizeBytes"],
    ["unsafe integer size", "POST", "/v1/volumes", JSON.stringify(vol({ sizeBytes: 2 ** 60 })), 400, "invalid_request", "sizeBytes"],
    ["unknown field", "POST", "/v1/volumes", JSON.stringify(vol({ color: "red" })), 400, "unknown_field", "color"],
    ["wrong field type", "POST", "/v1/volumes", JSON.stringify(vol({ multiAttach: "yes" })), 400, "invalid_request", "multiAttach"],
    ["missing name", "POST", "/v1/volumes", JSON.stringify({ logicalPoolId: "x", sizeBytes: 1 }), 400, "invalid_request", "name"],
    ["missing pool", "POST", "/v1/volumes", JSON.stringify({ name: "v", sizeBytes: 1 }), 400, "invalid_request", "logicalPoolId"],
    ["bad name", "POST", "/v1/volumes", JSON.stringify(vol({ name: "has space" })), 400, "invalid_name", "name"],
    ["unknown pool", "POST", "/v1/volumes", JSON.stringify(vol({ logicalPoolId: "nope" })), 404, "not_found", "logicalPoolId"],
    ["flatten with a body", "POST", "/v1/volumes/x/flatten", JSON.stringify({ deep: true }), 400, "unknown_field", "deep"],
    ["bad fault rate", "PUT", "/admin/faults", JSON.stringify({ errorRate: 2 }), 400, "invalid_request", "errorRate"],
  ])("%s", async (_label, method, path, raw, status, code, field) => {
    const r = await lab.reqRaw(method, path, raw.replace("<pool>", pool));
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe("string");
    expect(r.body.error.message.length).toBeGreaterThan(5);
    expect(r.body.error.field).toBe(field);
  });

  it.each([
    ["unknown id", "GET", "/v1/volumes/does-not-exist", 404, "not_found"],
    ["broken percent-encoding in an id", "GET", "/v1/volumes/%E0%A4%A", 400, "invalid_request"],
    ["unknown snapshot delete", "DELETE", "/v1/snapshots/nope", 404, "not_found"],
    ["unknown route", "GET", "/v1/widgets", 404, "not_found"],
    ["wrong method", "PUT", "/v1/volumes", 405, "method_not_allowed"],
    ["bad limit", "GET", "/v1/volumes?limit=abc", 400, "invalid_request"],
    ["limit too large", "GET", "/v1/volumes?limit=5000", 400, "invalid_request"],
    ["unknown query parameter", "GET", "/v1/volumes?color=red", 400, "unknown_field"],
    ["forged cursor", "GET", "/v1/volumes?cursor=%%%", 400, "invalid_cursor"],
    ["bad boolean", "GET", "/v1/disks?unassigned=maybe", 400, "invalid_request"],
  ])("%s", async (_label, method, path, status, code) => {
    const r = await lab.req(method, path);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
  });

  it("rejects a non-JSON content type and oversized bodies", async () => {
    const text = await lab.reqRaw("POST", "/v1/snapshots", "name=x", { "content-type": "text/plain" });
    expect(text.status).toBe(415);
    const big = await fetch(`${lab.url}/v1/volumes`, {
      method: "POST",
      headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(2 << 20) }),
    }).catch(() => null);
    // Either the 413 reply arrives or the server cut the upload short; it must never be accepted.
    if (big) expect(big.status).toBe(413);
  });
});

describe("idempotency", () => {
  it("a retried create with the same Idempotency-Key returns the same volume, not a second one", async () => {
    const body = { name: "once", logicalPoolId: pool, sizeBytes: 4096 };
    const first = await lab.req("POST", "/v1/volumes", body, { "idempotency-key": "k-1" });
    const second = await lab.req("POST", "/v1/volumes", body, { "idempotency-key": "k-1" });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect((await lab.req("GET", `/v1/volumes?logicalPoolId=${pool}`)).body.items).toHaveLength(1);
    // Without the key the same body is a new request (and hits the name rule).
    expect((await lab.req("POST", "/v1/volumes", body)).status).toBe(409);
    const reused = await lab.req("POST", "/v1/volumes", { ...body, sizeBytes: 8192 }, { "idempotency-key": "k-1" });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
  });

  it("concurrent retries with one key create one object even while the first is still running", async () => {
    await lab.close();
    lab = await startLab({ latencyMs: { "volume.create": 100 } });
    pool = (await makePools(lab)).logicalPoolId;
    const body = { name: "racy", logicalPoolId: pool, sizeBytes: 4096 };
    const replies = await Promise.all([1, 2, 3].map(() => lab.req("POST", "/v1/volumes", body, { "idempotency-key": "race" })));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect((await lab.req("GET", `/v1/volumes?logicalPoolId=${pool}`)).body.items).toHaveLength(1);
  });

  it("a failed create is not remembered, so the retry runs again", async () => {
    const body = { name: "big", logicalPoolId: pool, sizeBytes: Number.MAX_SAFE_INTEGER };
    expect((await lab.req("POST", "/v1/volumes", body, { "idempotency-key": "k-2" })).status).toBe(409);
    const fixed = await lab.req("POST", "/v1/volumes", { ...body, sizeBytes: 1 }, { "idempotency-key": "k-2" });
    expect(fixed.status).toBe(201);
  });
});

describe("fault injection and latency", () => {
  it("failNext fails exactly the next N /v1 requests with 503 and changes nothing", async () => {
    await setFaults(lab.url, lab.token, { failNext: 2 });
    const a = await lab.req("POST", "/v1/volumes", { name: "f", logicalPoolId: pool, sizeBytes: 1 });
    expect(a.status).toBe(503);
    expect(a.body.error.code).toBe("injected_fault");
    expect((await lab.req("GET", "/v1/volumes")).status).toBe(503);
    const list = await lab.req("GET", "/v1/volumes");
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(0);
  });

  it("phase=response applies the change but loses the reply; the keyed retry returns the same object", async () => {
    await setFaults(lab.url, lab.token, { failNext: 1, phase: "response" });
    const body = { name: "lost-reply", logicalPoolId: pool, sizeBytes: 1 };
    const lost = await lab.req("POST", "/v1/volumes", body, { "idempotency-key": "k-lost" });
    expect(lost.status).toBe(503);
    const retry = await lab.req("POST", "/v1/volumes", body, { "idempotency-key": "k-lost" });
    expect(retry.status).toBe(201);
    const all = await lab.req("GET", "/v1/volumes");
    expect(all.body.items.map((v: { id: string }) => v.id)).toEqual([retry.body.id]);
  });

  it("errorRate 1 fails everything until reset; latencyMs delays requests", async () => {
    await setFaults(lab.url, lab.token, { errorRate: 1 });
    expect((await lab.req("GET", "/v1/nodes")).status).toBe(503);
    expect((await lab.req("GET", "/admin/faults")).body).toMatchObject({ errorRate: 1, failNext: 0 });
    await setFaults(lab.url, lab.token, { latencyMs: 150 });
    const t0 = performance.now();
    expect((await lab.req("GET", "/v1/nodes")).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("the latency profile slows clones individually", async () => {
    await lab.close();
    lab = await startLab({ latencyMs: { "volume.clone": 250 } });
    pool = (await makePools(lab)).logicalPoolId;
    const v = await lab.req("POST", "/v1/volumes", { name: "src", logicalPoolId: pool, sizeBytes: 1 });
    const s = await lab.req("POST", "/v1/snapshots", { volumeId: v.body.id, name: "s" });
    const t0 = performance.now();
    expect((await lab.req("POST", "/v1/volumes", { name: "c", sourceSnapshotId: s.body.id })).status).toBe(201);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
  });
});

describe("pagination", () => {
  it("walks a list in creation order with an opaque cursor, without gaps or repeats, across deletions", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await lab.req("POST", "/v1/volumes", { name: `v${i}`, logicalPoolId: pool, sizeBytes: 1 })).body.id);
    const p1 = await lab.req("GET", "/v1/volumes?limit=10");
    expect(p1.body.items.map((v: { id: string }) => v.id)).toEqual(ids.slice(0, 10));
    // Deleting an item already seen must not shift the next page.
    await lab.req("DELETE", `/v1/volumes/${ids[3]}`);
    const p2 = await lab.req("GET", `/v1/volumes?limit=10&cursor=${p1.body.nextCursor}`);
    expect(p2.body.items.map((v: { id: string }) => v.id)).toEqual(ids.slice(10, 20));
    const p3 = await lab.req("GET", `/v1/volumes?limit=10&cursor=${p2.body.nextCursor}`);
    expect(p3.body.items.map((v: { id: string }) => v.id)).toEqual(ids.slice(20));
    expect(p3.body.nextCursor).toBeNull();
    const exact = await lab.req("GET", "/v1/volumes?limit=24");
    expect(exact.body.nextCursor).toBeNull();
  });
});
