// Operator console: platform webhooks (every tenant's events and the fleet's node faults).
import { WebhooksPage } from "@/components/webhooks/webhooks-page";

export const metadata = { title: "Webhooks" };

export default function Page() {
  return <WebhooksPage tenant={null} />;
}
