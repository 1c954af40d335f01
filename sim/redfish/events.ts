// EventService of each BMC: Redfish Event payloads streamed over Server-Sent Events (ServerSentEventUri)
// and pushed to subscriptions (POST to the subscriber's Destination, loopback destinations only, since
// the lab never talks beyond this machine).

import type { ServerResponse } from "node:http";
import type { Bmc, EventInput } from "./model";

export interface Subscription {
  id: string;
  destination: string;
  protocol: "Redfish";
  context: string | null;
  registryPrefixes: string[];
  resourceTypes: string[];
  eventFormatType: string;
  httpHeaders: Record<string, string>;
}

export interface RedfishEvent {
  "@odata.type": "#Event.v1_7_0.Event";
  Id: string;
  Name: string;
  Context?: string;
  Events: Array<{
    EventType: string;
    EventId: string;
    EventTimestamp: string;
    Severity: string;
    MessageSeverity: string;
    Message: string;
    MessageId: string;
    MessageArgs: string[];
    OriginOfCondition: { "@odata.id": string };
  }>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

export class EventHub {
  private sse = new Map<Bmc, Set<ServerResponse>>();
  private subs = new Map<Bmc, Map<string, Subscription>>();
  private subSeq = 0;
  private inflight = new Set<AbortController>();

  subscriptions(bmc: Bmc): Map<string, Subscription> {
    let m = this.subs.get(bmc);
    if (!m) {
      m = new Map();
      this.subs.set(bmc, m);
    }
    return m;
  }

  peekSubscriptions(bmc: Bmc): Map<string, Subscription> | undefined {
    return this.subs.get(bmc);
  }

  addSubscription(bmc: Bmc, s: Omit<Subscription, "id">): Subscription {
    const sub = { id: String(++this.subSeq), ...s };
    this.subscriptions(bmc).set(sub.id, sub);
    return sub;
  }

  /** Attach an SSE stream; it stays open until the client goes away or the BMC is dropped. */
  addStream(bmc: Bmc, res: ServerResponse): void {
    let set = this.sse.get(bmc);
    if (!set) {
      set = new Set();
      this.sse.set(bmc, set);
    }
    set.add(res);
    const s = set;
    res.on("close", () => {
      s.delete(res);
      if (s.size === 0) this.sse.delete(bmc);
    });
  }

  /** End every stream of a BMC (it became unreachable). */
  dropStreams(bmc: Bmc): void {
    const set = this.sse.get(bmc);
    if (!set) return;
    for (const res of set) res.destroy();
  }

  closeAll(): void {
    for (const set of this.sse.values()) for (const res of set) res.destroy();
    this.sse.clear();
    for (const c of this.inflight) c.abort();
  }

  emit(bmc: Bmc, ev: EventInput): void {
    const streams = this.sse.get(bmc);
    const subs = this.subs.get(bmc);
    if (!streams && !subs) return; // nobody listens: build nothing
    const seq = ++bmc.eventSeq;
    const payload: RedfishEvent = {
      "@odata.type": "#Event.v1_7_0.Event",
      Id: String(seq),
      Name: "Event Array",
      Events: [
        {
          EventType: ev.eventType ?? "Alert",
          EventId: String(seq),
          EventTimestamp: new Date().toISOString(),
          Severity: ev.severity,
          MessageSeverity: ev.severity,
          Message: ev.message,
          MessageId: ev.messageId,
          MessageArgs: ev.args ?? [],
          OriginOfCondition: { "@odata.id": ev.origin },
        },
      ],
    };
    if (streams) {
      const frame = `id: ${seq}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const res of streams) res.write(frame);
    }
    if (subs) for (const sub of subs.values()) this.push(sub, payload, ev);
  }

  private push(sub: Subscription, payload: RedfishEvent, ev: EventInput): void {
    if (sub.registryPrefixes.length > 0 && !sub.registryPrefixes.includes(ev.messageId.split(".")[0])) return;
    let url: URL;
    try {
      url = new URL(sub.destination);
    } catch {
      return;
    }
    if (!LOOPBACK.test(url.hostname)) return; // documented: the lab delivers to loopback listeners only
    const body = JSON.stringify(sub.context === null ? payload : { ...payload, Context: sub.context });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 2000);
    this.inflight.add(ac);
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...sub.httpHeaders }, body, signal: ac.signal })
      .then((r) => r.body?.cancel())
      .catch(() => {
        // Delivery is best effort, as on a real BMC: a dead subscriber must not break the service.
      })
      .finally(() => {
        clearTimeout(timer);
        this.inflight.delete(ac);
      });
  }
}
