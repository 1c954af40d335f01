// Live BMC events: in each BFF process, one event-stream subscription (driver.events.subscribe, Redfish SSE) per
// enrolled node whose BMC offers one, so a fault reaches hardware_events and the node row within a second instead of
// at the next 30 s sync pass. An event is not trusted for the state itself: it makes the node be polled and its SEL
// read now, and what the poll finds is written exactly as the sync writes it (applyPoll), so both paths agree on
// messages and faults. Nodes whose BMC has no stream stay on the sync's polling alone (which also keeps running for
// streamed nodes: it catches what a dropped stream missed).
//
// A BMC without an event stream but with push subscriptions (Redfish EventService Subscriptions) is asked to POST its
// events to Anvil's receiver instead (app/api/bmc-events/[token], server/live-events/push.ts): an EventDestination at
// <pushBaseUrl>/api/bmc-events/<token>, the token a per-subscription secret whose hash (bmc_event_subscriptions) names
// the node. A pushed event takes the same path as a streamed one (refreshSoon). The watcher deletes the subscription at
// the BMC when the node goes, its BMC settings change or the shard leaves this process, and checks every
// subscriptionCheckMs (the sync's cadence) that the BMC still has it, re-creating it when it lost it (a BMC reset).
//
// Replicas split the work by the sync's shards: a process watches the nodes of the shards it holds a Postgres
// advisory lock on (session locks on one dedicated connection: a replica that dies or loses its connection frees its
// shards, which another replica claims at its next rescan). A process claims shards only while their nodes fit under
// its stream limit, so with several replicas the shards spread over them.
import { randomBytes } from "node:crypto";
import { and, count, eq, inArray, ne } from "drizzle-orm";
import pg from "pg";
import { getDb } from "@/db/client";
import { bmcEventSubscriptions, nodes } from "@/db/schema";
import { type BmcEventPush, type BmcLiveEvent, createBmcDriver } from "@/server/drivers/bmc";
import { logger } from "@/server/lib/log";
import { driverFor, endpointFor } from "@/server/workflows/bmc-access";
import { SYNC_SHARDS } from "@/server/workflows/enroll";
import { readSel } from "@/server/workflows/sel";
import { applyPoll, pollNode, SYNC_INTERVAL_S, syncNodes } from "@/server/workflows/sync";
import { PUSH_PATH, tokenHash } from "./push";

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
  /** Base URL BMCs post pushed events to (ANVIL_BMC_EVENTS_URL); without it, BMCs without a stream stay on polling. */
  pushBaseUrl?: string;
  /** How often a push subscription is checked at its BMC and re-created if lost (default the sync interval). */
  subscriptionCheckMs?: number;
}

export function liveEventsOptionsFromEnv(): LiveEventsOptions {
  return {
    maxStreams: Number(process.env.ANVIL_LIVE_EVENTS_MAX ?? 2000),
    rescanMs: Number(process.env.ANVIL_LIVE_EVENTS_RESCAN_S ?? 10) * 1000,
    noStreamRetryMs: 15 * 60_000,
    debounceMs: 100,
    pushBaseUrl: pushBaseUrlFromEnv(),
    subscriptionCheckMs: SYNC_INTERVAL_S * 1000,
  };
}

/**
 * Where BMCs reach this deployment's event receiver: ANVIL_BMC_EVENTS_URL; else ANVIL_URL unless that is a loopback
 * name (a browser's localhost means nothing to a BMC), else this process on 127.0.0.1 — the lab, whose BMCs are
 * loopback processes of the same machine.
 */
export function pushBaseUrlFromEnv(env: Record<string, string | undefined> = process.env): string {
  if (env.ANVIL_BMC_EVENTS_URL) return env.ANVIL_BMC_EVENTS_URL.replace(/\/+$/, "");
  if (env.ANVIL_URL) {
    const u = new URL(env.ANVIL_URL);
    if (!/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(u.hostname)) return u.origin;
  }
  return `http://127.0.0.1:${env.PORT ?? 3000}`;
}

/** A subscription that failed for good (credentials refused, say) is tried again after this long. */
const FAILED_RETRY_MS = 60_000;

/** The advisory-lock class of live-event shards (the shard number is the lock's second key). */
const LOCK_CLASS = 0x4c564531; // "LVE1"

type SyncNode = Awaited<ReturnType<typeof syncNodes>>[number] & { bmcCredentials: string };

interface Stream {
  key: string;
  ctrl: AbortController;
  /** The node as watched (its BMC settings then: what a subscription is deleted with after the row changed or went). */
  node: SyncNode;
  /** Set once the node's events arrive: by its SSE stream, or pushed to the subscription at uri. */
  delivery?: "sse" | "push";
  push?: { uri: string; checkedAt: number; checking: boolean };
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
  /** Subscriptions being made or checked and the cleanups of unwatch, awaited by stop(). */
  private readonly pending = new Set<Promise<unknown>>();
  /** Streams reopened after they dropped, since start (for tests and the benchmark). */
  reconnected = 0;
  /** Push subscriptions re-created because the BMC had lost them, since start (for tests). */
  resubscribed = 0;

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

