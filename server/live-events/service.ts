// Live BMC events: in each BFF process, one event-stream subscription (driver.events.subscribe, Redfish SSE) per
// enrolled node whose BMC offers one, so a fault reaches hardware_events and the node row within a second instead of
// at the next 30 s sync pass. An event is not trusted for the state itself: it makes the node be polled and its SEL
// read now, and what the poll finds is written exactly as the sync writes it (applyPoll), so both paths agree on
// messages and faults. Nodes whose BMC has no stream stay on the sync's polling alone (which also keeps running for
// streamed nodes: it catches what a dropped stream missed).
//
// Replicas split the work by the sync's shards: a process watches the nodes of the shards it holds a Postgres
// advisory lock on (session locks on one dedicated connection: a replica that dies or loses its connection frees its
// shards, which another replica claims at its next rescan). A process claims shards only while their nodes fit under
// its stream limit, so with several replicas the shards spread over them.
import { and, count, eq, inArray, ne } from "drizzle-orm";
import pg from "pg";
import { getDb } from "@/db/client";
import { nodes } from "@/db/schema";
import type { BmcLiveEvent } from "@/server/drivers/bmc";
import { logger } from "@/server/lib/log";
import { driverFor } from "@/server/workflows/bmc-access";
import { SYNC_SHARDS } from "@/server/workflows/enroll";
import { readSel } from "@/server/workflows/sel";
import { applyPoll, pollNode, syncNodes } from "@/server/workflows/sync";

export interface LiveEventsOptions {
  /** At most this many streams in this process (ANVIL_LIVE_EVENTS_MAX; 0 turns live events off). */
  maxStreams: number;
  /** How often the process re-reads which nodes to watch and claims free shards (ANVIL_LIVE_EVENTS_RESCAN_S). */
  rescanMs: number;
  /** How long a BMC found without an event stream stays on polling alone before it is asked again. */
  noStreamRetryMs: number;
  /** Events of one node arriving within this time are handled by one poll. */
  debounceMs: number;
  /** The shards this process may claim; default every sync shard (tests use a shard of their own). */
  shards?: number[];
}

export function liveEventsOptionsFromEnv(): LiveEventsOptions {
  return {
    maxStreams: Number(process.env.ANVIL_LIVE_EVENTS_MAX ?? 2000),
    rescanMs: Number(process.env.ANVIL_LIVE_EVENTS_RESCAN_S ?? 10) * 1000,
    noStreamRetryMs: 15 * 60_000,
    debounceMs: 100,
  };
}

/** A subscription that failed for good (credentials refused, say) is tried again after this long. */
const FAILED_RETRY_MS = 60_000;

/** The advisory-lock class of live-event shards (the shard number is the lock's second key). */
const LOCK_CLASS = 0x4c564531; // "LVE1"

interface Stream {
  key: string;
  ctrl: AbortController;
}

interface Refresh {
  timer: NodeJS.Timeout | null;
  running: boolean;
  again: boolean;
}

export class LiveEvents {
  private lockConn: pg.Client | null = null;
  private readonly held = new Set<number>();
  private readonly streams = new Map<string, Stream>();
  /** Nodes whose BMC offered no stream (or refused one for good): until when they are left to polling. */
  private readonly noStream = new Map<string, { key: string; until: number }>();
  private readonly refreshes = new Map<string, Refresh>();
  private timer: NodeJS.Timeout | null = null;
  private rescanning: Promise<void> | null = null;
  private stopped = false;
  /** Streams reopened after they dropped, since start (for tests and the benchmark). */
  reconnected = 0;

  constructor(private readonly opts: LiveEventsOptions) {}

