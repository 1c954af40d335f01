// HTTP entry of the tRPC API (fetch adapter). Body size is enforced by the front door (server/front-door.ts) on the
// bytes received; a declared oversize body is refused here too, for callers that bypass it. Batches are capped.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { logTrpcError } from "@/server/api/errors";
import { TRPC_MAX_BATCH } from "@/domain/limits";
import { appRouter } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { bodyLimitFor } from "@/server/lib/body-limit";

function refuse(status: number, code: string, message: string) {
  return Response.json({ error: { message, code } }, { status });
}

function handler(req: Request) {
  const max = bodyLimitFor("/api/trpc").bytes;
  const len = Number(req.headers.get("content-length") ?? 0);
  if (len > max) return refuse(413, "PAYLOAD_TOO_LARGE", `Request body is ${len} bytes; the limit is ${max}.`);
  const url = new URL(req.url);
  if (url.searchParams.get("batch") === "1") {
    // Counted on the raw path (a comma may come percent-encoded): decoding a malformed path would throw a 500 here;
    // tRPC answers it with 400 itself.
    const calls = url.pathname.slice("/api/trpc/".length).split(/,|%2C/i).length;
    if (calls > TRPC_MAX_BATCH)
      return refuse(400, "BAD_REQUEST", `A batch may hold at most ${TRPC_MAX_BATCH} procedure calls; this one has ${calls}. Split it into smaller batches.`);
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    maxBatchSize: TRPC_MAX_BATCH,
    createContext: () => createContext({ headers: req.headers }),
    onError({ error, path }) {
      logTrpcError(error, path);
    },
  });
}

export { handler as GET, handler as POST };