  /** How a watched node's events arrive now ("sse", "push"), or undefined (being set up, or not watched). */
  deliveryOf(nodeId: string): "sse" | "push" | undefined {
    return this.streams.get(nodeId)?.delivery;
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
    // Subscribing, checking and cleaning up that is under way (each may start a cleanup of its own).
    while (this.pending.size) await Promise.allSettled([...this.pending]);
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
    const every = this.opts.subscriptionCheckMs ?? SYNC_INTERVAL_S * 1000;
    for (const [id, st] of this.streams) if (st.push && !st.push.checking && st.push.checkedAt + every <= now) this.track(this.checkPush(id, st));
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

  private watch(n: SyncNode): void {
    const d = driverFor(n);
    const key = keyOf(n);
    if (!d.events) {
      this.noStream.set(n.id, { key, until: Date.now() + this.opts.noStreamRetryMs });
      return;
    }
    const ctrl = new AbortController();
    let connects = 0;
    const st: Stream = { key, ctrl, node: n };
    this.streams.set(n.id, st);
    this.noStream.delete(n.id);
    // What happened while nobody watched (before this process held the shard, or while the stream was down).
    this.refreshSoon(n.id);
    const running = d.events
      .subscribe((e) => this.onEvent(n.id, e), {
        signal: ctrl.signal,
        fallback: "none",
        onError: (e) => logger.debug({ node: n.name, err: e.message }, "live events: stream interrupted; reconnecting"),
        onConnect: () => {
          if (connects === 0) {
            st.delivery = "sse";
            this.track(this.record(n.id, { delivery: "sse", subscriptionUri: null, tokenHash: null, destination: null }));
          }
          // The first open follows the refresh above; a reopened stream may have missed events while it was down.
          if (connects++ > 0) {
            this.reconnected++;
            this.refreshSoon(n.id);
          }
        },
      })
      .then(async () => {
        if (ctrl.signal.aborted) return;
        const push = this.opts.pushBaseUrl ? d.eventPush : undefined;
        if (push && (await push.supported())) return this.subscribePush(n.id, st, push);
        logger.info({ node: n.name }, "live events: the BMC offers neither an event stream nor subscriptions; the node stays on polling");
        this.giveUp(n.id, key, ctrl);
      })
      .catch((e) => {
        if (ctrl.signal.aborted) return;
        logger.warn({ node: n.name, err: (e as Error).message }, "live events: subscription failed; the node stays on polling for now");
        this.giveUp(n.id, key, ctrl, FAILED_RETRY_MS);
      });
    // Ends soon after the abort of unwatch; stop() waits for it (a push subscription may be finishing).
    this.track(running);
  }

  private giveUp(id: string, key: string, ctrl: AbortController, retryMs = this.opts.noStreamRetryMs) {
    const st = this.streams.get(id);
    if (st?.ctrl !== ctrl) return;
    this.streams.delete(id);
    this.noStream.set(id, { key, until: Date.now() + retryMs });
    if (st.delivery) this.track(this.forget(id));
  }

  private unwatch(id: string): void {
    const st = this.streams.get(id);
    if (!st) return;
    this.streams.delete(id);
    st.ctrl.abort();
    if (st.push) this.track(this.dropPush(st.node, st.push.uri));
    else if (st.delivery) this.track(this.forget(id));
  }

  private track(p: Promise<unknown>): void {
    const q = p
      .catch((e) => logger.warn({ err: (e as Error).message }, "live events: a subscription step or cleanup failed"))
      .finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  /** Says (for the node's page) how its events arrive; a node deleted meanwhile has nothing to record. */
  private async record(nodeId: string, v: Omit<typeof bmcEventSubscriptions.$inferInsert, "nodeId">): Promise<void> {
    const [n] = await getDb().select({ id: nodes.id }).from(nodes).where(eq(nodes.id, nodeId));
    if (!n) return;
    await getDb()
      .insert(bmcEventSubscriptions)
      .values({ nodeId, ...v })
      .onConflictDoUpdate({ target: bmcEventSubscriptions.nodeId, set: { ...v, updatedAt: new Date() } });
  }

  private async forget(nodeId: string): Promise<void> {
    await getDb().delete(bmcEventSubscriptions).where(eq(bmcEventSubscriptions.nodeId, nodeId));
  }

  /** Creates (or takes over) the node's push subscription; on failure the node stays on polling for a while. */
  private async subscribePush(id: string, st: Stream, push: BmcEventPush): Promise<void> {
    try {
      const uri = await this.ensurePush(id, push);
      if (st.ctrl.signal.aborted) {
        // Unwatched while subscribing: nobody else will delete this one.
        this.track(this.dropPush(st.node, uri));
        return;
      }
      st.delivery = "push";
      st.push = { uri, checkedAt: Date.now(), checking: false };
      logger.info({ node: st.node.name, subscription: uri }, "live events: the BMC offers no event stream; it pushes its events to Anvil");
    } catch (e) {
      if (st.ctrl.signal.aborted) return;
      logger.warn({ node: st.node.name, err: (e as Error).message }, "live events: push subscription failed; the node stays on polling for now");
      this.giveUp(id, st.key, st.ctrl, FAILED_RETRY_MS);
    }
  }

  /**
   * The node's subscription at its BMC: the recorded one while the BMC still holds it with its token, else a new one
   * (the old one and any subscription of Anvil's that no node's row knows — left by a replica that died — deleted).
   */
  private async ensurePush(nodeId: string, push: BmcEventPush): Promise<string> {
    const db = getDb();
    const prefix = `${this.opts.pushBaseUrl}${PUSH_PATH}`;
    const [row] = await db.select().from(bmcEventSubscriptions).where(eq(bmcEventSubscriptions.nodeId, nodeId));
    if (row?.delivery === "push" && row.subscriptionUri) {
      const have = await push.get(row.subscriptionUri);
      if (have?.context && tokenHash(have.context) === row.tokenHash && have.destination === prefix + have.context) return row.subscriptionUri;
      if (have) await push.remove(row.subscriptionUri);
    }
    const ours = (await push.list()).filter((s) => s.destination.startsWith(prefix));
    if (ours.length) {
      const known = new Set(
        (
          await db
            .select({ h: bmcEventSubscriptions.tokenHash })
            .from(bmcEventSubscriptions)
            .where(
              inArray(
                bmcEventSubscriptions.tokenHash,
                ours.map((s) => tokenHash(s.destination.slice(prefix.length))),
              ),
            )
        ).map((r) => r.h),
      );
      for (const s of ours) if (!known.has(tokenHash(s.destination.slice(prefix.length)))) await push.remove(s.uri);
    }
    const token = randomBytes(32).toString("base64url");
    const uri = await push.create(prefix + token, token);
    try {
      const [n] = await db.select({ id: nodes.id }).from(nodes).where(eq(nodes.id, nodeId));
      if (!n) throw new Error("the node was deleted while subscribing");
      const v = { delivery: "push" as const, subscriptionUri: uri, tokenHash: tokenHash(token), destination: prefix };
      await db
        .insert(bmcEventSubscriptions)
        .values({ nodeId, ...v })
        .onConflictDoUpdate({ target: bmcEventSubscriptions.nodeId, set: { ...v, updatedAt: new Date() } });
    } catch (e) {
      await push.remove(uri).catch(() => {});
      throw e;
    }
    return uri;
  }

  /** On the sync's cadence: the BMC still holds the subscription (a reset may have wiped it), else it is made again. */
  private async checkPush(id: string, st: Stream): Promise<void> {
    if (!st.push) return;
    st.push.checking = true;
    try {
      const uri = await this.ensurePush(id, driverFor(st.node).eventPush!);
      if (this.streams.get(id) !== st) {
        if (uri !== st.push.uri) this.track(this.dropPush(st.node, uri));
        return;
      }
      if (uri !== st.push.uri) {
        logger.info({ node: st.node.name, subscription: uri }, "live events: the BMC had lost its push subscription; re-created");
        st.push.uri = uri;
        this.resubscribed++;
        // Whatever happened while the BMC had no subscription was pushed to nobody.
        this.refreshSoon(id);
      }
    } catch (e) {
      logger.warn({ node: st.node.name, err: (e as Error).message }, "live events: checking the push subscription failed; trying again later");
    } finally {
      st.push.checking = false;
      st.push.checkedAt = Date.now();
    }
  }

  /** Deletes a subscription at the BMC with the BMC settings it was made with, and its row (if the node still has it). */
  private async dropPush(n: SyncNode, uri: string): Promise<void> {
    const d = createBmcDriver(endpointFor(n));
    try {
      await d.eventPush?.remove(uri);
    } finally {
      await d.close().catch(() => {});
      await getDb()
        .delete(bmcEventSubscriptions)
        .where(and(eq(bmcEventSubscriptions.nodeId, n.id), eq(bmcEventSubscriptions.subscriptionUri, uri)));
    }
  }

  private onEvent(nodeId: string, e: BmcLiveEvent): void {
    logger.debug({ node: nodeId, kind: e.kind, messageId: e.messageId }, "live events: event");
    this.refreshSoon(nodeId);
  }

  /** Polls the node and reads its SEL shortly (events in a burst share one pass; one pass per node at a time): what an
   *  event does, streamed or pushed (server/live-events/push.ts). */
  refreshSoon(nodeId: string): void {
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
