// Property-based fuzzing of the whole API: every procedure of the authorization table, as every kind of caller, with
// generated inputs — the table's valid input with fields replaced, removed or added (NUL bytes, lone surrogates,
// huge strings, wrong types, forged cursors, random uuids, the other tenant's ids and slug), and random JSON.
// It fails on any 5xx (a refusal must be a 4xx a person can act on) and on any response or error message that shows
// a tenant caller something of the other tenant (its seeded rows are named with a marker; their ids are collected),
// and checks at the end that no seeded row was changed by a caller of the other tenant.
// Budget: a fixed seed, a fixed number of runs per (procedure, caller) and a time cap per pair; FUZZ_SEED and
// FUZZ_BUDGET_MS override them. A failure names the seed to reproduce it with.
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { startEngine, stopEngine } from "@/server/workflows/engine";
import { workflows } from "@/server/workflows/registry";
import { useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures, type Role, roles } from "@/test/fixtures";
import { apiTokenFixture, imageFixture, instanceFixture, portFixture, snapshotFixture, sshKeyFixture } from "@/test/authz-fixtures";
import { authzTable } from "@/test/authz-table";
import { isTrpcError } from "./errors";
import { appRouter } from "./root";

const SEED = Number(process.env.FUZZ_SEED ?? 1207);
/** Wall-clock budget from the first procedure on (making each pair's valid input included), shared out over the
 *  (procedure, caller) pairs still to run; seeding the two tenants comes on top. */
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 50_000);
/** No pair gets less, so a slow first call is never "interrupted after 0 tests". */
const MIN_PAIR_MS = 200;
/** Runs per (procedure, caller) that gets past authorization, and per one refused before reading its input. */
const RUNS_AUTHORIZED = 30;
const RUNS_REFUSED = 3;

const procedures = Object.keys((appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures)
  .filter((p) => authzTable[p])
  .sort();

type Call = (input: unknown) => Promise<unknown>;
type Tenant = { id: string; slug: string };

/** What each tenant owns that the other tenant's callers must never see or change. */
interface Seeded {
  tenant: Tenant;
  marker: string;
  /** Ids of every row of the tenant at seeding time, and the tenant's own id. */
  ids: string[];
  /** Rows that must come out of the run unchanged (table → id → JSON). */
  rows: Map<string, string>;
}

const hashOf = (text: string) => [...text].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0);
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) ?? "undefined";
const b64 = (v: unknown) => Buffer.from(json(v)).toString("base64url");

/** Tables with a tenant_id column (from the catalogue, so a new resource is covered without editing this file). */
async function tenantTables(fx: Fixtures): Promise<{ table: string; hasName: boolean }[]> {
  const r = await fx.db.execute<{ table_name: string; has_name: boolean; has_id: boolean }>(sql`
    select c.table_name,
           bool_or(n.column_name is not null) as has_name,
           bool_or(i.column_name is not null) as has_id
      from information_schema.columns c
      left join information_schema.columns n on n.table_schema = c.table_schema and n.table_name = c.table_name and n.column_name = 'name'
      left join information_schema.columns i on i.table_schema = c.table_schema and i.table_name = c.table_name and i.column_name = 'id'
     where c.table_schema = 'public' and c.column_name = 'tenant_id'
     group by c.table_name`);
  return r.rows.filter((t) => t.has_id).map((t) => ({ table: t.table_name, hasName: t.has_name }));
}

