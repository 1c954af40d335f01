// HTTP entry of the tRPC API (fetch adapter). Oversized bodies are refused before parsing.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { logTrpcError } from "@/server/api/errors";
import { appRouter } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";

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
      logTrpcError(error, path);
    },
  });
}

export { handler as GET, handler as POST };
