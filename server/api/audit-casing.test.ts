// One casing for audit actions and target types: snake_case words, "<resource>.<verb>" ("security_group.add_rule").
// Scans every audit() call site's literal action and target type, and runs migration 0019 (which renamed the old
// camelCase rows) against rows written the old way.
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useTestDb } from "@/test/db";

const SNAKE_ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const SNAKE_TYPE = /^[a-z][a-z0-9_]*$/;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

describe("audit action casing", () => {
  it("every literal action and target type written by the server is snake_case", () => {
    const bad: string[] = [];
    let seen = 0;
    for (const file of sources(path.resolve(__dirname, ".."))) {
      const text = fs.readFileSync(file, "utf8");
      if (!text.includes("audit(")) continue;
      for (const m of text.matchAll(/\baction: (?:input\.\w+ \? )?"([^"]+)"(?: : "([^"]+)")?/g)) {
        for (const a of [m[1], m[2]].filter(Boolean) as string[]) {
          seen++;
          if (!SNAKE_ACTION.test(a) && a.includes(".")) bad.push(`${path.relative(process.cwd(), file)}: action "${a}"`);
        }
      }
      for (const m of text.matchAll(/\btargetType: "([^"]+)"/g)) {
        seen++;
        if (!SNAKE_TYPE.test(m[1])) bad.push(`${path.relative(process.cwd(), file)}: targetType "${m[1]}"`);
      }
    }
    expect(seen).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });

  it("migration 0019 renames rows written the old way and leaves the others", async () => {
    const db = useTestDb();
    const file = fs.readFileSync(path.resolve(__dirname, "../../db/migrations/0019_audit-action-casing.sql"), "utf8");
    const statements = file
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    const tag = `casing-${Math.random().toString(36).slice(2, 8)}`;
    const rows: [string, string][] = [
      ["securityGroup.addRule", "securityGroup"],
      ["securityGroup.create", "securityGroup"],
      ["diskPool.delete", "diskPool"],
      ["logicalPool.update", "logicalPool"],
      ["providerNetwork.create", "providerNetwork"],
      ["tenant.networkPolicy", "tenant"],
      ["api_token.create", "api_token"],
    ];
    await db
      .transaction(async (tx) => {
        for (const [action, type] of rows) {
          await tx.execute(sql`insert into audit_events (action, target_type, target_name) values (${action}, ${type}, ${tag})`);
        }
        for (const s of statements) await tx.execute(sql.raw(s));
        const after = await tx.execute<{ action: string; target_type: string }>(
          sql`select action, target_type from audit_events where target_name = ${tag} order by action`,
        );
        expect(after.rows.map((r) => `${r.action} ${r.target_type}`)).toEqual([
          "api_token.create api_token",
          "disk_pool.delete disk_pool",
          "logical_pool.update logical_pool",
          "provider_network.create provider_network",
          "security_group.add_rule security_group",
          "security_group.create security_group",
          "tenant.network_policy tenant",
        ]);
        tx.rollback();
      })
      .catch((e) => {
        if (!/rollback/i.test(String(e?.message ?? e))) throw e;
      });
  });
});
