// New hardware events for the browser: one Postgres LISTEN connection per process (opened with the first watcher,
// closed with the last) on the channel recordEvents notifies, fanned out to the process's watchers — the
// Server-Sent Events route app/api/events/stream. Any replica's write reaches every replica's browsers. Kept on
// globalThis: the route module is bundled apart from server.ts.
import pg from "pg";
import { logger } from "@/server/lib/log";
import { HARDWARE_EVENTS_CHANNEL } from "@/server/workflows/events";

/** What a notification names: the nodes that got new events, or "*" for many. */
export type EventsNotice = { nodes: string[] | "*" };
type Watcher = (n: EventsNotice) => void;

interface ListenState {
  watchers: Set<Watcher>;
  conn: Promise<pg.Client> | null;
}

const g = globalThis as { __anvilEventsListen?: ListenState };
g.__anvilEventsListen ??= { watchers: new Set(), conn: null };
const state = g.__anvilEventsListen;

function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  const lost = (why: string) => {
    logger.warn({ reason: why }, "hardware events LISTEN connection lost; reconnecting");
    state.conn = null;
    void c.end().catch(() => {});
    // Watchers stay; they hear of events again once the new connection listens (what passed meanwhile shows at the
    // pages' next refetch).
    if (state.watchers.size) setTimeout(() => ensureConnected(), 1000);
  };
  c.on("error", (e) => lost(e.message));
  c.on("notification", (m) => {
    let notice: EventsNotice;
    try {
      notice = JSON.parse(m.payload ?? "") as EventsNotice;
    } catch {
      notice = { nodes: "*" };
    }
    for (const w of state.watchers) w(notice);
  });
  return c
    .connect()
    .then(() => c.query(`listen ${HARDWARE_EVENTS_CHANNEL}`))
    .then(() => c);
}

function ensureConnected() {
  if (state.conn || state.watchers.size === 0) return;
  const p = connect();
  state.conn = p;
  p.catch((e) => {
    if (state.conn === p) state.conn = null;
    logger.warn({ err: (e as Error).message }, "hardware events LISTEN failed; retrying");
    if (state.watchers.size) setTimeout(() => ensureConnected(), 1000);
  });
}

/**
 * Calls `w` for every write that added hardware events, until `stop` is called; `ready` resolves once this process
 * listens (what is written before that is not heard).
 */
export function watchHardwareEvents(w: Watcher): { ready: Promise<void>; stop: () => void } {
  state.watchers.add(w);
  ensureConnected();
  const ready = (state.conn ?? Promise.reject(new Error("not listening"))).then(() => {});
  return {
    ready,
    stop: () => {
      state.watchers.delete(w);
      if (state.watchers.size === 0 && state.conn) {
        const p = state.conn;
        state.conn = null;
        void p.then((c) => c.end()).catch(() => {});
      }
    },
  };
}
