// HTTP entry of the tRPC API (fetch adapter). Oversized bodies are refused before parsing.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { logger } from "@/server/lib/log";

const MAX_BODY = 1024 * 1024;

function handler(req: Request) {
  const len = Number(req.headers.get("content-length") ?? 0);
  if (len > MAX_BODY)
    return Response.json(
      { error: { message: `Request body is ${len} bytes; the limit is ${MAX_BODY}.`, code: "PAYLOAD_TOO_LARGE" } },
      { status: 413 },
    );
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createContext({ headers: req.headers }),
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") logger.error({ err: error.cause ?? error, path }, "tRPC procedure failed");
    },
  });
}

export { handler as GET, handler as POST };
