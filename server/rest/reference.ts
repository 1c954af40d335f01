// The readable API reference at /api/v1/docs: one page rendered from the OpenAPI document (so it cannot disagree
// with it) — every operation grouped by resource, with its parameters, body fields, success response and errors.
import { openApiDocument } from "./openapi";

type Json = Record<string, unknown>;

const esc = (s: unknown) =>
  String(s ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

/** A compact type label for a JSON Schema ("string (uuid)", "integer 1–200", "enum: a | b", "array of …"). */
function typeOf(s: Json | undefined): string {
  if (!s) return "any";
  if (typeof s.$ref === "string") return s.$ref.split("/").pop()!;
  if (Array.isArray(s.enum)) return `one of ${(s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ")}`;
  if (Array.isArray(s.anyOf))
    return (s.anyOf as Json[])
      .map(typeOf)
      .filter((t, i, a) => a.indexOf(t) === i)
      .join(" or ");
  if (s.type === "array") return `array of ${typeOf(s.items as Json)}`;
  const bits = [String(s.type ?? "any")];
  if (s.format) bits.push(`(${s.format})`);
  if (s.minimum !== undefined || s.maximum !== undefined) bits.push(`${s.minimum ?? ""}–${s.maximum ?? ""}`);
  if (s.maxLength !== undefined) bits.push(`≤ ${s.maxLength} chars`);
  if (s.default !== undefined) bits.push(`default ${JSON.stringify(s.default)}`);
  return bits.join(" ");
}

export function referencePage(): Response {
  const doc = openApiDocument() as { info: Json; paths: Record<string, Record<string, Json>>; tags: { name: string }[] };
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags as string[])[0]!;
      const params = (op.parameters as Json[]) ?? [];
      const body = ((op.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined;
      const bodySchema = body?.schema as Json | undefined;
      const required = new Set((bodySchema?.required as string[]) ?? []);
      const [okStatus, ok] = Object.entries(op.responses as Record<string, Json>)[0]!;
      const okSchema = ((ok.content as Json)["application/json"] as Json).schema as Json;
      const rows = [
        ...params.map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}${p.required ? ", required" : ""}</td><td>${esc(typeOf(p.schema as Json))}</td><td>${esc(p.description ?? "")}</td></tr>`,
        ),
        ...Object.entries((bodySchema?.properties as Record<string, Json>) ?? {}).map(
          ([name, s]) =>
            `<tr><td><code>${esc(name)}</code></td><td>body${required.has(name) ? ", required" : ""}</td><td>${esc(typeOf(s))}</td><td>${esc(s.description ?? "")}</td></tr>`,
        ),
      ].join("");
      const html = `<section class="op" id="${esc(op.operationId)}">
  <h3><span class="m m-${esc(method)}">${esc(method.toUpperCase())}</span> <code>/api/v1${esc(path)}</code></h3>
  <p>${esc(op.summary)} <a class="anchor" href="#${esc(op.operationId)}">${esc(op.operationId)}</a></p>
  ${rows ? `<table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Notes</th></tr></thead><tbody>${rows}</tbody></table>` : ""}
  <p class="resp">${esc(okStatus)} → <code>${esc(typeOf(okSchema))}</code>; errors are <code>Problem</code> (RFC 9457) with status 400, 401, 403, 404, 409, 412 or 422.</p>
</section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const nav = [...byTag.keys()].map((t) => `<li><a href="#tag-${esc(t)}">${esc(t)}</a></li>`).join("");
  const body = [...byTag.entries()].map(([t, ops]) => `<h2 id="tag-${esc(t)}">${esc(t)}</h2>${ops.join("\n")}`).join("\n");
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Anvil API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;display:flex;color:#111;background:#fff}
nav{position:sticky;top:0;height:100vh;overflow:auto;padding:1rem 1.5rem;border-right:1px solid #ddd;min-width:12rem}
main{padding:1rem 2rem;max-width:72rem}
code{font:13px ui-monospace,monospace}
table{border-collapse:collapse;margin:.5rem 0;width:100%}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #eee;padding:.5rem 0}.m{display:inline-block;min-width:4.5rem;font:bold 12px ui-monospace,monospace;padding:.1rem .4rem;border-radius:4px;background:#eee}
.m-get{background:#dbeafe}.m-post{background:#dcfce7}.m-patch{background:#fef9c3}.m-delete{background:#fee2e2}.anchor{color:#666;font-size:12px}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}td,th,nav{border-color:#333}.m{color:#111}a{color:#93c5fd}}
</style></head><body>
<nav aria-label="Resources"><p><strong>Anvil API v1</strong></p><p><a href="/api/v1/openapi.json">openapi.json</a></p><ul>${nav}</ul></nav>
<main><h1>Anvil API reference</h1><p>${esc(doc.info.description)}</p>
<p>Example: <code>curl -H "Authorization: Bearer $ANVIL_TOKEN" $ANVIL_URL/api/v1/tenants/acme/instances</code></p>
${body}</main></body></html>`;
  return new Response(page, { status: 200, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}
