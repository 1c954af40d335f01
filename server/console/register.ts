// Wires the console proxy into the BFF process (server.ts → server/runtime.ts startBackground): registers the
// /api/console/<nodeId> WebSocket upgrade and closes every console session on shutdown.
//
// Why the "server-only" shim: the proxy resolves sessions with the same code as tRPC (better-auth in
// server/auth/auth.ts), which imports "server-only" — a marker that throws unless the module is bundled for
// React Server Components. server.ts runs outside Next's bundler, where the marker's default export throws
// although this *is* server code. The shim pre-loads the marker as the empty module it is in the
// react-server build, for this process only; client bundles are unaffected (they are built by Next).
import Module, { createRequire } from "node:module";
import { setConsoleSource } from "../lib/metrics";

export function allowServerOnlyOutsideNext() {
  const require = createRequire(import.meta.url);
  const file = require.resolve("server-only");
  if (require.cache[file]) return;
  const m = new Module(file);
  m.filename = file;
  m.loaded = true;
  m.exports = {};
  require.cache[file] = m;
}

export async function registerConsole(runtime: {
  registerUpgrade: (h: (req: import("node:http").IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => boolean) => void;
  onStop: (s: () => Promise<void>) => void;
}): Promise<string> {
  allowServerOnlyOutsideNext();
  const { createConsoleProxy } = await import("./proxy");
  const proxy = createConsoleProxy();
  runtime.registerUpgrade((req, socket, head) => proxy.handleUpgrade(req, socket, head));
  // Open sessions and connected viewers, read on each /metrics scrape.
  setConsoleSource(() => ({ sessions: proxy.hub.list().length, viewers: proxy.viewerCount() }));
  runtime.onStop(async () => {
    setConsoleSource(null);
    await proxy.close();
  });
  return "serial console proxy at /api/console/<nodeId>";
}
