// The browser side of the serial console: a WebSocket endpoint at /api/console/<nodeId> on Anvil's own
// origin (server.ts hands upgrades to it through server/runtime.ts). Checks the Origin (no cross-site
// WebSocket hijacking with the session cookie), authenticates (session cookie, or an API token as
// "Authorization: Bearer"), authorizes (authz.ts), audits the session's start and end, and joins the
// browser to the node's shared ConsoleSession (session.ts). Protocol: README.md in this folder.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { eq, sql } from "drizzle-orm";
import type pg from "pg";
import { WebSocket, WebSocketServer } from "ws";
import { type Db, getDb } from "@/db/client";
import { nodes } from "@/db/schema";
import { audit } from "@/server/services/audit";
import { BmcError } from "@/server/drivers/bmc/types";
import type { Principal } from "@/server/auth/principal";
import type { NodeBmc } from "@/server/workflows/bmc-access";
import { canOpenConsole, consoleEpoch, REFUSALS } from "./authz";
import { backendForNode } from "./backends";
import { ConsoleHub, type ConsoleSessionOptions, type ConsoleStatus, type ConsoleViewer, HANDOVER_CODE, HANDOVER_REASON } from "./session";
import type { ConsoleBackend } from "./types";

export const CONSOLE_PATH = "/api/console/";

/** WebSocket close codes the UI understands (README.md). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  badRequest: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  tooSlow: 4408,
  handover: HANDOVER_CODE,
  unavailable: 4502,
} as const;

export type ConsoleNodeRow = NodeBmc & { name: string; kind: "host" | "dpu" };

/** Messages the browser may send as text frames. */
export type ClientControl = { type: "break" } | { type: "resize"; cols: number; rows: number };

/** Messages the server sends as text frames. */
export type ServerControl =
  | {
      type: "hello";
      /** What the viewer asked for: an instance (tenants see only this) or a node (operators). */
      target: { type: "instance" | "node"; id: string; name: string; kind: "host" | "dpu" };
      /** The node serving the console: sent to operators only. */
      node?: { id: string; name: string; kind: "host" | "dpu" };
      readOnly: boolean;
      scrollbackBytes: number;
    }
  | ConsoleStatus
  | { type: "status"; state: "closed"; reason: string; code: number }
  | { type: "error"; reason: string };

export interface ConsoleProxyOptions {
  db?: Db;
  /** Origin browsers must come from. Default: the origin of ANVIL_URL. */
  allowedOrigin?: string;
  /** Session cookie / Bearer token → principal. Default: the same resolution as tRPC's createContext. */
  resolvePrincipal?: (headers: Headers) => Promise<Principal | null>;
  /** The node's backend. Default: backendForNode (IPMI SOL, Redfish WebSocket, or SSH). */
  backendFor?: (node: ConsoleNodeRow) => ConsoleBackend | Promise<ConsoleBackend>;
  /** WebSocket ping to each viewer this often, ms (keeps idle proxies from cutting it; finds dead viewers). Default 20000. */
  pingIntervalMs?: number;
  session?: ConsoleSessionOptions;
  /** Re-check every open viewer's grant this often, ms (revocations also arrive by NOTIFY at once). Default 5000. */
  recheckIntervalMs?: number;
  /** LISTEN for handover and revocation notices (NOTIFY anvil_console). Default true; false leaves only the interval. */
  listen?: boolean;
  /** A viewer whose unsent output exceeds this is disconnected (it can reconnect and get the scrollback). Default 8 MiB. */
  maxBufferedBytes?: number;
}

async function defaultResolvePrincipal(headers: Headers): Promise<Principal | null> {
  const { createContext } = await import("@/server/api/trpc");
  return (await createContext({ headers })).principal;
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  }
  return h;
}

/** A client-supplied request id is kept only when it is a plain token (it lands in audit rows). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ConsoleProxy {
  /** For registerUpgrade: true when the request was for the console (and has been taken). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  hub: ConsoleHub;
  /** Viewers connected right now. */
  viewerCount(): number;
  /** Re-checks every open viewer's grant now (the interval and NOTIFY anvil_console call it too). */
  recheckAll(): Promise<void>;
  /** Closes every viewer and upstream session; waits for the close audit rows. */
  close(): Promise<void>;
}

