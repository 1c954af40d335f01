// The browser side of the console WebSocket protocol (server/console/README.md): control messages, close
// codes, and the rules the UI follows (which closes are final, how long to wait before reconnecting).

export type ConsoleState = "connecting" | "connected" | "reconnecting" | "closed";

export type ServerControl =
  | {
      type: "hello";
      /** What was opened: an instance (all a tenant learns) or a node (operators). */
      target: { type: "instance" | "node"; id: string; name: string; kind: "host" | "dpu" };
      /** The node serving the console, for operators only. */
      node?: { id: string; name: string; kind: "host" | "dpu" };
      readOnly: boolean;
      scrollbackBytes: number;
    }
  | { type: "status"; state: ConsoleState; reason?: string; code?: number }
  | { type: "error"; reason: string };

/** Closes after which reconnecting cannot help: not signed in, not allowed (or access withdrawn), no such node. */
export const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4404]);

/** The host changed hands: the old session and its scrollback are gone; reconnect at once (an instance's console
 * then finds the host it runs on now, or learns it is gone). */
export const HANDOVER_CLOSE_CODE = 4409;

/** The console WebSocket of a node, or of whatever host an instance runs on now (`{ instanceId }`). */
export function consoleUrl(loc: { protocol: string; host: string }, target: string | { instanceId: string }): string {
  const path = typeof target === "string" ? encodeURIComponent(target) : `instance/${encodeURIComponent(target.instanceId)}`;
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/api/console/${path}`;
}

/** Reconnect delay after `attempt` failed tries: 1 s doubling to 30 s, ±20 % jitter (many tabs must not reconnect in step). */
export function reconnectDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + random() * 0.4));
}

export function parseControl(text: string): ServerControl | null {
  try {
    const m = JSON.parse(text) as { type?: unknown };
    return m && typeof m.type === "string" ? (m as ServerControl) : null;
  } catch {
    return null;
  }
}

/** The terminal's buffer as plain text, one line per row (soft-wrapped rows joined), for "Download log". */
export function bufferText(buf: {
  length: number;
  getLine(i: number): { isWrapped: boolean; translateToString(trimRight?: boolean): string } | undefined;
}): string {
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) {
    const line = buf.getLine(i);
    if (!line) continue;
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  return `${lines.join("\n")}\n`;
}
