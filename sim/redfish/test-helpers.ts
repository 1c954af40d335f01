// Small helpers for the simulator's tests: a Redfish request function that follows the spec (absolute
// or relative @odata.id, Basic or token auth), polling, a console WebSocket client that accumulates
// output, and an SSE reader. Real HTTP/WebSocket only; nothing here reaches into the simulator.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { Agent, fetch as undiciFetch } from "undici";
import WebSocket from "ws";
import type { SimBmc } from "./index";

export interface RfResponse {
  status: number;
  headers: Headers;
  json: any;
}

export interface RfOptions {
  method?: string;
  body?: unknown;
  /** raw body text (for malformed JSON tests) */
  raw?: string;
  /** "basic" (default) uses the BMC's credentials; a string is an X-Auth-Token; "none" sends nothing */
  auth?: "basic" | "none" | { token: string } | { user: string; password: string };
  headers?: Record<string, string>;
  ca?: string;
}

const agents = new Map<string, Agent>();

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

export async function rf(bmc: SimBmc, pathOrUrl: string, o: RfOptions = {}): Promise<RfResponse> {
  const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${bmc.baseUrl}${pathOrUrl}`;
  const headers: Record<string, string> = { ...o.headers };
  const auth = o.auth ?? "basic";
  if (auth === "basic") headers.authorization = basic(bmc.username, bmc.password);
  else if (auth !== "none" && "token" in auth) headers["x-auth-token"] = auth.token;
  else if (auth !== "none") headers.authorization = basic(auth.user, auth.password);
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  let dispatcher: Agent | undefined;
  if (o.ca) {
    dispatcher = agents.get(o.ca);
    if (!dispatcher) {
      dispatcher = new Agent({ connect: { ca: o.ca } });
      agents.set(o.ca, dispatcher);
    }
  }
  const res = await undiciFetch(url, { method: o.method ?? (body !== undefined ? "POST" : "GET"), headers, body, dispatcher });
  const text = await res.text();
  let json: unknown = null;
  if (text !== "") json = JSON.parse(text);
  return { status: res.status, headers: res.headers as unknown as Headers, json };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The system resource of a BMC, discovered from the Systems collection like a client would. */
export async function systemOf(bmc: SimBmc): Promise<any> {
  const col = await rf(bmc, "/redfish/v1/Systems");
  return (await rf(bmc, col.json.Members[0]["@odata.id"])).json;
}

export async function resetVia(bmc: SimBmc, resetType: string): Promise<RfResponse> {
  const sys = await systemOf(bmc);
  return rf(bmc, sys.Actions["#ComputerSystem.Reset"].target, { body: { ResetType: resetType } });
}

export async function powerOf(bmc: SimBmc): Promise<string> {
  return (await systemOf(bmc)).PowerState;
}

export class ConsoleClient {
  output = "";
  closed: { code: number; reason: string } | undefined;
  private ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (d: Buffer) => {
      this.output += d.toString("utf8");
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static open(url: string, headers: Record<string, string> = {}, ca?: string): Promise<ConsoleClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, ca });
      const c = new ConsoleClient(ws);
      ws.once("open", () => resolve(c));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`console upgrade refused: HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
  }

  send(text: string): void {
    this.ws.send(Buffer.from(text, "latin1"));
  }

  async waitText(re: RegExp | string, timeoutMs = 5000): Promise<string> {
    return waitFor(`console output ${re}`, () => (typeof re === "string" ? this.output.includes(re) : re.test(this.output)) && this.output, timeoutMs);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Read a text/event-stream and collect parsed `data:` payloads. */
export class SseReader {
  events: any[] = [];
  private ac = new AbortController();
  status = 0;

  static async open(url: string, headers: Record<string, string>): Promise<SseReader> {
    const r = new SseReader();
    const res = await undiciFetch(url, { headers, signal: r.ac.signal });
    r.status = res.status;
    if (!res.body) return r;
    const reader = res.body.getReader();
    let buf = "";
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += Buffer.from(value).toString("utf8");
          let i = buf.indexOf("\n\n");
          while (i >= 0) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = frame
              .split("\n")
              .filter((l) => l.startsWith("data: "))
              .map((l) => l.slice(6))
              .join("\n");
            if (data) r.events.push(JSON.parse(data));
            i = buf.indexOf("\n\n");
          }
        }
      } catch {
        // aborted by close()
      }
    })();
    return r;
  }

  close(): void {
    this.ac.abort();
  }
}
