// The agent's REST API (documented in agent/openapi.yaml) on node:http. createAgentServer() returns an
// independent agent (own token, own state, own port) so the lab can run thousands in one process; it keeps
// nothing global. Auth: a per-agent bearer token on everything but GET /v1/health/live.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { createSimBackend } from "./backends/sim";
import type { AgentBackend } from "./backends/types";
import { AgentCore } from "./core";
import { AgentError, fromZodError } from "./errors";
import { RuleSetSchema } from "./rules";
import { CidataSpecSchema, DiskSpecSchema, NameSchema, NicRulesBatchSchema, NicSpecSchema, OverlaySpecSchema } from "./schemas";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AgentServerConfig {
  /** Bearer token the BFF must present. */
  token: string;
  /** Data plane; defaults to an in-memory sim backend with zero latency. */
  backend?: AgentBackend;
  /** Enables /admin/* (fault injection); only for the lab. */
  admin?: boolean;
  maxVfsPerPf?: number;
  log?: AgentLogger;
}

export interface AgentServer {
  readonly core: AgentCore;
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

type Params = Record<string, string>;
type Handler = (ctx: { core: AgentCore; params: Params; body: () => Promise<unknown>; res: ServerResponse; config: AgentServerConfig }) => Promise<Reply>;
interface Reply {
  status: number;
  json?: unknown;
  bytes?: { data: Buffer; type: string; filename?: string };
}

interface Route {
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** OpenAPI-style path; {name} segments become params. */
  path: string;
  auth: boolean;
  admin?: boolean;
  handler: Handler;
}

function parse<T extends z.ZodType>(schema: T, input: unknown, prefix?: string): z.output<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw fromZodError(r.error, prefix);
  return r.data;
}

function nameParam(params: Params): string {
  const r = NameSchema.safeParse(params.name);
  if (!r.success) throw new AgentError(400, "invalid_name", `name "${params.name}": ${r.error.issues[0]?.message}`, "name");
  return r.data;
}

function vniParam(params: Params): number {
  const raw = params.vni ?? "";
  const vni = /^[0-9]{1,8}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(vni >= 1 && vni <= 16777215)) throw new AgentError(400, "invalid_vni", `VNI "${raw}": must be an integer 1-16777215`, "vni");
  return vni;
}

const ok = (json: unknown): Reply => ({ status: 200, json });
const put = (r: { created: boolean; resource: unknown }): Reply => ({ status: r.created ? 201 : 200, json: r.resource });
const noContent: Reply = { status: 204 };

/** Every route the agent serves; agent/openapi.test.ts checks this table against openapi.yaml. */
/** The four routes of a named resource under `base`: list, get, put (idempotent create) and delete. */
function namedResource<S extends z.ZodType>(
  base: string,
  schema: S,
  ops: {
    list(core: AgentCore): unknown[];
    get(core: AgentCore, name: string): unknown;
    put(core: AgentCore, name: string, spec: z.output<S>): Promise<{ created: boolean; resource: unknown }>;
    remove(core: AgentCore, name: string): Promise<void>;
  },
): Route[] {
  const one = `${base}/{name}`;
  return [
    { method: "GET", path: base, auth: true, handler: async ({ core }) => ok({ items: ops.list(core) }) },
    { method: "GET", path: one, auth: true, handler: async ({ core, params }) => ok(ops.get(core, nameParam(params))) },
    {
      method: "PUT",
      path: one,
      auth: true,
      handler: async ({ core, params, body }) => put(await ops.put(core, nameParam(params), parse(schema, await body()))),
    },
    {
      method: "DELETE",
      path: one,
      auth: true,
      handler: async ({ core, params }) => {
        await ops.remove(core, nameParam(params));
        return noContent;
      },
    },
  ];
}

export const ROUTES: Route[] = [
  { method: "GET", path: "/v1/health/live", auth: false, handler: async () => ok({ status: "ok" }) },
  { method: "GET", path: "/v1/health", auth: true, handler: async ({ core }) => ok(core.health()) },
  { method: "GET", path: "/v1/inventory", auth: true, handler: async ({ core }) => ok(core.inventory()) },

  ...namedResource("/v1/disks", DiskSpecSchema, {
    list: (core) => core.listDisks(),
    get: (core, name) => core.getDisk(name),
    put: (core, name, spec) => core.putDisk(name, spec),
    remove: (core, name) => core.deleteDisk(name),
  }),

  ...namedResource("/v1/cidata", CidataSpecSchema, {
    list: (core) => core.listCidata(),
    get: (core, name) => core.getCidata(name),
    put: (core, name, spec) => core.putCidata(name, spec),
    remove: (core, name) => core.deleteCidata(name),
  }),
  {
    method: "GET",
    path: "/v1/cidata/{name}/image",
    auth: true,
    handler: async ({ core, params }) => {
      const name = nameParam(params);
      return { status: 200, bytes: { data: await core.cidataImage(name), type: "application/x-iso9660-image", filename: `${name}-seed.iso` } };
    },
  },

  ...namedResource("/v1/nics", NicSpecSchema, {
    list: (core) => core.listNics(),
    get: (core, name) => core.getNic(name),
    put: (core, name, spec) => core.putNic(name, spec),
    remove: (core, name) => core.deleteNic(name),
  }),
  {
    method: "PUT",
    path: "/v1/nics/{name}/rules",
    auth: true,
    handler: async ({ core, params, body }) => ok(await core.putNicRules(nameParam(params), parse(RuleSetSchema, await body(), "rules"))),
  },
  {
    method: "PUT",
    path: "/v1/nic-rules",
    auth: true,
    handler: async ({ core, body }) => ok({ items: await core.putNicRulesBatch(parse(NicRulesBatchSchema, await body()).items) }),
  },

  { method: "GET", path: "/v1/overlay/vxlan", auth: true, handler: async ({ core }) => ok({ items: core.listOverlays() }) },
  { method: "GET", path: "/v1/overlay/vxlan/{vni}", auth: true, handler: async ({ core, params }) => ok(core.getOverlay(vniParam(params))) },
  {
    method: "PUT",
    path: "/v1/overlay/vxlan/{vni}",
    auth: true,
    handler: async ({ core, params, body }) => {
      const vni = vniParam(params);
      return put(await core.putOverlay(vni, parse(OverlaySpecSchema, await body())));
    },
  },
  {
    method: "DELETE",
    path: "/v1/overlay/vxlan/{vni}",
    auth: true,
    handler: async ({ core, params }) => {
      await core.deleteOverlay(vniParam(params));
      return noContent;
    },
  },

  { method: "POST", path: "/v1/reset", auth: true, handler: async ({ core }) => ok({ removed: await core.reset() }) },

  {
    method: "GET",
    path: "/admin/faults",
    auth: true,
    admin: true,
    handler: async ({ core }) => ok(core.backend.admin!.getFaults()),
  },
  {
    method: "PUT",
    path: "/admin/faults",
    auth: true,
    admin: true,
    handler: async ({ core, body }) => {
      const input = await body();
      try {
        return ok(core.backend.admin!.setFaults(input));
      } catch (err) {
        if (err instanceof z.ZodError) throw fromZodError(err);
        throw err;
      }
    },
  },
];

