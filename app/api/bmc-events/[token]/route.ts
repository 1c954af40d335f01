// Events a BMC pushes to its Redfish event subscription (BMCs without an event stream); server/live-events/push.ts.
// Not behind a session: the BMC authenticates by the secret token in the path its subscription was made with.
import { receivePush } from "@/server/live-events/push";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export function POST(req: Request) {
  return receivePush(req);
}
