// HTTP entry of the public REST API v1 (server/rest/): resource routes over the same tRPC procedures the web app uses,
// the OpenAPI document at /api/v1/openapi.json and the reference page at /api/v1/docs.
import { handleRestRequest } from "@/server/rest/handler";
import { referencePage } from "@/server/rest/reference";

export const dynamic = "force-dynamic";

function handler(req: Request) {
  const path = new URL(req.url).pathname;
  if (req.method === "GET" && (path === "/api/v1/docs" || path === "/api/v1/docs/")) return referencePage();
  return handleRestRequest(req);
}

export { handler as DELETE, handler as GET, handler as PATCH, handler as POST, handler as PUT };
