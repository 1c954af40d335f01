// Live events for the Redfish driver: a Server-Sent Events reader for the EventService's
// ServerSentEventUri (DSP0266 §13.3), the mapping of Redfish Event records to Anvil's BmcLiveEvent, and
// the subscribe loop that reconnects with backoff (resuming with Last-Event-ID) — or, when the BMC
// offers no event stream, polls power state, health and the SEL instead.
//
// SSE first, because it is a client connection; EventService push subscriptions (redfish-push.ts) need the BMC
// to reach back into Anvil over the management network, which is often one-way, so they are only the fallback for
// BMCs without a stream (server/live-events/service.ts).
import type { Dispatcher } from "undici";
import { BmcError, type BmcEvent, type BmcHealth, type BmcLiveEvent, type Health, isBmcError, type PowerState, type SubscribeOptions } from "./types";

export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
}

/** Incremental text/event-stream parser: feed chunks, get complete frames (comments and retry: ignored). */
export class SseParser {
  private buf = "";
  private frame: { id?: string; event?: string; data: string[] } = { data: [] };

  push(chunk: string): SseFrame[] {
    this.buf += chunk;
    const out: SseFrame[] = [];
    for (;;) {
      const nl = this.buf.search(/\r\n|\r|\n/);
      if (nl < 0) break;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(this.buf.startsWith("\r\n", nl) ? nl + 2 : nl + 1);
      if (line === "") {
        if (this.frame.data.length)
          out.push({
            ...(this.frame.id !== undefined ? { id: this.frame.id } : {}),
            ...(this.frame.event ? { event: this.frame.event } : {}),
            data: this.frame.data.join("\n"),
          });
        this.frame = { data: [] };
        continue;
      }
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? "" : line.slice(i + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.frame.data.push(value);
      else if (field === "id") this.frame.id = value;
      else if (field === "event") this.frame.event = value;
    }
    return out;
  }
}

const sev = (s: unknown): BmcLiveEvent["severity"] => (s === "Critical" ? "critical" : s === "Warning" ? "warning" : "ok");

const POWER_BY_MESSAGE: Record<string, PowerState> = {
  ResourcePoweredOn: "on",
  ResourcePoweredOff: "off",
  ResourcePoweringOn: "powering_on",
  ResourcePoweringOff: "powering_off",
};

/** One Redfish Event payload (an "Event Array") → Anvil events. */
export function eventsFromRedfish(payload: unknown, frameId: string | undefined): BmcLiveEvent[] {
  if (!payload || typeof payload !== "object") return [];
  const p = payload as Record<string, unknown>;
  const records = Array.isArray(p.Events) ? p.Events : [];
  const out: BmcLiveEvent[] = [];
  records.forEach((raw, i) => {
    if (!raw || typeof raw !== "object") return;
    const r = raw as Record<string, unknown>;
    const messageId = typeof r.MessageId === "string" ? r.MessageId : undefined;
    const short = messageId?.split(".").pop() ?? "";
    const origin = (r.OriginOfCondition as Record<string, unknown> | undefined)?.["@odata.id"];
    const at = typeof r.EventTimestamp === "string" ? new Date(r.EventTimestamp) : null;
    const ev: BmcLiveEvent = {
      id: typeof r.EventId === "string" ? r.EventId : `${frameId ?? p.Id ?? "?"}.${i}`,
      at: at && !Number.isNaN(at.getTime()) ? at : null,
      kind: "other",
      severity: sev(r.MessageSeverity ?? r.Severity),
      message: typeof r.Message === "string" ? r.Message : (messageId ?? "event"),
      ...(messageId ? { messageId } : {}),
      ...(typeof origin === "string" ? { origin } : {}),
      source: "stream",
    };
    const power = POWER_BY_MESSAGE[short];
    const health = /^ResourceStatusChanged(OK|Warning|Critical)$/.exec(short);
    if (power) {
      ev.kind = "power";
      ev.powerState = power;
    } else if (health) {
      ev.kind = "health";
      ev.health = health[1].toLowerCase() as Health;
    } else if (typeof origin === "string" && /\/LogServices\/[^/]+\/Entries\//.test(origin)) {
      ev.kind = "log";
    }
    out.push(ev);
  });
  return out;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** Errors no reconnect can fix: the subscription ends with them. */
const fatal = (e: unknown) => !isBmcError(e) || (!e.transient && e.code !== "bmc_error" && e.code !== "bad_response");

export interface StreamSource {
  /** The BMC's address, for error messages. */
  address: string;
  /** ServerSentEventUri, or null when the BMC offers none. */
  sseUri(): Promise<string | null>;
  open(uri: string, signal: AbortSignal, lastEventId: string | undefined): Promise<Dispatcher.ResponseData>;
  /** For the polling fallback. */
  powerState(): Promise<PowerState>;
  health(): Promise<BmcHealth>;
  log(): Promise<BmcEvent[]>;
  /** Whether an event's OriginOfCondition concerns this driver's system (a BMC serving several streams them all). */
  ours?(origin: string): boolean;
}

/**
 * Runs until opts.signal aborts. SSE with reconnect (backoff 0.5 s doubling to 30 s, ±20% jitter;
 * reset once a stream delivered something), else polling (or, with fallback "none", nothing). A stream URI that
 * answers 404/405/501 is treated like none.
 */
export async function subscribeEvents(src: StreamSource, onEvent: (e: BmcLiveEvent) => void, opts: SubscribeOptions = {}): Promise<void> {
  const signal = opts.signal ?? new AbortController().signal;
  let uri: string | null;
  for (let failures = 0; ; failures++) {
    try {
      uri = await src.sseUri();
      break;
    } catch (e) {
      if (signal.aborted) return;
      if (fatal(e)) throw e;
      opts.onError?.(e as BmcError);
      await sleep(backoff(failures), signal);
      if (signal.aborted) return;
    }
  }
  if (uri === null) return opts.fallback === "none" ? undefined : poll(src, onEvent, opts, signal);
  let lastId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const res = await src.open(uri, signal, lastId);
      opts.onConnect?.();
      const parser = new SseParser();
      res.body.setEncoding("utf8");
      try {
        for await (const chunk of res.body as AsyncIterable<string>) {
          for (const f of parser.push(chunk)) {
            if (f.id !== undefined) lastId = f.id;
            let payload: unknown;
            try {
              payload = JSON.parse(f.data);
            } catch {
              continue; // a keep-alive or a vendor's non-JSON frame: nothing to deliver
            }
            for (const ev of eventsFromRedfish(payload, f.id)) if (!ev.origin || !src.ours || src.ours(ev.origin)) onEvent(ev);
            failures = 0;
          }
        }
      } catch (e) {
        // The connection cut under a stream being read (the BMC or the network went away) surfaces as the HTTP
        // client's own error, not a BmcError: it is the same "unreachable" a failed connect is, so it reconnects.
        if (isBmcError(e) || signal.aborted) throw e;
        throw new BmcError("unreachable", src.address, `BMC ${src.address} cut the event stream: ${(e as Error).message}`, { cause: e });
      } finally {
        res.body.destroy();
      }
      if (signal.aborted) return;
      opts.onError?.(new BmcError("unreachable", src.address, `BMC ${src.address} ended the event stream; reconnecting`));
    } catch (e) {
      if (signal.aborted) return;
      if (isBmcError(e) && e.code === "unsupported") return opts.fallback === "none" ? undefined : poll(src, onEvent, opts, signal);
      if (fatal(e)) throw e;
      opts.onError?.(e as BmcError);
    }
    await sleep(backoff(failures++), signal);
  }
}

