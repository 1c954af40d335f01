// Redfish push subscriptions (DSP0266 "Event subscription", EventDestination): for a BMC whose EventService offers no
// ServerSentEventUri, Anvil asks it to POST its events to Anvil instead. The EventService links the Subscriptions
// collection; a POST there with Destination, Protocol "Redfish" and a Context creates an EventDestination (201 and its
// Location); the BMC echoes the Context in every event it sends. Used by server/live-events/service.ts.
import type { Json, RedfishResponse } from "./redfish-http";
import { BmcError, type BmcEventPush, type BmcPushSubscription } from "./types";

/** What the subscription code needs of the driver: one call budget per operation and plain requests. */
export interface PushAccess {
  address: string;
  begin(): {
    root(): Promise<Json>;
    get(path: string, what: string, allow?: number[]): Promise<RedfishResponse>;
    post(path: string, body: Json, what: string): Promise<RedfishResponse>;
    remove(path: string, what: string): Promise<RedfishResponse>;
    members(path: string, what: string): Promise<string[]>;
  };
}

const ref = (v: unknown): string | undefined => {
  const id = (v as { "@odata.id"?: unknown } | null | undefined)?.["@odata.id"];
  return typeof id === "string" ? id : undefined;
};
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The Subscriptions collection of an enabled EventService, or null when the BMC has none. */
async function collection(c: ReturnType<PushAccess["begin"]>): Promise<string | null> {
  const es = ref((await c.root()).EventService);
  if (!es) return null;
  const svc = (await c.get(es, "read the event service", [404])).json;
  if (!svc || svc.ServiceEnabled === false) return null;
  return ref(svc.Subscriptions) ?? null;
}

function subscriptionOf(uri: string, j: Json | null): BmcPushSubscription | null {
  const destination = str(j?.Destination);
  if (!destination) return null;
  return { uri, destination, context: str(j?.Context) };
}

export function redfishEventPush(a: PushAccess): BmcEventPush {
  return {
    supported: async () => (await collection(a.begin())) !== null,
    create: async (destination, context) => {
      const c = a.begin();
      const coll = await collection(c);
      if (!coll) throw new BmcError("unsupported", a.address, `BMC ${a.address} takes no event subscriptions (its EventService has no Subscriptions)`);
      const res = await c.post(
        coll,
        { Destination: destination, Protocol: "Redfish", Context: context, EventFormatType: "Event" },
        "create an event subscription",
      );
      const uri = res.headers.location ?? ref(res.json);
      if (!uri) throw new BmcError("bad_response", a.address, `BMC ${a.address} created an event subscription but did not say where (no Location)`);
      // A Location may be absolute; the driver's requests take the path.
      return uri.startsWith("http") ? new URL(uri).pathname : uri;
    },
    get: async (uri) => {
      const res = await a.begin().get(uri, "read an event subscription", [404]);
      return res.status === 404 ? null : subscriptionOf(uri, res.json);
    },
    list: async () => {
      const c = a.begin();
      const coll = await collection(c);
      if (!coll) return [];
      const out: BmcPushSubscription[] = [];
      for (const uri of await c.members(coll, "list the event subscriptions")) {
        const res = await c.get(uri, "read an event subscription", [404]);
        const s = res.status === 404 ? null : subscriptionOf(uri, res.json);
        if (s) out.push(s);
      }
      return out;
    },
    remove: async (uri) => {
      await a.begin().remove(uri, "delete an event subscription");
    },
  };
}
