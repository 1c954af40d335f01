// A real HTTP server for tests: the front door of server.ts (server/front-door.ts) in front of the real route
// handlers of app/api (auth, tRPC, image upload), called the way Next calls them (a fetch Request whose body
// streams from the IncomingMessage, aborted when the connection closes; headers already set on the response
// are kept). Other paths answer with a small HTML page standing in for Next's pages: the front door sets its
// headers before any handler runs, so what a page gets is what this stand-in gets.
import { EventEmitter, once } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as authRoute from "@/app/api/auth/[...all]/route";
import * as bmcEventsRoute from "@/app/api/bmc-events/[token]/route";
import * as uploadRoute from "@/app/api/images/upload/route";
import * as trpcRoute from "@/app/api/trpc/[trpc]/route";
import { createFrontDoor, type FrontDoorOptions } from "@/server/front-door";

export interface AppServer {
  url: string;
  port: number;
  server: Server;
  /** Emits "settled" with { method, path, status } when a route handler has returned its Response. */
  events: EventEmitter;
  close(): Promise<void>;
}

function toRequest(req: IncomingMessage, res: ServerResponse): Request {
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const method = req.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : (req as unknown as BodyInit);
  return new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, { method, headers, body, signal: abort.signal, duplex: "half" } as RequestInit);
}

async function send(res: ServerResponse, response: Response) {
  if (res.writableEnded || res.destroyed) return;
  res.statusCode = response.status;
  for (const c of response.headers.getSetCookie()) res.appendHeader("set-cookie", c);
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie" && k !== "content-length" && res.getHeader(k) === undefined) res.setHeader(k, v);
  });
  if (response.body) for await (const chunk of response.body) res.write(chunk);
  res.end();
}

type RouteFn = (req: Request) => Promise<Response> | Response;

function route(method: string, path: string): RouteFn | null {
  const pick = (m: Record<string, unknown>) => (m[method] as RouteFn | undefined) ?? null;
  if (path.startsWith("/api/auth/")) return pick(authRoute);
  if (path.startsWith("/api/trpc/")) return pick(trpcRoute);
  if (path === "/api/images/upload") return pick(uploadRoute);
  if (path.startsWith("/api/bmc-events/")) return pick(bmcEventsRoute);
  return null;
}

export async function startAppServer(opts: Omit<FrontDoorOptions, "handle"> = {}): Promise<AppServer> {
  const events = new EventEmitter();
  const server = createFrontDoor({
    ...opts,
    async handle(req, res) {
      const method = req.method ?? "GET";
      const path = (req.url ?? "/").split("?")[0]!;
      if (!path.startsWith("/api/")) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><html><body>page</body></html>");
        return;
      }
      const fn = route(method, path);
      if (!fn) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"Not found.","code":"NOT_FOUND"}}');
        return;
      }
      const response = await fn(toRequest(req, res));
      events.emit("settled", { method, path, status: response.status });
      await send(res, response);
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    events,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => {});
    },
  };
}
