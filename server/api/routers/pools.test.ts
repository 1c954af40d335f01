// Pools router against a real Postgres: list filter/sort/cursor, validation, duplicate names, the
// "pool with nodes cannot be deleted" rule, and audit rows written in the same transaction.
import { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, insertHost, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof TRPCError ? e.code : String(e);
  }
}

describe("pools", () => {
  it("creates, edits and deletes a pool, auditing each change", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const name = uniq("pool");
    const created = await admin.pools.create({ name, resourceClass: "bm.standard", description: "first" });
    expect(created.name).toBe(name);
    const updated = await admin.pools.update({ id: created.id, description: "second" });
    expect(updated.description).toBe("second");
    await admin.pools.delete({ id: created.id });
    expect(await codeOf(admin.pools.get({ id: created.id }))).toBe("NOT_FOUND");
    const rows = await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, created.id));
    expect(rows.map((r) => r.action).sort()).toEqual(["pool.create", "pool.delete", "pool.update"]);
    expect(rows.every((r) => r.actorEmail === fx.principals.operatorAdmin.email)).toBe(true);
    const upd = rows.find((r) => r.action === "pool.update");
    expect(upd?.details).toEqual({ description: { from: "first", to: "second" } });
  });

  it("turns a duplicate name (any case) into a field error and writes nothing", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const name = uniq("dup");
    await admin.pools.create({ name, resourceClass: "bm.standard" });
    const before = await fx.db.select().from(s.auditEvents);
    const err = await admin.pools.create({ name, resourceClass: "bm.other" }).catch((e) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect(err.code).toBe("CONFLICT");
    expect(err.cause?.field).toBe("name");
    expect(err.message).toMatch(/already exists/);
    const after = await fx.db.select().from(s.auditEvents);
    expect(after.length).toBe(before.length);
  });

  it("rejects malformed input naming the field", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const bad = [
      { name: "Has Spaces", resourceClass: "bm" },
      { name: "a".repeat(64), resourceClass: "bm" },
      { name: "ok-name", resourceClass: "" },
      { name: "ok-name", resourceClass: "bm", unknownField: 1 },
    ];
    for (const input of bad) {
      const e = await admin.pools.create(input as never).catch((x) => x);
      expect(e.code, JSON.stringify(input)).toBe("BAD_REQUEST");
    }
    expect(await codeOf(admin.pools.get({ id: "not-a-uuid" }))).toBe("BAD_REQUEST");
    expect(await codeOf(admin.pools.list({ cursor: "garbage" }))).toBe("BAD_REQUEST");
  });

  it("refuses to delete a pool that has nodes, with a clear reason", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const pool = await admin.pools.create({ name: uniq("busy"), resourceClass: "bm.standard" });
    await insertHost(fx.db, { name: uniq("node"), poolId: pool.id });
    const e = await admin.pools.delete({ id: pool.id }).catch((x) => x);
    expect(e.code).toBe("PRECONDITION_FAILED");
    expect(e.message).toMatch(/still has 1 node/);
    const [still] = await fx.db.select().from(s.pools).where(eq(s.pools.id, pool.id));
    expect(still).toBeDefined();
    const audits = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, pool.id), eq(s.auditEvents.action, "pool.delete")));
    expect(audits).toHaveLength(0);
  });

  it("lists with server-side filter, sort and cursor pages", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const tag = uniq("pg").replace("-", "");
    const names = Array.from({ length: 7 }, (_, i) => `${tag}-${String.fromCharCode(103 - i)}`); // g..a
    for (const n of names) await admin.pools.create({ name: n, resourceClass: "bm.page" });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { items: { name: string }[]; nextCursor: string | null } = await admin.pools.list({ q: tag, limit: 3, cursor, sort: "name", dir: "asc" });
      seen.push(...res.items.map((i) => i.name));
      cursor = res.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...names].sort());
    const desc = await admin.pools.list({ q: tag, sort: "name", dir: "desc", limit: 50 });
    expect(desc.items.map((i) => i.name)).toEqual([...names].sort().reverse());
    const none = await admin.pools.list({ q: `${tag}-zzz` });
    expect(none.items).toEqual([]);
  });

  it("pages through rows created in the same instant without repeating or skipping any", async () => {
    // One multi-row insert: every row gets the same now() (a sub-millisecond timestamp before columns were
    // millisecond-precise, which cursors could not round-trip).
    const tag = uniq("same").replace("-", "");
    await fx.db.insert(s.pools).values(Array.from({ length: 7 }, (_, i) => ({ name: `${tag}-${i}`, resourceClass: "bm.same" })));
    const admin = callerAs(fx, "operatorAdmin");
    for (const dir of ["asc", "desc"] as const) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { items: { name: string }[]; nextCursor: string | null } = await admin.pools.list({ q: tag, limit: 2, cursor, sort: "createdAt", dir });
        seen.push(...res.items.map((i) => i.name));
        cursor = res.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
    }
  });
});