  start(): void {
    if (this.opts.maxStreams <= 0) return;
    const tick = () => {
      this.rescan()
        .catch((e) => logger.warn({ err: (e as Error).message }, "live events: rescan failed"))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.rescanMs);
        });
    };
    tick();
  }

  /** Node ids with an open subscription in this process (for tests and the benchmark). */
  watching(): string[] {
    return [...this.streams.keys()];
  }

  /** Whether no poll after an event is waiting or running (for tests and the benchmark). */
  idle(): boolean {
    return this.refreshes.size === 0;
  }

  /** Shards this process holds. */
  shards(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.rescanning?.catch(() => {});
    for (const id of [...this.streams.keys()]) this.unwatch(id);
    for (const r of this.refreshes.values()) if (r.timer) clearTimeout(r.timer);
    await this.lockConn?.end().catch(() => {});
    this.lockConn = null;
    this.held.clear();
  }

  /** One pass: claim free shards that fit, then make the open streams match the nodes of the held shards. */
  rescan(): Promise<void> {
    this.rescanning ??= this.rescanOnce().finally(() => {
      this.rescanning = null;
    });
    return this.rescanning;
  }

  private async rescanOnce(): Promise<void> {
    if (this.stopped) return;
    const conn = await this.lockConnection();
    const db = getDb();
    const live = ne(nodes.provisionState, "enroll");
    const perShard = await db.select({ shard: nodes.syncShard, n: count() }).from(nodes).where(live).groupBy(nodes.syncShard);
    const sizes = new Map(perShard.map((r) => [r.shard, r.n]));
    let load = [...this.held].reduce((sum, s) => sum + (sizes.get(s) ?? 0), 0);
    for (const s of this.opts.shards ?? Array.from({ length: SYNC_SHARDS }, (_, i) => i)) {
      if (this.held.has(s)) continue;
      const size = sizes.get(s) ?? 0;
      if (load + size > this.opts.maxStreams) continue;
      const r = await conn.query<{ ok: boolean }>("select pg_try_advisory_lock($1, $2) as ok", [LOCK_CLASS, s]);
      if (!r.rows[0]?.ok) continue;
      this.held.add(s);
      load += size;
    }
    // A DPU still waiting for its own BMC credentials is not called at all (the sync says so on its row).
    const rows = (this.held.size ? await syncNodes(and(live, inArray(nodes.syncShard, [...this.held]))) : []).filter(
      (n): n is typeof n & { bmcCredentials: string } => n.bmcCredentials !== null,
    );
    const wanted = new Map(rows.map((n) => [n.id, n]));
    for (const [id, st] of this.streams) {
      const n = wanted.get(id);
      if (!n || keyOf(n) !== st.key) this.unwatch(id);
    }
    for (const id of this.noStream.keys()) if (!wanted.has(id)) this.noStream.delete(id);
    const now = Date.now();
    for (const n of rows) {
      if (this.streams.size >= this.opts.maxStreams) break;
      if (this.streams.has(n.id)) continue;
      const ns = this.noStream.get(n.id);
      if (ns && ns.key === keyOf(n) && ns.until > now) continue;
      this.watch(n);
    }
  }

  /** The connection holding the shard locks; a lost connection lost its locks, so the shards are given up too. */
  private async lockConnection(): Promise<pg.Client> {
    if (this.lockConn) return this.lockConn;
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    c.on("error", (e) => {
      logger.warn({ err: e.message }, "live events: lost the shard-lock connection; releasing its shards");
      if (this.lockConn === c) this.lockConn = null;
      this.held.clear();
      for (const id of [...this.streams.keys()]) this.unwatch(id);
      void c.end().catch(() => {});
    });
    await c.connect();
    this.lockConn = c;
    return c;
  }

  private watch(n: Awaited<ReturnType<typeof syncNodes>>[number] & { bmcCredentials: string }): void {
    const d = driverFor(n);
    const key = keyOf(n);
    if (!d.events) {
      this.noStream.set(n.id, { key, until: Date.now() + this.opts.noStreamRetryMs });
      return;
    }
    const ctrl = new AbortController();
    let connects = 0;
    this.streams.set(n.id, { key, ctrl });
    this.noStream.delete(n.id);
    // What happened while nobody watched (before this process held the shard, or while the stream was down).
    this.refreshSoon(n.id);
    d.events
      .subscribe((e) => this.onEvent(n.id, e), {
        signal: ctrl.signal,
        fallback: "none",
        onError: (e) => logger.debug({ node: n.name, err: e.message }, "live events: stream interrupted; reconnecting"),
        onConnect: () => {
          // The first open follows the refresh above; a reopened stream may have missed events while it was down.
          if (connects++ > 0) {
            this.reconnected++;
            this.refreshSoon(n.id);
          }
        },
      })
      .then(() => {
        if (ctrl.signal.aborted) return;
        logger.info({ node: n.name }, "live events: the BMC offers no event stream; the node stays on polling");
        this.giveUp(n.id, key, ctrl);
      })
      .catch((e) => {
        if (ctrl.signal.aborted) return;
        logger.warn({ node: n.name, err: (e as Error).message }, "live events: subscription failed; the node stays on polling for now");
        this.giveUp(n.id, key, ctrl, FAILED_RETRY_MS);
      });
  }

  private giveUp(id: string, key: string, ctrl: AbortController, retryMs = this.opts.noStreamRetryMs) {
    if (this.streams.get(id)?.ctrl !== ctrl) return;
    this.streams.delete(id);
    this.noStream.set(id, { key, until: Date.now() + retryMs });
  }

  private unwatch(id: string): void {
    const st = this.streams.get(id);
    if (!st) return;
    this.streams.delete(id);
    st.ctrl.abort();
  }

  private onEvent(nodeId: string, e: BmcLiveEvent): void {
    logger.debug({ node: nodeId, kind: e.kind, messageId: e.messageId }, "live events: event");
    this.refreshSoon(nodeId);
  }

  /** Polls the node and reads its SEL shortly (events in a burst share one pass; one pass per node at a time). */
  private refreshSoon(nodeId: string): void {
    let r = this.refreshes.get(nodeId);
    if (!r) {
      r = { timer: null, running: false, again: false };
      this.refreshes.set(nodeId, r);
    }
    if (r.running) {
      r.again = true;
      return;
    }
    if (r.timer) return;
    const state = r;
    state.timer = setTimeout(() => {
      state.timer = null;
      void this.refresh(nodeId, state);
    }, this.opts.debounceMs);
  }

  private async refresh(nodeId: string, r: Refresh): Promise<void> {
    r.running = true;
    try {
      const [n] = await syncNodes(eq(nodes.id, nodeId));
      if (!n || this.stopped) return;
      const polledAt = new Date();
      const o = await pollNode(n);
      await applyPoll(n, o, polledAt);
      if (!o.bmcError) await readSel(nodeId);
    } catch (e) {
      logger.warn({ node: nodeId, err: (e as Error).message }, "live events: refresh after an event failed; the sync will catch up");
    } finally {
      r.running = false;
      if (r.again && !this.stopped) {
        r.again = false;
        this.refreshSoon(nodeId);
      } else this.refreshes.delete(nodeId);
    }
  }
}

/** What identifies a node's BMC connection: a change (address, credentials) restarts its stream. */
function keyOf(n: { bmcDriver: string; bmcAddress: string; bmcCredentials: string; bmcVerifyTls: boolean }): string {
  return `${n.bmcDriver}|${n.bmcAddress}|${n.bmcCredentials}|${n.bmcVerifyTls}`;
}

const g = globalThis as { __anvilLiveEvents?: LiveEvents };

/** Starts this process's live-event service (server/runtime.ts); returns its stopper. */
export function startLiveEvents(opts: LiveEventsOptions = liveEventsOptionsFromEnv()): LiveEvents {
  g.__anvilLiveEvents ??= new LiveEvents(opts);
  g.__anvilLiveEvents.start();
  return g.__anvilLiveEvents;
}