/** Gives `tenant` one of everything (network, port, volume, snapshot, private image, instance, SSH key, token), marked. */
async function seedTenant(fx: Fixtures, tenant: Tenant, memberId: string): Promise<Seeded> {
  const own = { ...fx, tenant, otherTenant: tenant };
  await portFixture(own);
  await snapshotFixture(own);
  await imageFixture(own, "tenant");
  await instanceFixture(own);
  await sshKeyFixture(own, memberId);
  await apiTokenFixture(own, memberId);
  const marker = `mk${hashOf(tenant.id).toString(16).replace("-", "")}z`;
  await fx.db
    .update(s.tenants)
    .set({ name: `Tenant ${marker}` })
    .where(eq(s.tenants.id, tenant.id));
  const ids = [tenant.id];
  const rows = new Map<string, string>();
  for (const { table, hasName } of await tenantTables(fx)) {
    if (hasName) {
      // Names keep their own rules (length, DNS labels): the marker is lower-case letters and digits, and short.
      await fx.db
        .execute(sql`update ${sql.identifier(table)} set name = left(${`${marker}-`} || name, 60) where tenant_id = ${tenant.id}`)
        .catch(() => undefined);
    }
    const found = await fx.db.execute<{ id: string; row: unknown }>(
      sql`select id::text as id, to_jsonb(t) as row from ${sql.identifier(table)} t where tenant_id = ${tenant.id}`,
    );
    for (const r of found.rows) {
      ids.push(r.id);
      rows.set(`${table}/${r.id}`, json(r.row));
    }
  }
  return { tenant, marker, ids, rows };
}

async function rowsNow(fx: Fixtures, seeded: Seeded): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of seeded.rows.keys()) {
    const [table, id] = key.split("/") as [string, string];
    const r = await fx.db.execute<{ row: unknown }>(sql`select to_jsonb(t) as row from ${sql.identifier(table)} t where id::text = ${id}`);
    out.set(key, r.rows[0] ? json(r.rows[0].row) : "(deleted)");
  }
  return out;
}

// --- What inputs are made of ---

const uuidArb = fc.uuid();
const NASTY_TEXT = [
  "",
  " ",
  "\u0000",
  "nul\u0000inside",
  "\ud800",
  "lone\udc00low",
  "pair\ud83d\ude00ok",
  "%",
  "_%\\",
  "' or 1=1 --",
  "../../etc/passwd",
  "null",
  "NaN",
  "-1",
  "1e309",
  "<script>alert(1)</script>",
  "e\u0301",
  "x".repeat(64),
  "x".repeat(300),
  "10.0.0.0/8",
  "::/0",
  "http://127.0.0.1:1/",
];
const textArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_TEXT) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.constant("y".repeat(70_000)) },
);
const numberArb = fc.oneof(
  fc.integer(),
  fc.constantFrom(
    0,
    -1,
    1,
    2 ** 31,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 53,
    Number.MAX_SAFE_INTEGER + 2,
    1e308,
    -1e308,
    0.5,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ),
  fc.double(),
);
const cursorValueArb = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    0,
    -1,
    1e308,
    2 ** 31,
    "",
    "\u0000",
    "x",
    { d: "garbage" },
    { d: "99999-01-01T00:00:00Z" },
    { d: 5 },
    { d: "2020-01-01T00:00:00.000Z", x: 1 },
    [],
    {},
  ),
  fc.date({ noInvalidDate: true }).map((d) => ({ d: d.toISOString() })),
  fc.string({ maxLength: 12 }),
  fc.integer(),
);
const cursorArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }).map(b64),
  fc.tuple(cursorValueArb, fc.oneof(uuidArb, fc.constantFrom<unknown>("not-a-uuid", 5, null, "\u0000"))).map(b64),
  fc.tuple(cursorValueArb, uuidArb, fc.anything({ maxDepth: 0 })).map(b64),
  fc.constantFrom("%%%", "W10", "bnVsbA", Buffer.from("[1,").toString("base64url")),
);

