// One shared console session per node: a single upstream connection to the BMC fanned out to every viewer,
// a scrollback ring (256 KiB) replayed to whoever joins, reconnection with backoff when the BMC drops the
// session, and a linger period after the last viewer leaves so output (a crash-looping server's boot log)
// keeps flowing into the ring and can be read afterwards. Knows nothing of WebSockets or auth (proxy.ts).
import { isBmcError } from "@/server/drivers/bmc/types";
import { ByteRing, trimReplayStart } from "./ring";
import type { ConsoleBackend, ConsoleStream } from "./types";

export type ConsoleState = "connecting" | "connected" | "reconnecting" | "closed";

export interface ConsoleStatus {
  type: "status";
  state: ConsoleState;
  reason?: string;
}

/** What the session needs from a viewer (the proxy wraps a browser WebSocket in one). */
export interface ConsoleViewer {
  /** Terminal bytes (replay and live output). */
  output(chunk: Buffer): void;
  status(s: ConsoleStatus): void;
  /** The session ended for good (a BMC refusal no retry can fix, a handover of the host, or Anvil shutting down). */
  end(reason: string, code?: number): void;
}

export interface ConsoleSessionOptions {
  /** Scrollback ring size, bytes. Default 256 KiB. */
  scrollbackBytes?: number;
  /** Keep the upstream open this long after the last viewer leaves, ms. Default 10 min. */
  lingerMs?: number;
  /** First reconnect delay, doubled per failure up to maxBackoffMs (with ±20% jitter). Default 500 ms. */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /** A connection that stayed up this long resets the backoff. Default 10 s. */
  stableAfterMs?: number;
  /** Write "[console: …]" status lines into the terminal stream (and the ring). Default true. */
  statusLines?: boolean;
}

const DEFAULTS = { scrollbackBytes: 256 * 1024, lingerMs: 10 * 60_000, initialBackoffMs: 500, maxBackoffMs: 30_000, stableAfterMs: 10_000, statusLines: true };

/** BmcError codes a retry cannot fix: wrong credentials, no console offered, a bad node configuration. */
function isFatal(e: unknown): boolean {
  return isBmcError(e) && (e.code === "auth" || e.code === "unsupported" || e.code === "invalid" || e.code === "tls" || e.code === "forbidden");
}

/** Input typed while the upstream reconnects: kept up to this much, this long. */
const PENDING_INPUT_MAX = 4096;
const PENDING_INPUT_MAX_AGE_MS = 60_000;

/** Close code and words for a session ended because its host changed hands (the UI reconnects once, re-resolving). */
export const HANDOVER_CODE = 4409;
export const HANDOVER_REASON =
  "This server changed hands (its instance was deleted, rebuilt, moved or recovered); the console session and its scrollback were closed";

export class ConsoleSession {
  readonly ring: ByteRing;
  private readonly viewers = new Set<ConsoleViewer>();
  private stream: ConsoleStream | null = null;
  private stateNow: ConsoleStatus = { type: "status", state: "connecting" };
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private ended = false;
  private connectedAt = 0;
  private pendingInput: Buffer[] = [];
  private pendingBytes = 0;
  private pendingSince = 0;
  private droppedInput = 0;
  private readonly o: typeof DEFAULTS;
  /** Upstream connections opened so far (1 + reconnects), for tests and the bench. */
  connects = 0;

  constructor(
    readonly nodeId: string,
    private readonly backend: () => Promise<ConsoleBackend> | ConsoleBackend,
    opts: ConsoleSessionOptions = {},
    private readonly onEnd: (s: ConsoleSession) => void = () => {},
    /** The node's console epoch this session belongs to (db/schema/console.ts); a handover ends it. */
    readonly epoch = 0,
  ) {
    this.o = { ...DEFAULTS, ...opts };
    this.ring = new ByteRing(this.o.scrollbackBytes);
    this.backoffMs = this.o.initialBackoffMs;
    void this.open();
  }

  get state(): ConsoleStatus {
    return this.stateNow;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Adds a viewer: it gets the current status, then the scrollback, then live output. */
  attach(v: ConsoleViewer): void {
    if (this.ended) {
      v.end(this.stateNow.reason ?? "The console session has ended");
      return;
    }
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.viewers.add(v);
    v.status(this.stateNow);
    const replay = this.ring.snapshot();
    if (replay.length) v.output(this.ring.total > this.ring.capacity ? trimReplayStart(replay) : replay);
  }

  /** Removes a viewer; the last one out starts the linger period. */
  detach(v: ConsoleViewer): void {
    if (!this.viewers.delete(v) || this.viewers.size > 0 || this.ended) return;
    this.lingerTimer = setTimeout(() => void this.end("Nobody watched this console for a while; it was closed"), this.o.lingerMs);
    this.lingerTimer.unref();
  }

  /**
   * Terminal input. While the upstream is reconnecting, what is typed is kept (up to 4 KiB, for a minute) and sent
   * once the console is back, with a line in the terminal saying so — input is never dropped silently; anything over
   * the bound is reported as not sent. A session that ends (a handover included) forgets it.
   */
  write(data: Buffer): void {
    if (this.ended) return;
    if (this.stream) {
      this.stream.write(data);
      return;
    }
    if (!this.pendingInput.length) {
      this.pendingSince = Date.now();
      this.statusLine("not connected: what you type is kept and sent when the console is back");
    }
    if (this.pendingBytes + data.length > PENDING_INPUT_MAX) {
      this.droppedInput += data.length;
      return;
    }
    this.pendingInput.push(Buffer.from(data));
    this.pendingBytes += data.length;
  }

  /** Sends input typed while reconnecting (or says why it was not). */
  private flushPendingInput(stream: ConsoleStream) {
    const bytes = Buffer.concat(this.pendingInput);
    const stale = Date.now() - this.pendingSince > PENDING_INPUT_MAX_AGE_MS;
    const dropped = this.droppedInput + (stale ? bytes.length : 0);
    this.pendingInput = [];
    this.pendingBytes = 0;
    this.droppedInput = 0;
    if (bytes.length && !stale) {
      stream.write(bytes);
      this.statusLine(`sent ${bytes.length} byte${bytes.length === 1 ? "" : "s"} typed while reconnecting`);
    }
    if (dropped) this.statusLine(`${dropped} typed byte${dropped === 1 ? " was" : "s were"} not sent (over 4 KiB, or older than a minute, while reconnecting)`);
  }

  /** Rejects with a message for the viewer when there is no live session or the backend cannot send one. */
  async sendBreak(): Promise<void> {
    if (!this.stream) throw new Error("The console is not connected to the BMC right now");
    await this.stream.sendBreak();
  }

  resize(cols: number, rows: number): void {
    this.stream?.resize?.(cols, rows);
  }

  /**
   * Ends the session for good: closes the upstream and every viewer, and forgets the scrollback (nothing of it
   * may reach whoever opens the next session). `code` is passed to the viewers (the proxy's close code).
   */
  async end(reason: string, code?: number): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.setState("closed", reason);
    for (const v of [...this.viewers]) v.end(reason, code);
    this.viewers.clear();
    this.ring.clear();
    this.pendingInput = [];
    this.pendingBytes = 0;
    this.onEnd(this);
    const s = this.stream;
    this.stream = null;
    await s?.close().catch(() => {});
  }

