// Operator console: bare-metal pools.
import { PoolsPage } from "@/components/pools/pools-page";

export const metadata = { title: "Pools" };

export default function Page() {
  return <PoolsPage />;
}
