// Generates the typed API client's types from the OpenAPI document (server/rest/openapi.ts) with openapi-typescript:
// `npm run api:client` writes server/rest/client/schema.d.ts. The client itself is openapi-fetch over these types
// (cli/ and the API tests use it); nothing about a route is written by hand. server/rest/rest.test.ts fails when
// the committed file differs from what the current document generates.
import fs from "node:fs";
import path from "node:path";
import { generateClientTypes } from "@/server/rest/client-gen";

const out = path.join(process.cwd(), "server/rest/client/schema.d.ts");
const text = await generateClientTypes();
fs.writeFileSync(out, text);
console.log(`wrote ${path.relative(process.cwd(), out)} (${text.length} bytes)`);
