// Keeps openapi.yaml honest: every route the service serves is documented and every documented
// operation is served, so the driver's authors can trust the document.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { StorageModel } from "./model";
import { buildRoutes } from "./server";

it("documents exactly the routes the service serves", () => {
  const yaml = readFileSync(fileURLToPath(new URL("./openapi.yaml", import.meta.url)), "utf8");
  const documented: string[] = [];
  let path = "";
  for (const line of yaml.split("\n")) {
    const p = /^ {2}(\/\S*):\s*$/.exec(line);
    if (p) path = p[1];
    const m = /^ {4}(get|post|put|patch|delete):/.exec(line);
    if (m && path) documented.push(`${m[1].toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
    if (/^components:/.test(line)) path = "";
  }
  const model = new StorageModel({ nodes: 1, disksPerNode: 1, diskSizeBytes: 1, media: "ssd", targetAddress: "127.0.0.1", nvmePort: 4420, iscsiPort: 3260 });
  const served = buildRoutes(model, { errorRate: 0, latencyMs: 0, failNext: 0, phase: "request" }).map((r) => `${r.method} /${r.segments.join("/")}`);
  served.push("GET /healthz");
  expect(documented.sort()).toEqual(served.sort());
});
