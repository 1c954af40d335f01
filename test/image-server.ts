// Test helper: an HTTP server on 127.0.0.1 serving files for image imports (path → bytes, or a redirect, or a
// status), so URL imports are tested against a real server. `sharedImageServer()` is one per process (the
// authorization table's fixture), unref'd so it never keeps the process alive.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Served = Buffer | { redirect: string } | { status: number } | { lie: number; bytes: Buffer };

export interface ImageServer {
  url: string;
  serve(path: string, what: Served): void;
  close(): Promise<void>;
}

export async function startImageServer(): Promise<ImageServer> {
  const files = new Map<string, Served>();
  const server: Server = createServer((req, res) => {
    const what = files.get(new URL(req.url ?? "/", "http://x").pathname);
    if (!what) return res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    if (Buffer.isBuffer(what)) return res.writeHead(200, { "content-type": "application/octet-stream", "content-length": what.length }).end(what);
    if ("redirect" in what) return res.writeHead(302, { location: what.redirect }).end();
    if ("lie" in what) {
      // Says nothing of its length up front (chunked), so only the streamed count can catch a too-large body.
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return res.end(what.bytes);
    }
    res.writeHead(what.status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serve: (path, what) => files.set(path, what),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let shared: Promise<ImageServer> | undefined;
export function sharedImageServer(): Promise<ImageServer> {
  shared ??= startImageServer().then((s) => {
    s.serve("/disk.raw", Buffer.alloc(4096, 5));
    return s;
  });
  return shared;
}
