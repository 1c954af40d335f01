// Test helper (used only by redfish*.test.ts): a small HTTP proxy in front of one simulated BMC that can
// rewrite the BMC's JSON, answer some requests itself, or act between a client's requests. It lets tests
// play BMCs that differ from the lab's (no session service, fewer ResetTypes, no event stream, an action
// that 404s) and make an ETag stale between the driver's GET and PATCH — without changing the simulator.
// biome-ignore-all lint/suspicious/noExplicitAny: rewrites work on untyped Redfish JSON
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";

export interface ProxiedRequest {
  method: string;
  path: string;
  body: string;
}

export interface ProxyHooks {
  /** Answer the request here instead of forwarding it (return undefined to forward). */
  intercept?: (r: ProxiedRequest) => { status: number; json?: unknown; headers?: Record<string, string> } | undefined;
  /** Runs before the request is forwarded (e.g. change the resource through another client). */
  before?: (r: ProxiedRequest) => Promise<void>;
  /** Rewrites a JSON answer of the BMC. */
  rewrite?: (path: string, json: any) => any;
}

export interface RedfishProxy {
  url: string;
  /** Every request seen, with the status answered. */
  log: Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

export async function startRedfishProxy(target: string, hooks: ProxyHooks = {}): Promise<RedfishProxy> {
  const log: RedfishProxy["log"] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r: ProxiedRequest = { method: req.method ?? "GET", path: req.url ?? "/", body: Buffer.concat(chunks).toString("utf8") };
    try {
      const own = hooks.intercept?.(r);
      if (own) {
        const text = own.json === undefined ? "" : JSON.stringify(own.json);
        res.writeHead(own.status, { "content-type": "application/json", ...own.headers }).end(text);
        log.push({ method: r.method, path: r.path, status: own.status });
        return;
      }
      await hooks.before?.(r);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v;
      const up = await request(`${target}${r.path}`, { method: r.method as "GET", headers, body: r.body === "" ? undefined : r.body });
      let text = await up.body.text();
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(up.headers))
        if (typeof v === "string" && k !== "content-length" && k !== "connection" && k !== "keep-alive" && k !== "transfer-encoding") out[k] = v;
      if (hooks.rewrite && text && /json/.test(String(up.headers["content-type"])))
        text = JSON.stringify(hooks.rewrite(r.path.split("?")[0], JSON.parse(text)));
      res.writeHead(up.statusCode, out).end(up.statusCode === 204 || up.statusCode === 304 ? undefined : text);
      log.push({ method: r.method, path: r.path, status: up.statusCode });
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
