// The browser's live-event stream (app/api/events/stream, fed by server/live-events/browser.ts) against a real Postgres:
// operators get "new events on these nodes" as soon as a write records some (NOTIFY at commit), a re-read of the same
// SEL entry says nothing, and everyone else is refused the way events.list refuses them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "@/app/api/events/stream/route";
import { recordEvents } from "@/server/workflows/events";
import { useTestDb } from "@/test/db";
import { type Fixtures, insertHost, makeFixtures, type Role } from "@/test/fixtures";
import { tokensFor } from "@/test/rest-kit";

const db = useTestDb();
let fx: Fixtures;
let tokens: Record<Role, string | null>;

beforeAll(async () => {
  fx = await makeFixtures(db);
  tokens = await tokensFor(fx);
});

function open(role: Role) {
  const abort = new AbortController();
  const token = tokens[role];
  const req = new Request("http://anvil.test/api/events/stream", { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  return { res: GET(req), abort };
}

/** Reads the stream until `pred` holds for what arrived, or `ms` pass; returns the text. */
async function readUntil(body: ReadableStream<Uint8Array>, pred: (text: string) => boolean, ms = 10_000): Promise<string> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  try {
    while (!pred(text) && Date.now() < deadline) {
      const r = await Promise.race([reader.read(), new Promise<null>((ok) => setTimeout(() => ok(null), deadline - Date.now()))]);
      if (!r || r.done) break;
      text += dec.decode(r.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text;
}

const streams: AbortController[] = [];
afterAll(() => {
  for (const a of streams) a.abort();
});

describe("GET /api/events/stream", () => {
  it("tells an operator which nodes got new events, once per write that added some", async () => {
    const node = await insertHost(db);
    const { res, abort } = open("operatorViewer");
    streams.push(abort);
    const r = await res;
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const body = r.body!;
    expect(await readUntil(body, (t) => t.includes(": connected"))).toMatch(/^retry: 2000\n\n: connected/);
    const entry = { kind: "sel" as const, severity: "critical" as const, message: "PSU1 failed.", sourceId: `psu-${node.id}`, nodeId: node.id };
    expect(await recordEvents(db, [entry])).toBe(1);
    const text = await readUntil(body, (t) => t.includes(node.id));
    expect(text).toContain(`event: events\ndata: {"nodes":["${node.id}"]}`);
    // The same SEL entry again adds no row and so says nothing: a later write is the next thing heard.
    expect(await recordEvents(db, [entry])).toBe(0);
    const other = await insertHost(db);
    await recordEvents(db, [{ kind: "power", severity: "info", message: "Power off → on.", nodeId: other.id }]);
    const next = await readUntil(body, (t) => t.includes(other.id));
    expect(next).not.toContain(node.id);
    expect(next).toContain(other.id);
  });

  it("refuses callers events.list refuses: anonymous 401, tenant members 404", async () => {
    for (const [role, status] of [
      ["anonymous", 401],
      ["tenantAdmin", 404],
      ["tenantMember", 404],
      ["otherTenantMember", 404],
    ] as const) {
      const { res, abort } = open(role);
      streams.push(abort);
      expect([role, (await res).status]).toEqual([role, status]);
    }
  });
});
