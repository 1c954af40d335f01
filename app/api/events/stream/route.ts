// Live hardware events for the operator console: a Server-Sent Events stream that says "new events on these nodes"
// whenever any replica records some (server/live-events/browser.ts), so the Events page and a node's page refetch
// at once instead of at their next poll. It carries node ids only, never the events themselves: the pages read
// those through the events router, with its authorization. Operators only (viewer and up), as events.list.
import { createContext } from "@/server/api/trpc";
import { watchHardwareEvents } from "@/server/live-events/browser";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 25_000;

export async function GET(req: Request) {
  const ctx = await createContext({ headers: req.headers });
  if (!ctx.principal) return Response.json({ error: { message: "Sign in to continue.", code: "UNAUTHORIZED" } }, { status: 401 });
  const role = ctx.principal.tokenScope ? ctx.principal.tokenScope.platformRole : ctx.principal.platformRole;
  if (!role) return Response.json({ error: { message: "Not found.", code: "NOT_FOUND" } }, { status: 404 });
  const enc = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(enc.encode(text));
        } catch {
          stop();
        }
      };
      const watch = watchHardwareEvents((n) => send(`event: events\ndata: ${JSON.stringify(n)}\n\n`));
      const keepalive = setInterval(() => send(": keep-alive\n\n"), KEEPALIVE_MS);
      stop = () => {
        clearInterval(keepalive);
        watch.stop();
      };
      req.signal.addEventListener("abort", () => {
        stop();
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
      // The browser's EventSource retries after 2 s when the stream ends (a deploy, a lost replica). "connected" is
      // said once this process listens: from then on no event is missed (a LISTEN that fails says nothing, and the
      // pages stay on their polling).
      send("retry: 2000\n\n");
      watch.ready.then(
        () => send(": connected\n\n"),
        () => {},
      );
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
  });
}