interface CompiledRoute extends Route {
  segments: string[];
}
const COMPILED: CompiledRoute[] = ROUTES.map((r) => ({ ...r, segments: r.path.split("/").slice(1) }));

function match(pathname: string): { routes: { route: CompiledRoute; params: Params }[] } {
  const parts = pathname.split("/").slice(1);
  const routes: { route: CompiledRoute; params: Params }[] = [];
  for (const route of COMPILED) {
    if (route.segments.length !== parts.length) continue;
    const params: Params = {};
    let okMatch = true;
    for (let i = 0; i < parts.length; i++) {
      const seg = route.segments[i];
      if (seg.startsWith("{")) {
        try {
          params[seg.slice(1, -1)] = decodeURIComponent(parts[i]);
        } catch {
          okMatch = false;
        }
      } else if (seg !== parts[i]) okMatch = false;
      if (!okMatch) break;
    }
    if (okMatch) routes.push({ route, params });
  }
  return { routes };
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(new AgentError(413, "payload_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AgentError(413, "payload_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("error", reject);
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return reject(new AgentError(400, "body_required", "this request needs a JSON body"));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new AgentError(400, "invalid_json", `request body is not valid JSON: ${(err as Error).message}`));
      }
    });
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (reply.bytes) {
    res.writeHead(reply.status, {
      "content-type": reply.bytes.type,
      "content-length": reply.bytes.data.length,
      ...(reply.bytes.filename ? { "content-disposition": `attachment; filename="${reply.bytes.filename}"` } : {}),
    });
    res.end(reply.bytes.data);
    return;
  }
  if (reply.json === undefined) {
    res.writeHead(reply.status);
    res.end();
    return;
  }
  const payload = JSON.stringify(reply.json);
  res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

export function createAgentServer(config: AgentServerConfig): AgentServer {
  if (!config.token || config.token.length < 8) throw new Error("agent token must be at least 8 characters");
  const core = new AgentCore({ backend: config.backend ?? createSimBackend(), maxVfsPerPf: config.maxVfsPerPf });
  const tokenDigest = digest(config.token);
  let server: Server | undefined;

  const authorized = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization;
    if (!h?.startsWith("Bearer ")) return false;
    return timingSafeEqual(digest(h.slice(7)), tokenDigest);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://agent");
    const { routes } = match(url.pathname);
    const visible = routes.filter((r) => !r.route.admin || (config.admin && core.backend.admin));
    const needsAuth = visible.length === 0 || visible.some((r) => r.route.auth);
    const found = visible.find((r) => r.route.method === req.method);
    // Authenticate before telling anyone which routes exist (unknown paths answer 401 to strangers too).
    if ((found ? found.route.auth : needsAuth) && !authorized(req)) {
      res.setHeader("www-authenticate", 'Bearer realm="anvil-agent"');
      throw new AgentError(401, "unauthorized", "missing or wrong bearer token");
    }
    if (visible.length === 0) throw new AgentError(404, "not_found", `no such endpoint: ${url.pathname}`);
    if (!found) {
      res.setHeader("allow", visible.map((r) => r.route.method).join(", "));
      throw new AgentError(405, "method_not_allowed", `${req.method} is not allowed on ${url.pathname}`);
    }
    const reply = await found.route.handler({ core, params: found.params, body: () => readBody(req), res, config });
    send(res, reply);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof AgentError ? err : new AgentError(500, "internal_error", "internal error");
      if (!(err instanceof AgentError)) config.log?.error({ err, method: req.method, url: req.url }, "unhandled agent error");
      else if (e.status >= 500) config.log?.warn({ code: e.code, message: e.message, method: req.method, url: req.url }, "agent request failed");
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(res, { status: e.status, json: e.toBody() });
    });
  };

  return {
    core,
    listen(port = 0, host = "127.0.0.1") {
      if (server) throw new Error("agent server is already listening");
      const s = createServer({ keepAliveTimeout: 5_000 }, onRequest);
      server = s;
      return new Promise((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => {
          s.off("error", reject);
          const addr = s.address() as AddressInfo;
          const h = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
          resolve({ url: `http://${h}:${addr.port}`, port: addr.port });
        });
      });
    },
    async close() {
      const s = server;
      server = undefined;
      if (s) {
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await core.backend.close?.();
    },
  };
}
