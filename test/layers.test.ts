// The layer rules of the tree, checked on every import of every source file (CONTRIBUTING.md "Layers"), so a rule
// broken by a new import fails here with the file and the import, not in a reviewer's reading:
//  - domain/ is client-safe: no server/, no database client or schema, no drizzle, no tRPC, no server-only;
//  - db/ and components/ import nothing from server/ but the router's type;
//  - nothing in server/ imports the lab (sim/) or the test kit (test/) outside tests — the lab composes the product;
//  - a router does not import another router (shared code lives in server/services/);
//  - workflows import nothing from server/api/.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Import {
  /** The importing file, repo-relative. */
  file: string;
  /** The specifier as written. */
  spec: string;
  /** What it names, repo-relative without extension; null for a package. */
  target: string | null;
  typeOnly: boolean;
}

const IMPORT_RE = /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every static and dynamic import of a source text (comments removed first so examples in them do not count). */
function importsOf(file: string, text: string): Import[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const out: Import[] = [];
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[3] ?? m[4]!;
    let target: string | null = null;
    if (spec.startsWith("@/")) target = spec.slice(2);
    else if (spec.startsWith("./") || spec.startsWith("../")) target = posix.normalize(posix.join(posix.dirname(file), spec));
    else if (/^(server|sim|test|db|domain|components)\//.test(spec)) target = spec;
    if (target) target = target.replace(/\.(ts|tsx|js|mjs)$/, "").replace(/\/index$/, "");
    out.push({ file, spec, target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

const isTest = (f: string) => /\.test\.tsx?$/.test(f);
const under = (p: string | null, dir: string) => p !== null && (p === dir || p.startsWith(`${dir}/`));
const ROUTER_TYPE = "server/api/root";

/** The rule an import breaks, or null. */
function violation(i: Import): string | null {
  const { file, target, spec } = i;
  if (under(file, "domain") && !isTest(file)) {
    if (under(target, "server")) return "domain/ imports server code";
    if (target !== null && under(target, "db") && !under(target, "db/validation")) return "domain/ imports the database";
    if (/^(drizzle-orm|pg|@trpc\/|server-only$)/.test(spec)) return `domain/ imports ${spec}`;
  }
  if ((under(file, "db") || under(file, "components")) && !isTest(file) && under(target, "server")) {
    if (!(target === ROUTER_TYPE && i.typeOnly)) return `${file.split("/")[0]}/ imports server code other than the router type`;
  }
  if (under(file, "server") && !isTest(file) && (under(target, "sim") || under(target, "test"))) return "server/ imports the lab or the test kit";
  if (under(file, "server/api/routers") && !isTest(file) && under(target, "server/api/routers") && target !== file.replace(/\.tsx?$/, ""))
    return "a router imports another router";
  if (under(file, "server/workflows") && !isTest(file) && under(target, "server/api")) return "a workflow imports from server/api";
  return null;
}

function sourceFiles(): string[] {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts", "*.tsx"], { cwd: root, encoding: "utf8" })
    .split("\n")
    .filter((f) => f && existsSync(join(root, f)));
}

describe("layers", () => {
  it("the checker sees each kind of violation (so a rule cannot pass by never matching)", () => {
    const bad: [string, string][] = [
      ["domain/x.ts", 'import { getDb } from "@/db/client";'],
      ["domain/x.ts", 'import { audit } from "../server/services/audit";'],
      ["domain/x.ts", 'import { TRPCError } from "@trpc/server";'],
      ["components/x/y.tsx", 'import { operatorCan } from "@/server/domain/roles";'],
      ["components/x/y.tsx", 'import { appRouter } from "@/server/api/root";'],
      ["db/validation/x.ts", 'const m = await import("@/server/lib/secrets");'],
      ["server/x.ts", 'import { startLab } from "@/sim/lab";'],
      ["server/storage/x.ts", 'import type { Fixtures } from "../../test/fixtures";'],
      ["server/api/routers/a.ts", 'import { tenantVpc } from "./vpcs";'],
      ["server/workflows/x.ts", 'import { randomMac } from "@/server/api/routers/ports";'],
    ];
    for (const [file, text] of bad) expect(importsOf(file, text).map(violation), `${file}: ${text}`).not.toContain(null);
    const fine: [string, string][] = [
      ["domain/x.ts", 'import { enrollSchema } from "@/db/validation/nodes";'],
      ["components/x/y.tsx", 'import type { AppRouter } from "@/server/api/root";'],
      ["server/x.test.ts", 'import { startLab } from "@/sim/lab";'],
      ["server/api/routers/a.ts", 'import { audit } from "@/server/services/audit";'],
      ["server/workflows/x.ts", 'import { randomMac } from "@/server/services/ports"; // from "@/server/api/routers/ports"'],
    ];
    for (const [file, text] of fine) expect(importsOf(file, text).map(violation), `${file}: ${text}`).toEqual([null]);
  });

  it("no file breaks a layer rule", () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(300);
    const broken: string[] = [];
    for (const f of files) {
      for (const i of importsOf(f, readFileSync(join(root, f), "utf8"))) {
        const why = violation(i);
        if (why) broken.push(`${f}: ${i.spec} — ${why}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