function backoff(failures: number): number {
  return Math.min(30_000, 500 * 2 ** failures) * (0.8 + Math.random() * 0.4);
}

/**
 * Polling fallback, for BMCs without SSE: every pollIntervalMs (default 10 s) read the power state, the
 * health and the SEL, and report what changed (power/health changes, SEL entries not seen before).
 * Coarser than a stream — transitions shorter than the period are missed — but it needs nothing from the
 * BMC beyond the resources every driver call already reads.
 */
async function poll(src: StreamSource, onEvent: (e: BmcLiveEvent) => void, opts: SubscribeOptions, signal: AbortSignal): Promise<void> {
  const every = opts.pollIntervalMs ?? 10_000;
  let power: PowerState | undefined;
  let health: Health | undefined;
  let seen: Set<string> | undefined;
  let n = 0;
  while (!signal.aborted) {
    try {
      const [p, h, log] = await Promise.all([src.powerState(), src.health(), src.log()]);
      const now = new Date();
      if (power !== undefined && p !== power) {
        onEvent({
          id: `poll-${++n}`,
          at: now,
          kind: "power",
          severity: "ok",
          message: `Power state changed from ${power} to ${p}.`,
          powerState: p,
          source: "poll",
        });
      }
      if (health !== undefined && h.health !== health) {
        const s = h.health === "critical" ? "critical" : h.health === "warning" ? "warning" : "ok";
        onEvent({
          id: `poll-${++n}`,
          at: now,
          kind: "health",
          severity: s,
          message: `Health changed from ${health} to ${h.health}${h.reason ? `: ${h.reason}` : ""}.`,
          health: h.health,
          source: "poll",
        });
      }
      if (seen) {
        for (const e of log) {
          if (seen.has(e.id)) continue;
          onEvent({
            id: `sel-${e.id}`,
            at: e.created,
            kind: "log",
            severity: e.severity,
            message: e.message,
            ...(e.messageId ? { messageId: e.messageId } : {}),
            source: "poll",
          });
        }
      }
      power = p;
      health = h.health;
      seen = new Set(log.map((e) => e.id));
    } catch (e) {
      if (signal.aborted) return;
      if (fatal(e)) throw e;
      opts.onError?.(e as BmcError);
    }
    await sleep(every, signal);
  }
}
