// The OpenAPI 3.1 document of the REST API, built at start from the route table (./routes.ts), the tRPC procedures'
// own input schemas (so a field's rules are declared once, on the procedure) and the response schemas (./schemas.ts).
// Served at /api/v1/openapi.json; the reference page (/api/v1/docs) and the generated client are made from it.
import { z } from "zod";
import { appRouter } from "@/server/api/root";
import { pathParams, type RestRoute, restRoutes } from "./routes";
import * as S from "./schemas";

type Json = Record<string, unknown>;
type Procedure = { _def: { type: "query" | "mutation"; inputs: z.ZodType[] } };

export function procedureOf(name: string): Procedure {
  const p = (appRouter as unknown as { _def: { procedures: Record<string, Procedure> } })._def.procedures[name];
  if (!p) throw new Error(`REST route names procedure ${name}, which does not exist`);
  return p;
}

/** The procedure's input as one JSON Schema object (the tenant builder's `tenant` plus the procedure's own input). */
export function inputJsonSchema(procedure: string): { properties: Record<string, Json>; required: string[] } {
  const properties: Record<string, Json> = {};
  const required = new Set<string>();
  for (const input of procedureOf(procedure)._def.inputs) {
    const js = z.toJSONSchema(input, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Json;
    const inner = (js.anyOf as Json[] | undefined)?.find((x) => x.type === "object") ?? js; // .optional()/.default() wrappers
    Object.assign(properties, (inner.properties as Record<string, Json>) ?? {});
    for (const r of (inner.required as string[]) ?? []) required.add(r);
  }
  return { properties, required: [...required] };
}

/** How a route's input is split: path parameters, then query (GET/DELETE) or body (POST/PATCH). */
export function routeInput(route: RestRoute) {
  const { properties, required } = inputJsonSchema(route.procedure);
  const inPath = pathParams(route.path);
  const rest = Object.fromEntries(Object.entries(properties).filter(([k]) => !inPath.includes(k) && !(route.wrapIds && k === "ids")));
  const restRequired = required.filter((k) => k in rest);
  return { properties, inPath, rest, restRequired, inQuery: route.method === "get" || route.method === "delete" };
}

const STATUS_TEXT: Record<number, string> = { 200: "OK", 201: "Created", 202: "Accepted: long work started; poll the operation" };
const problemRef = { $ref: "#/components/schemas/Problem" };
const errors = {
  "400": { description: "Bad input (the fields are named)", content: { "application/problem+json": { schema: problemRef } } },
  "401": { description: "Not signed in: send Authorization: Bearer <API token>", content: { "application/problem+json": { schema: problemRef } } },
  "403": { description: "Not allowed for your role", content: { "application/problem+json": { schema: problemRef } } },
  "404": { description: "No such resource (or not yours)", content: { "application/problem+json": { schema: problemRef } } },
  "409": { description: "Conflict (e.g. a duplicate name)", content: { "application/problem+json": { schema: problemRef } } },
  "412": { description: "Refused by a rule (the reason says why)", content: { "application/problem+json": { schema: problemRef } } },
  "413": { description: "Request body too large", content: { "application/problem+json": { schema: problemRef } } },
  "415": { description: "The body is not JSON", content: { "application/problem+json": { schema: problemRef } } },
  "422": { description: "Idempotency-Key reused with another request", content: { "application/problem+json": { schema: problemRef } } },
};

function schemaRef(schema: z.ZodType): Json {
  const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
  if (id) return { $ref: `#/components/schemas/${id}` };
  return z.toJSONSchema(schema, { io: "output", unrepresentable: "any", target: "draft-2020-12" }) as Json;
}

let cached: Json | null = null;

export function openApiDocument(): Json {
  if (cached) return cached;
  // Touch every response schema so the registry holds it, then emit them all as components.
  void [S.problem, S.operation, S.accepted];
  for (const r of restRoutes) void r.output;
  const components = z.toJSONSchema(z.globalRegistry, {
    io: "output",
    unrepresentable: "any",
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
  }) as {
    schemas: Record<string, Json>;
  };
  for (const s of Object.values(components.schemas)) delete s.$id;
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of restRoutes) {
    const { properties, inPath, rest, restRequired, inQuery } = routeInput(route);
    const parameters: Json[] = inPath.map((name) => ({
      name,
      in: "path",
      required: true,
      schema: name === "id" && route.wrapIds ? { type: "string", format: "uuid" } : (properties[name] ?? { type: "string" }),
    }));
    if (inQuery)
      for (const [name, schema] of Object.entries(rest))
        parameters.push({
          name,
          in: "query",
          required: restRequired.includes(name),
          schema,
          ...(schema.description ? { description: schema.description } : {}),
        });
    if (route.idempotent)
      parameters.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description: "Any unique string (e.g. a UUID). Retrying with the same key within 24 h returns the first response instead of acting twice.",
        schema: { type: "string", minLength: 1, maxLength: 128 },
      });
    const op: Json = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses: {
        [String(route.status)]: { description: STATUS_TEXT[route.status], content: { "application/json": { schema: schemaRef(route.output) } } },
        ...errors,
      },
    };
    if (!inQuery && Object.keys(rest).length)
      op.requestBody = {
        required: restRequired.length > 0,
        content: { "application/json": { schema: { type: "object", properties: rest, required: restRequired, additionalProperties: false } } },
      };
    paths[route.path] ??= {};
    paths[route.path]![route.method] = op;
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Anvil API",
      version: "1.0.0",
      description:
        "Anvil's public API: the same operations, rules, messages and authorization as the web console. Authenticate with an API token " +
        "(Authorization: Bearer anv_…) made under Settings → API tokens. Lists are cursor-paginated (limit, cursor → nextCursor). Errors are " +
        "RFC 9457 problem details. Long work answers 202 with an operation to poll. Creates take an Idempotency-Key header.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ bearer: [] }],
    tags: [...new Set(restRoutes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: { schemas: components.schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An Anvil API token" } } },
  };
  return cached;
}
