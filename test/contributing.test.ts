// CONTRIBUTING.md's resource index stays true: every path it names exists (relative to the column's folder).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const doc = fs.readFileSync(path.join(root, "CONTRIBUTING.md"), "utf8");
const section = doc.split("## Resource index")[1]?.split("\n## ")[0] ?? "";
const rows = section.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Resource") && !l.startsWith("|---"));
// Folders of the columns after the resource's name: router, schema, validation (full path), components (full path),
// pages, E2E. A cell's first path may be written in full (it then starts with a top-level folder).
const bases = ["server/api/routers", "db/schema", "", "", "app", "e2e"];

function resolve(cell: string, base: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).map((p) => (/^(server|db|components|app|e2e|test)\//.test(p) || !base ? p : `${base}/${p}`));
}

describe("CONTRIBUTING.md resource index", () => {
  it("lists the resources", () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
  });
  it("names only paths that exist", () => {
    const missing: string[] = [];
    for (const row of rows) {
      const cells = row
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim());
      expect(cells, row).toHaveLength(7);
      cells.slice(1).forEach((cell, i) => {
        for (const p of resolve(cell, bases[i]!)) if (!fs.existsSync(path.join(root, p))) missing.push(`${cells[0]}: ${p}`);
      });
    }
    expect(missing).toEqual([]);
  });
});
