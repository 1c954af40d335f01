// Helpers shared by the console proxy's tests and bench: a browser-like WebSocket client for
// /api/console/<nodeId> that separates terminal bytes (binary frames) from control messages (text frames),
// a plain HTTP server carrying the proxy's upgrade handler, sign-in through better-auth's real handler, and
// a node row pointing at a lab BMC.
import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import type { Db } from "@/db/client";
import * as s from "@/db/schema";
import { CLIENT_IP_HEADER } from "@/server/lib/client-ip";
import { fingerprint, seal } from "@/server/lib/secrets";
import type { ConsoleProxy } from "./proxy";

export const TEST_ORIGIN = "http://localhost:3000";

export interface Control {
  type: string;
  state?: string;
  reason?: string;
  code?: number;
  readOnly?: boolean;
  node?: { id: string; name: string; kind: string };
  target?: { type: string; id: string; name: string; kind: string };
  scrollbackBytes?: number;
}

export class ConsoleWs {
  text = "";
  controls: Control[] = [];
  closed: { code: number; reason: string } | null = null;
  private closedP: Promise<{ code: number; reason: string }>;
  /** Called on each binary frame (the bench times echoes with it). */
  onOutput: ((chunk: Buffer) => void) | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (d: Buffer, isBinary) => {
      if (isBinary) {
        this.text += d.toString("utf8");
        this.onOutput?.(d);
      } else this.controls.push(JSON.parse(d.toString("utf8")) as Control);
    });
    this.closedP = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        resolve(this.closed);
      }),
    );
  }

  static open(url: string, headers: Record<string, string>): Promise<ConsoleWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      const c = new ConsoleWs(ws);
      ws.once("open", () => resolve(c));
      ws.once("unexpected-response", (_q, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
  }

  type(text: string) {
    this.ws.send(Buffer.from(text, "utf8"), { binary: true });
  }

  control(msg: unknown) {
    this.ws.send(JSON.stringify(msg));
  }

  async waitText(needle: string | RegExp, ms = 8000): Promise<void> {
    await until(
      `console output ${String(needle)} (got ${JSON.stringify(this.text.slice(-300))})`,
      () => (typeof needle === "string" ? this.text.includes(needle) : needle.test(this.text)),
      ms,
    );
  }

  async waitControl(pred: (c: Control) => boolean, what: string, ms = 8000): Promise<Control> {
    await until(`control message ${what} (got ${JSON.stringify(this.controls)})`, () => this.controls.some(pred), ms);
    return this.controls.find(pred)!;
  }

  /** Waits for a status of the given state that arrived after `after` control messages. */
  async waitState(state: string, after = 0, ms = 8000): Promise<Control> {
    await until(
      `status ${state} (got ${JSON.stringify(this.controls)})`,
      () => this.controls.slice(after).some((c) => c.type === "status" && c.state === state),
      ms,
    );
    return this.controls.slice(after).find((c) => c.type === "status" && c.state === state)!;
  }

  waitClose(): Promise<{ code: number; reason: string }> {
    return this.closedP;
  }

  close() {
    this.ws.close(1000);
    return this.closedP;
  }
}

export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 8000, every = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A plain HTTP server on 127.0.0.1:<ephemeral> whose upgrades go to the proxy (no Next needed). */
export async function serveProxy(proxy: ConsoleProxy): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req, socket, head) => {
    if (!proxy.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    async close() {
      await proxy.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Signs in through better-auth's HTTP handler and returns the Cookie header a browser would send. */
export async function signInCookie(email: string, password: string): Promise<string> {
  const { getAuth } = await import("@/server/auth/auth");
  const res = await getAuth().handler(
    new Request(`${TEST_ORIGIN}/api/auth/sign-in/email`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: TEST_ORIGIN,
        [CLIENT_IP_HEADER]: `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      },
      body: JSON.stringify({ email, password }),
    }),
  );
  if (res.status !== 200) throw new Error(`sign-in of ${email} failed: HTTP ${res.status} ${await res.text()}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

export async function insertNode(
  db: Db,
  n: { name: string; kind?: "host" | "dpu"; bmcDriver: "redfish" | "ipmi"; bmcAddress: string; username: string; password: string; parentNodeId?: string },
): Promise<string> {
  const creds = JSON.stringify({ username: n.username, password: n.password });
  const [row] = await db
    .insert(s.nodes)
    .values({
      name: n.name,
      kind: n.kind ?? "host",
      parentNodeId: n.parentNodeId ?? null,
      bmcDriver: n.bmcDriver,
      bmcAddress: n.bmcAddress,
      bmcVerifyTls: false,
      bmcCredentials: seal(creds),
      bmcCredentialsFingerprint: fingerprint(creds),
    })
    .returning({ id: s.nodes.id });
  return row!.id;
}
