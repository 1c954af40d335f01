// Operator console: networking across tenants — VPCs/subnets with VNI and VLAN usage, and provider networks.
import { OpsNetworksPage } from "@/components/network/ops-networks-page";

export const metadata = { title: "Networks" };

export default function Page() {
  return <OpsNetworksPage />;
}
