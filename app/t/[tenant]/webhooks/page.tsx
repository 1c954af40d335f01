// Tenant portal: the tenant's webhooks (tenant admins).
import { WebhooksPage } from "@/components/webhooks/webhooks-page";

export const metadata = { title: "Webhooks" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  return <WebhooksPage tenant={tenant} />;
}