  private setState(state: ConsoleState, reason?: string) {
    this.stateNow = reason ? { type: "status", state, reason } : { type: "status", state };
    for (const v of this.viewers) v.status(this.stateNow);
  }

  /** A status line in the terminal itself, so the scrollback shows where the output had a gap. */
  private statusLine(text: string) {
    if (!this.o.statusLines) return;
    this.broadcast(Buffer.from(`\r\n\x1b[2m[console: ${text}]\x1b[0m\r\n`, "utf8"));
  }

  private broadcast(chunk: Buffer) {
    this.ring.write(chunk);
    for (const v of this.viewers) v.output(chunk);
  }

  private async open(): Promise<void> {
    if (this.ended) return;
    this.connects++;
    let stream: ConsoleStream;
    try {
      const backend = await this.backend();
      stream = await backend.connect();
    } catch (e) {
      const msg = (e as Error).message || String(e);
      if (isFatal(e)) {
        this.statusLine(msg);
        await this.end(msg);
        return;
      }
      this.retry(msg);
      return;
    }
    if (this.ended) {
      await stream.close().catch(() => {});
      return;
    }
    this.stream = stream;
    this.connectedAt = Date.now();
    const wasReconnect = this.connects > 1;
    stream.on("data", (d) => this.broadcast(d));
    stream.once("close", (r) => {
      if (this.stream !== stream) return;
      this.stream = null;
      if (this.ended) return;
      if (Date.now() - this.connectedAt >= this.o.stableAfterMs) this.backoffMs = this.o.initialBackoffMs;
      this.retry(r.message);
    });
    if (wasReconnect) this.statusLine("reconnected");
    this.setState("connected");
    if (this.pendingInput.length || this.droppedInput) this.flushPendingInput(stream);
  }

  private retry(reason: string) {
    const delay = Math.round(this.backoffMs * (0.8 + Math.random() * 0.4));
    this.backoffMs = Math.min(this.o.maxBackoffMs, this.backoffMs * 2);
    this.statusLine(`${reason}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
    this.setState("reconnecting", reason);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.setState("connecting");
      void this.open();
    }, delay);
    this.retryTimer.unref();
  }
}

/** The sessions of one BFF process, one per node. */
export class ConsoleHub {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly opts: ConsoleSessionOptions = {}) {}

  /**
   * The node's session for this console epoch, opening the upstream when there is none. A session of an older
   * epoch is ended first (the host changed hands: its scrollback must not be replayed). A session of a NEWER epoch
   * is returned as it is — the caller's grant is stale, and the caller must compare `epoch` and refuse.
   */
  session(nodeId: string, backend: () => Promise<ConsoleBackend> | ConsoleBackend, epoch = 0): ConsoleSession {
    let s = this.sessions.get(nodeId);
    if (s && !s.isEnded && s.epoch < epoch) {
      void s.end(HANDOVER_REASON, HANDOVER_CODE);
      s = undefined;
    }
    if (!s || s.isEnded) {
      s = new ConsoleSession(
        nodeId,
        backend,
        this.opts,
        (ended) => {
          if (this.sessions.get(nodeId) === ended) this.sessions.delete(nodeId);
        },
        epoch,
      );
      this.sessions.set(nodeId, s);
    }
    return s;
  }

  /** The host changed hands (its epoch is now `epoch`): end its older session, scrollback and viewers included. */
  async handover(nodeId: string, epoch: number): Promise<boolean> {
    const s = this.sessions.get(nodeId);
    if (!s || s.isEnded || s.epoch >= epoch) return false;
    await s.end(HANDOVER_REASON, HANDOVER_CODE);
    return true;
  }

  /** Every live session (for the proxy's periodic epoch sweep). */
  list(): ConsoleSession[] {
    return [...this.sessions.values()].filter((s) => !s.isEnded);
  }

  get(nodeId: string): ConsoleSession | undefined {
    return this.sessions.get(nodeId);
  }

  get size(): number {
    return this.sessions.size;
  }

  async closeAll(reason = "Anvil is shutting down"): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.end(reason)));
  }
}