/** A value to put in a field: anything, weighted towards what breaks things. `ids`/`slugs` are the caller's targets. */
function valueArb(ids: string[], slugs: string[]) {
  return fc.oneof(
    { weight: 4, arbitrary: textArb },
    { weight: 2, arbitrary: numberArb },
    { weight: 3, arbitrary: ids.length ? fc.oneof(uuidArb, fc.constantFrom(...ids)) : uuidArb },
    { weight: 1, arbitrary: fc.constantFrom("not-a-uuid", "00000000-0000-0000-0000-000000000000", "1") },
    { weight: 2, arbitrary: cursorArb },
    { weight: 1, arbitrary: fc.constantFrom(...slugs) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(true, false, null, undefined, [], {}) },
    { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
    { weight: 1, arbitrary: fc.array(ids.length ? fc.oneof(uuidArb, fc.constantFrom(...ids)) : uuidArb, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

/** Paths (key lists) of every value inside `v`, objects and arrays included. */
function pathsOf(v: unknown, at: string[] = [], out: string[][] = []): string[][] {
  out.push(at);
  if (v && typeof v === "object" && !(v instanceof Date) && at.length < 4) for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

type Edit = { how: "replace" | "remove" | "add"; pick: number; key: string; value: unknown };
const EXTRA_KEYS = [
  "cursor",
  "limit",
  "dir",
  "sort",
  "q",
  "id",
  "ids",
  "tenant",
  "name",
  "state",
  "tenantId",
  "userId",
  "poolId",
  "vpcId",
  "subnetId",
  "volumeId",
  "role",
  "__proto__",
  "constructor",
];

/** Sets an own property, as JSON.parse would even for "__proto__" (an assignment would change the prototype). */
const own = (o: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

function applyEdits(base: unknown, edits: Edit[]): unknown {
  let input: unknown = structuredClone(base);
  for (const e of edits) {
    const paths = pathsOf(input);
    const path = paths[e.pick % paths.length]!;
    if (path.length === 0) {
      if (e.how === "replace") input = e.value;
      else if (e.how === "add" && input && typeof input === "object") own(input as Record<string, unknown>, e.key, e.value);
      else if (e.how === "add" && input === undefined) input = { [e.key]: e.value };
      continue;
    }
    const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], input) as Record<string, unknown>;
    const key = path[path.length - 1]!;
    if (e.how === "remove") delete parent[key];
    else if (e.how === "replace") parent[key] = e.value;
    else if (typeof parent[key] === "object" && parent[key] !== null) own(parent[key] as Record<string, unknown>, e.key, e.value);
    else own(parent, e.key, e.value);
  }
  return input;
}

function inputArb(base: unknown, ids: string[], slugs: string[]): fc.Arbitrary<unknown> {
  const edit = fc.record({
    how: fc.constantFrom<Edit["how"]>("replace", "replace", "remove", "add"),
    pick: fc.nat(),
    key: fc.constantFrom(...EXTRA_KEYS),
    value: valueArb(ids, slugs),
  });
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(base) },
    { weight: 8, arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => applyEdits(base, edits)) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  );
}

describe("API fuzz: no 5xx, nothing of the other tenant", () => {
  let fx: Fixtures;
  let a: Seeded;
  let b: Seeded;
  const started = Date.now();
  let refusals = 0;
  let calls = 0;
  /** Other-tenant ids a tenant's callers typed into an input (e.g. as a name): from then on they are its own data. */
  const planted = new Set<string>();

  beforeAll(async () => {
    fx = await makeFixtures(useTestDb());
    await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: "fuzz-test", schedules: false });
    a = await seedTenant(fx, fx.tenant, fx.principals.tenantMember.userId);
    b = await seedTenant(fx, fx.otherTenant, fx.principals.otherTenantMember.userId);
  }, 120_000);
  afterAll(async () => {
    console.info(`API fuzz: ${calls} calls (${refusals} refused with 4xx) in ${((Date.now() - started) / 1000).toFixed(1)} s, FUZZ_SEED=${SEED}`);
    await stopEngine();
  });

  /** The tenant whose objects `role` works on (fixtures are built for it), and the one it must never see. */
  const sides = (role: Role): { fx: Fixtures; mine?: Seeded; theirs?: Seeded } => {
    if (role === "tenantAdmin" || role === "tenantMember") return { fx, mine: a, theirs: b };
    // The other tenant's admin works on its own tenant (so its calls get past authorization too) and probes ours.
    if (role === "otherTenantMember") return { fx: { ...fx, tenant: fx.otherTenant, otherTenant: fx.tenant }, mine: b, theirs: a };
    return { fx };
  };

  /** Whether `role`'s calls get past authorization to the input (so they deserve the full number of runs). */
  const authorized = (path: string, role: Role) => {
    const expect = authzTable[path]!.expect[role === "otherTenantMember" ? "tenantAdmin" : role];
    return expect !== "UNAUTHORIZED" && expect !== "NOT_FOUND" && expect !== "FORBIDDEN";
  };

  let pairsLeft = procedures.flatMap((p) => roles.map((r) => [p, r] as const)).filter(([p, r]) => authorized(p, r)).length;
  let deadline = 0; // set when the first pair starts
  /** The time cap of the next authorized pair: an equal share of what is left of the budget. Refused pairs end on numRuns. */
  const capFor = (path: string, role: Role) => {
    if (!authorized(path, role)) return 5 * MIN_PAIR_MS;
    deadline ||= Date.now() + BUDGET_MS;
    return Math.max(MIN_PAIR_MS, Math.floor((deadline - Date.now()) / Math.max(1, pairsLeft--)));
  };

  it("has procedures to fuzz", () => {
    expect(procedures.length).toBeGreaterThan(100);
  });

  for (const path of procedures) {
    it(`${path}`, async () => {
      const row = authzTable[path]!;
      const [router, proc] = path.split(".") as [string, string];
      for (const role of roles) {
        const side = sides(role);
        const call = (callerAs(side.fx, role) as unknown as Record<string, Record<string, Call>>)[router]![proc]!;
        // A caller refused before its input is read needs no real fixture (they cost most of the setup time).
        let base: unknown = { tenant: side.fx.tenant.slug };
        if (authorized(path, role)) {
          try {
            base = await row.input(side.fx, role);
          } catch {
            // a fixture that cannot be made any more (e.g. no free disk left): fuzz from the bare tenant
          }
        }
        // The caller's targets: the ids of its own valid input and, for a tenant caller, the other tenant's.
        const ids = [...new Set([...json(base).matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]))];
        if (side.theirs) ids.push(...side.theirs.ids.slice(0, 40));
        const slugs = [fx.tenant.slug, fx.otherTenant.slug, "no-such-tenant"];
        const forbidden = side.theirs ? [side.theirs.marker, ...side.theirs.ids] : [];
        const pairSeed = SEED ^ hashOf(`${path} ${role}`);

        const property = fc.asyncProperty(inputArb(base, ids, slugs), async (input) => {
          calls++;
          let shown: unknown;
          try {
            shown = await call(input);
          } catch (e) {
            if (!isTrpcError(e)) throw new Error(`${path} as ${role} threw a non-tRPC error: ${String(e)}`);
            const status = getHTTPStatusCodeFromError(e);
            if (status >= 500) {
              const cause = e.cause instanceof Error ? `${e.cause.stack ?? e.cause.message}` : String(e.cause);
              throw new Error(`${path} as ${role} answered ${status} ${e.code}: ${e.message}\ncause: ${cause}`);
            }
            refusals++;
            shown = { code: e.code, message: e.message };
          }
          if (forbidden.length) {
            const out = json(shown);
            const asked = json(input);
            for (const f of forbidden) if (asked.includes(f)) planted.add(`${side.mine!.tenant.id}/${f}`);
            const leaked = forbidden.filter((f) => out.includes(f) && !planted.has(`${side.mine!.tenant.id}/${f}`));
            if (leaked.length) throw new Error(`${path} as ${role} showed the other tenant's ${leaked.join(", ")}: ${out.slice(0, 2000)}`);
          }
        });
        const details = await fc.check(property, {
          seed: pairSeed,
          numRuns: authorized(path, role) ? RUNS_AUTHORIZED : RUNS_REFUSED,
          plugins: [fc.interruptAfterTimeLimit(capFor(path, role))],
        });
        // Out of time before a first run (a slow machine) is not a failure; a counterexample is.
        if (details.failed && details.counterexample) {
          const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
          throw new Error(
            `API fuzz failed (reproduce: FUZZ_SEED=${SEED} npx vitest run --project server server/api/fuzz.test.ts -t '${path}'; fast-check seed ${pairSeed}):\n${cause}\n\n${fc.defaultReportMessage(details)}`,
          );
        }
      }
    });
  }

  it("left every seeded row of both tenants as it was", async () => {
    for (const seeded of [a, b]) {
      const now = await rowsNow(fx, seeded);
      const changed = [...seeded.rows].filter(([k, v]) => now.get(k) !== v).map(([k]) => k);
      expect(changed, `rows of tenant ${seeded.tenant.slug} changed by the fuzz run`).toEqual([]);
    }
  });
});
