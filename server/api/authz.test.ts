// Authorization coverage: every procedure × {anonymous, operator admin, operator viewer, tenant admin,
// tenant member, member of another tenant}. Fails when a procedure exists without a row in authz-table.ts.
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { useEngine } from "@/test/engine";
import { callerAs, roles } from "@/test/fixtures";
import { authzTable, type Outcome } from "@/test/authz-table";
import { appRouter } from "./root";

const procedures = Object.keys((appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures).sort();

describe("authorization coverage", () => {
  // Mutations that start work enqueue it on the real engine.
  const fx = useEngine("authz-test");

  it("has a row for every procedure and a procedure for every row", () => {
    const missing = procedures.filter((p) => !authzTable[p]);
    const stale = Object.keys(authzTable).filter((p) => !procedures.includes(p));
    expect(missing, "procedures without a row in test/authz-table.ts").toEqual([]);
    expect(stale, "rows for procedures that no longer exist").toEqual([]);
  });

  for (const path of procedures) {
    const row = authzTable[path];
    if (!row) continue;
    it.each(roles)(`${path} as %s`, async (role) => {
      const caller = callerAs(fx, role) as unknown as Record<string, Record<string, (i: unknown) => Promise<unknown>>>;
      const [router, proc] = path.split(".") as [string, string];
      const input = await row.input(fx, role);
      let got: Outcome | string;
      try {
        await caller[router]![proc]!(input);
        got = "ok";
      } catch (e) {
        got = e instanceof TRPCError ? e.code : `threw ${String(e)}`;
        if (got !== row.expect[role]) got = `${got} (${(e as Error).message})`;
      }
      expect(got).toBe(row.expect[role]);
    });
  }
});
