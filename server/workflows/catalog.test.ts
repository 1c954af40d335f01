// The workflow catalog keeps its promises: names are unique and every entry is defined by the registry a process hands
// the engine (and nothing outside it runs under a catalog-less name), arguments are type-checked where workflows are
// defined and started (the @ts-expect-error lines below fail `tsc` the day a swapped argument compiles), step lists
// live only in the catalog, and the workflow modules form no import cycle (the engine is handed the registry).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Tx } from "@/db/client";
import { catalog, CREATE_STEPS, schedules } from "./catalog";
import { defineWorkflow } from "./engine";
import { workflows } from "./registry";
import { enqueue, startOperation } from "./start";

/** Never called: type tests only. `tsc` (npm test's typecheck) fails if any of these compiles. */
async function typeTests(tx: Tx) {
  // @ts-expect-error instance.backup takes (instanceId, opId, imageName, includeDataVolumes): two arguments swapped
  await startOperation(tx, catalog.instanceBackup, { target: {}, createdBy: null, args: (opId) => ["i", opId, true, "name"] });
  // @ts-expect-error an operation id is branded: the instance id and the operation id cannot trade places
  await startOperation(tx, catalog.instanceCreate, { target: {}, createdBy: null, args: (opId) => [opId, "instance"] });
  // @ts-expect-error a missing argument
  await startOperation(tx, catalog.instanceRebuild, { target: {}, createdBy: null, args: (opId) => ["i", opId, "image"] });
  // @ts-expect-error node.power takes (nodeId, action, opId, actorEmail): the action is a PowerAction, not any string
  await startOperation(tx, catalog.nodePower, { target: {}, createdBy: null, args: (opId) => ["n", "explode", opId, null] });
  // @ts-expect-error sync.shard takes (shard, spreadMs), both numbers
  await enqueue(catalog.syncShard, ["0", 100]);
  // @ts-expect-error webhook.deliver takes one delivery id
  await enqueue(catalog.webhookDeliver, []);
  // @ts-expect-error a workflow body whose parameters disagree with its entry's arguments (swapped)
  defineWorkflow(catalog.instanceAttachVolume, async (_instanceId: string, _volumeId: number, _opId: string) => undefined);
  // The right ones compile.
  await startOperation(tx, catalog.instanceBackup, { target: {}, createdBy: null, args: (opId) => ["i", opId, "name", true] });
  await enqueue(catalog.syncShard, [0, 100]);
}
void typeTests;

/** Static and dynamic imports between the project's own files, resolved to paths relative to the root. */
function importGraph(root: string, dirs: string[]): Map<string, string[]> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
      const rel = path.join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")) files.push(rel);
    }
  };
  for (const d of dirs) walk(d);
  const resolve = (from: string, spec: string): string | null => {
    let base: string;
    if (spec.startsWith("@/")) base = spec.slice(2);
    else if (spec.startsWith(".")) base = path.join(path.dirname(from), spec);
    else return null;
    for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts")])
      if (fs.existsSync(path.join(root, c)) && fs.statSync(path.join(root, c)).isFile()) return c;
    return null;
  };
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const src = fs.readFileSync(path.join(root, f), "utf8");
    const specs = [
      ...src.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"|(?:^|\n)\s*import\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g),
    ].map((m) => m[1] ?? m[2] ?? m[3]!);
    graph.set(f, [...new Set(specs.map((s) => resolve(f, s)).filter((x): x is string => !!x))]);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan): each is an import cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe("the workflow catalog", () => {
  it("names every workflow once, and the registry defines exactly the catalog's workflows and schedules", () => {
    const names = Object.values(catalog).map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(workflows.workflows.map((w) => w.entry.name).sort()).toEqual([...names].sort());
    expect(workflows.schedules.map((s) => s.name).sort()).toEqual(
      Object.values(schedules)
        .map((s) => s.schedule)
        .sort(),
    );
    // Each definition is its catalog entry's (not a look-alike with the same name).
    for (const w of workflows.workflows) expect(Object.values(catalog)).toContain(w.entry);
  });

  it("keeps the names runs are stored under", () => {
    // A rename strands every run recorded under the old name: this list changes only with a migration of the engine's tables.
    expect(Object.values(catalog).map((e) => e.name)).toEqual([
      "instance.create",
      "instance.delete",
      "instance.power",
      "instance.attach_volume",
      "instance.detach_volume",
      "instance.backup",
      "instance.rebuild",
      "instance.rescue",
      "instance.unrescue",
      "instance.recover",
      "instance.recovery_check",
      "instance.nic_attach",
      "instance.nic_detach",
      "instance.nic_move",
      "node.enroll_bulk",
      "node.inspect",
      "node.power",
      "dpu.firmware_update",
      "node.virtual_media_boot",
      "rollout.run",
      "sync.shard",
      "webhook.deliver",
      "rules.reconcile",
      "overlay.reconcile",
    ]);
  });

  it("derives an operation's kind and steps from its arguments where they depend on them", () => {
    const op = "00000000-0000-0000-0000-000000000000" as never;
    expect(catalog.instancePower.kind?.(["i", op, "stop", true])).toBe("instance.stop");
    expect(catalog.instancePower.steps(["i", op, "stop", true])).toEqual(["power off", "mark stopped"]);
    expect(catalog.instancePower.steps(["i", op, "stop", false])).toEqual(["shut down", "mark stopped"]);
    expect(catalog.instanceBackup.steps(["i", op, "img", true])).toEqual(["snapshot system disk", "make image", "snapshot data volumes"]);
    expect(catalog.instanceCreate.steps(["i", op])).toEqual(CREATE_STEPS);
    expect(catalog.instanceCreate.kind).toBeUndefined();
  });

  it("is the only place step lists and workflow names are spelled out for starting work", () => {
    const root = process.cwd();
    const graph = importGraph(root, ["server", "db", "domain", "sim", "test", "components", "app"]);
    const offenders: string[] = [];
    for (const f of graph.keys()) {
      const src = fs.readFileSync(path.join(root, f), "utf8");
      if (/\benqueue\(\s*["'`]/.test(src)) offenders.push(`${f}: enqueue by a string name`);
      if (/\bcreateOperation\(/.test(src)) offenders.push(`${f}: createOperation (use startOperation)`);
      if (
        f !== "server/workflows/catalog.ts" &&
        /"read inventory",\s*"discover DPUs"|"power off",\s*"detach from DPU"|"reserve node",\s*"allocate address"/.test(src)
      )
        offenders.push(`${f}: a step list outside the catalog`);
    }
    expect(offenders).toEqual([]);
  });

  it("leaves no import cycle among the workflow modules (the engine imports no workflow: it is handed the registry)", () => {
    const graph = importGraph(process.cwd(), ["server", "db", "domain", "sim", "test"]);
    expect(
      graph
        .get("server/workflows/engine.ts")
        ?.filter((f) => f.startsWith("server/workflows/") && f !== "server/workflows/catalog.ts" && f !== "server/workflows/replicas.ts"),
    ).toEqual([]);
    const touching = cycles(graph).filter((c) => c.some((f) => f.startsWith("server/workflows/")));
    expect(touching).toEqual([]);
  });
});