export function createConsoleProxy(opts: ConsoleProxyOptions = {}): ConsoleProxy {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const hub = new ConsoleHub(opts.session);
  const db = () => opts.db ?? getDb();
  const resolvePrincipal = opts.resolvePrincipal ?? defaultResolvePrincipal;
  const backendFor = opts.backendFor ?? backendForNode;
  const pingMs = opts.pingIntervalMs ?? 20_000;
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const recheckMs = opts.recheckIntervalMs ?? 5000;
  const allowedOrigin = () => opts.allowedOrigin ?? new URL(process.env.ANVIL_URL ?? "http://localhost:3000").origin;
  const live = new Set<WebSocket>();
  const pendingAudits = new Set<Promise<unknown>>();
  let closing = false;

  function send(ws: WebSocket, msg: ServerControl) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function refuse(ws: WebSocket, code: number, reason: string) {
    send(ws, { type: "status", state: "closed", reason, code });
    // Close reasons are limited to 123 bytes; the JSON message above carries the full text.
    ws.close(code, Buffer.from(reason).subarray(0, 120).toString());
  }

  function track<T>(p: Promise<T>): Promise<T> {
    pendingAudits.add(p);
    void p.finally(() => pendingAudits.delete(p)).catch(() => {});
    return p;
  }

  async function loadNode(id: string): Promise<ConsoleNodeRow | undefined> {
    const [row] = await db()
      .select({
        id: nodes.id,
        name: nodes.name,
        kind: nodes.kind,
        bmcDriver: nodes.bmcDriver,
        bmcAddress: nodes.bmcAddress,
        bmcCredentials: nodes.bmcCredentials,
        bmcVerifyTls: nodes.bmcVerifyTls,
      })
      .from(nodes)
      .where(eq(nodes.id, id));
    return row;
  }

  /**
   * "/api/console/instance/<id>": the host the instance runs on NOW (resolved at every connect, so a viewer that
   * reconnects after a recovery lands on the new host). Null with a reason when it is on no host.
   */
  async function instanceNode(instanceId: string, principal: Principal): Promise<{ nodeId: string } | { refusal: string }> {
    if (!UUID.test(instanceId)) return { refusal: "No such instance" };
    const r = await db().execute<{ node_id: string | null; state: string; tenant_id: string }>(
      sql`select node_id::text, state::text, tenant_id::text from instances where id = ${instanceId} and deleted_at is null`,
    );
    const row = r.rows[0];
    if (!row) return { refusal: "No such instance" };
    if (row.node_id) return { nodeId: row.node_id }; // who may see it is decided on the node, as for any console
    // Not on a host: say why only to someone who may see the instance at all.
    const operator = (principal.tokenScope ? principal.tokenScope.platformRole : principal.platformRole) !== null;
    const member = operator
      ? true
      : (await db().execute(sql`select 1 from memberships where tenant_id = ${row.tenant_id} and user_id = ${principal.userId}`)).rows.length > 0;
    return { refusal: member ? `The instance is ${row.state} and not on a host right now` : "No such instance" };
  }

  /** An open viewer and the grant it was let in under, re-checked while it stays open. */
  interface ViewerGrant {
    ws: WebSocket;
    headers: Headers;
    userId: string;
    nodeId: string;
    instanceId: string | null;
    readOnly: boolean;
    epoch: number;
    end(code: number, reason: string): void;
  }
  const grants = new Set<ViewerGrant>();

  /** Is this viewer still allowed what it was let in for? Ends it (or its whole session, on a handover) if not. */
  async function recheck(g: ViewerGrant): Promise<void> {
    if (g.ws.readyState !== WebSocket.OPEN) return;
    const epoch = await consoleEpoch(db(), g.nodeId);
    if (epoch !== g.epoch) {
      // The host changed hands: the session of the old epoch ends for every viewer, scrollback and all.
      if (!(await hub.handover(g.nodeId, epoch))) g.end(HANDOVER_CODE, HANDOVER_REASON);
      return;
    }
    let principal: Principal | null;
    try {
      principal = await resolvePrincipal(g.headers);
    } catch {
      return; // the database blinked; the next re-check decides
    }
    if (!principal || principal.userId !== g.userId)
      return g.end(CLOSE.unauthenticated, "Your sign-in ended (signed out, expired, disabled or the token was revoked); sign in again to use the console");
    const node = await loadNode(g.nodeId);
    if (!node) return g.end(CLOSE.notFound, "This node has been deleted");
    const access = await canOpenConsole(principal, node, db(), g.instanceId ?? undefined);
    if (!access.ok) {
      // The host may have changed hands after the epoch was read above (its instance rebuilt or moved): that is a
      // handover, which the viewer follows, not a withdrawal.
      const now = await consoleEpoch(db(), g.nodeId);
      if (now !== g.epoch) {
        if (!(await hub.handover(g.nodeId, now))) g.end(HANDOVER_CODE, HANDOVER_REASON);
        return;
      }
      return g.end(CLOSE.forbidden, `Your access to this console was withdrawn: ${access.reason}`);
    }
    if (access.epoch !== g.epoch) {
      if (!(await hub.handover(g.nodeId, access.epoch))) g.end(HANDOVER_CODE, HANDOVER_REASON);
      return;
    }
    if (access.readOnly && !g.readOnly) return g.end(CLOSE.forbidden, "Your role changed: this console is read-only for you now; open it again");
  }

  let recheckRunning: Promise<void> | null = null;
  let recheckAgain = false;
  /** Re-checks every open viewer and sweeps lingering sessions of handed-over hosts; one run at a time. */
  function recheckAll(): Promise<void> {
    if (recheckRunning) {
      recheckAgain = true;
      return recheckRunning;
    }
    recheckRunning = (async () => {
      do {
        recheckAgain = false;
        const sessions = hub.list();
        if (sessions.length) {
          const ids = sessions.map((s) => s.nodeId);
          const r = await db().execute<{ node_id: string; epoch: string }>(
            sql`select node_id::text, epoch::text from console_epochs where node_id in (${sql.join(
              ids.map((id) => sql`${id}`),
              sql`, `,
            )})`,
          );
          const now = new Map(r.rows.map((x) => [x.node_id, Number(x.epoch)]));
          for (const s of sessions) await hub.handover(s.nodeId, now.get(s.nodeId) ?? 0);
        }
        const all = [...grants];
        for (let i = 0; i < all.length; i += 16) await Promise.all(all.slice(i, i + 16).map((g) => recheck(g).catch(() => undefined)));
      } while (recheckAgain && !closing);
    })().finally(() => {
      recheckRunning = null;
    });
    return recheckRunning;
  }

  // Every replica hears handovers and revocations at once (NOTIFY anvil_console from the database's triggers);
  // the interval re-check is the floor when a notification is missed (listener reconnecting).
  let listener: { release(destroy?: boolean): void } | null = null;
  let listening = false;
  let recheckTimer: NodeJS.Timeout | null = null;
  async function listen(): Promise<void> {
    if (listening || closing) return;
    listening = true;
    if (!recheckTimer) {
      recheckTimer = setInterval(() => void recheckAll().catch(() => undefined), recheckMs);
      recheckTimer.unref();
    }
    const pool = (db() as unknown as { $client?: pg.Pool }).$client;
    if (opts.listen === false || !pool || typeof pool.connect !== "function") return;
    try {
      const client = await pool.connect();
      if (closing) return client.release();
      listener = client;
      client.on("error", () => {
        client.release(true);
        if (listener === client) listener = null;
        listening = false;
        if (!closing) setTimeout(() => void listen(), 1000).unref();
      });
      client.on("notification", (n) => {
        if (n.channel !== "anvil_console" || !n.payload) return;
        if (n.payload === "access") return void recheckAll().catch(() => undefined);
        const m = /^epoch:([0-9a-f-]{36}):(\d+)$/.exec(n.payload);
        if (m) void hub.handover(m[1]!, Number(m[2]));
      });
      await client.query("LISTEN anvil_console");
    } catch (e) {
      listening = false;
      if (!closing) setTimeout(() => void listen(), 1000).unref();
      console.error("console: listening for handovers failed; re-checking on the interval only", (e as Error).message);
    }
  }

  async function serve(ws: WebSocket, req: IncomingMessage, target: string) {
    void listen();
    const headers = headersOf(req);
    const bearer = headers.get("authorization")?.startsWith("Bearer ");
    const origin = headers.get("origin");
    // Browsers always send Origin on a WebSocket; only a non-browser client (a script with an API token) omits it.
    if (origin ? origin !== allowedOrigin() : !bearer) {
      return refuse(
        ws,
        CLOSE.forbidden,
        origin ? `Cross-origin console connections are refused (${origin})` : "Console connections must come from the Anvil web app",
      );
    }
    let principal: Principal | null;
    try {
      principal = await resolvePrincipal(headers);
    } catch (e) {
      console.error("console: resolving the session failed", e);
      return refuse(ws, CLOSE.unavailable, "Could not check your session; try again");
    }
    if (!principal) return refuse(ws, CLOSE.unauthenticated, "Sign in to open a serial console");
    let nodeId = target;
    let instanceId: string | null = null;
    if (target.startsWith("instance/")) {
      instanceId = target.slice("instance/".length);
      const found = await instanceNode(instanceId, principal);
      // Same answer for "not yours" as for "no such": membership is checked on the node below.
      if ("refusal" in found) return refuse(ws, found.refusal === REFUSALS.noInstance ? CLOSE.notFound : CLOSE.forbidden, found.refusal);
      nodeId = found.nodeId;
    }
    if (!UUID.test(nodeId)) return refuse(ws, CLOSE.notFound, "No such node");
    const node = await loadNode(nodeId);
    if (!node) return refuse(ws, CLOSE.notFound, instanceId ? REFUSALS.noInstance : "No such node");
    const access = await canOpenConsole(principal, node, db(), instanceId ?? undefined);
    if (!access.ok) return refuse(ws, access.code, access.reason);
    if (ws.readyState !== WebSocket.OPEN || closing) return;

    const readOnly = access.readOnly;
    const asked = headers.get("x-request-id");
    const requestId = asked && REQUEST_ID.test(asked) ? asked : crypto.randomUUID();
    const actx = { principal, requestId };
    const openedAt = new Date();
    // A tenant's session is recorded against their instance (the host stays an operator's business).
    const base = access.instance
      ? { targetType: "instance", targetId: access.instance.id, targetName: access.instance.name, tenantId: access.tenantId }
      : { targetType: "node", targetId: node.id, targetName: node.name, tenantId: access.tenantId };
    await track(
      db().transaction((tx) =>
        audit(tx, actx, {
          ...base,
          action: "console.open",
          details: { readOnly, kind: node.kind, via: bearer ? "api-token" : "session", ...(instanceId ? { instanceId } : {}) },
        }),
      ),
    );
    if (ws.readyState !== WebSocket.OPEN) {
      await track(
        db().transaction((tx) => audit(tx, actx, { ...base, action: "console.close", details: { readOnly, openedAt: openedAt.toISOString(), durationMs: 0 } })),
      );
      return;
    }

    // The backend is built from the node row as it is at each (re)connect, so changed BMC credentials or
    // address take effect on the next reconnect; a deleted node ends the session.
    const session = hub.session(
      node.id,
      async () => {
        const current = await loadNode(node.id);
        if (!current) throw new BmcError("invalid", node.bmcAddress, `Node ${node.name} has been deleted`);
        return backendFor(current);
      },
      access.epoch,
    );
    // The host changed hands between the check above and now: this grant is already stale.
    if (session.epoch !== access.epoch) return refuse(ws, HANDOVER_CODE, HANDOVER_REASON);
    const helloTarget = access.instance
      ? { type: "instance" as const, id: access.instance.id, name: access.instance.name, kind: node.kind }
      : { type: "node" as const, id: node.id, name: node.name, kind: node.kind };
    send(ws, {
      type: "hello",
      target: helloTarget,
      // Only operators learn which node serves the console.
      ...(access.instance ? {} : { node: { id: node.id, name: node.name, kind: node.kind } }),
      readOnly,
      scrollbackBytes: session.ring.length,
    });
    const viewer: ConsoleViewer = {
      output(chunk) {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > maxBuffered) {
          refuse(ws, CLOSE.tooSlow, "This viewer fell too far behind the console output; reconnect to continue");
          return;
        }
        ws.send(chunk, { binary: true });
      },
      status(s) {
        send(ws, s);
      },
      end(reason, code) {
        refuse(ws, code ?? (closing ? CLOSE.goingAway : CLOSE.unavailable), reason);
      },
    };
    session.attach(viewer);
    const grant: ViewerGrant = {
      ws,
      headers,
      userId: principal.userId,
      nodeId: node.id,
      instanceId: access.instance?.id ?? null,
      readOnly,
      epoch: access.epoch,
      end(code, reason) {
        session.detach(viewer);
        refuse(ws, code, reason);
      },
    };
    grants.add(grant);
    // A handover committed while this viewer was joining (its notification may have come before the session
    // existed): look once more now that the viewer is attached.
    void recheck(grant).catch(() => undefined);

    let alive = true;
    const pinger = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, pingMs);
    pinger.unref();
    ws.on("pong", () => {
      alive = true;
    });

    ws.on("message", (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      if (!grants.has(grant) || session.isEnded) return; // ended: nothing more reaches the server
      if (isBinary) {
        if (!readOnly) session.write(bytes); // read-only viewers' typing is ignored (the hello told the UI)
        return;
      }
      let msg: ClientControl;
      try {
        msg = JSON.parse(bytes.toString("utf8")) as ClientControl;
      } catch {
        return send(ws, { type: "error", reason: "Control messages must be JSON text frames; terminal input goes in binary frames" });
      }
      if (msg?.type === "break") {
        if (readOnly) return send(ws, { type: "error", reason: "This console is read-only for you: operator viewers cannot send a break" });
        session.sendBreak().catch((e: Error) => send(ws, { type: "error", reason: e.message }));
      } else if (msg?.type === "resize") {
        const cols = Number(msg.cols);
        const rows = Number(msg.rows);
        if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 1000 || rows > 1000)
          return send(ws, { type: "error", reason: "resize needs whole numbers cols and rows between 1 and 1000" });
        if (!readOnly) session.resize(cols, rows);
      } else {
        send(ws, { type: "error", reason: `Unknown control message type ${JSON.stringify((msg as { type?: unknown })?.type ?? null)}` });
      }
    });

    ws.once("close", () => {
      clearInterval(pinger);
      grants.delete(grant);
      session.detach(viewer);
      live.delete(ws);
      const closedAt = new Date();
      void track(
        db().transaction((tx) =>
          audit(tx, actx, {
            ...base,
            action: "console.close",
            details: { readOnly, openedAt: openedAt.toISOString(), closedAt: closedAt.toISOString(), durationMs: closedAt.getTime() - openedAt.getTime() },
          }),
        ),
      ).catch((e) => console.error("console: writing the close audit row failed", e));
    });
  }

  return {
    hub,
    viewerCount: () => live.size,
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? "/", "http://x");
      if (!url.pathname.startsWith(CONSOLE_PATH)) return false;
      const nodeId = decodeURIComponent(url.pathname.slice(CONSOLE_PATH.length)).replace(/\/$/, "");
      if (closing) {
        socket.destroy();
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        live.add(ws);
        ws.on("error", () => undefined);
        ws.once("close", () => live.delete(ws));
        serve(ws, req, nodeId).catch((e) => {
          console.error("console: serving a viewer failed", e);
          refuse(ws, CLOSE.unavailable, "The console proxy failed; try again");
        });
      });
      return true;
    },
    recheckAll,
    async close() {
      closing = true;
      if (recheckTimer) clearInterval(recheckTimer);
      listener?.release(true);
      listener = null;
      await hub.closeAll();
      for (const ws of live) ws.close(CLOSE.goingAway, "Anvil is shutting down");
      await new Promise((r) => setTimeout(r, 50));
      for (const ws of live) ws.terminate();
      while (pendingAudits.size) await Promise.allSettled([...pendingAudits]);
      wss.close();
    },
  };
}
