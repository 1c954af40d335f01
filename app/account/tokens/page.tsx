// The signed-in user's API tokens.
import { TokensPage } from "@/components/tenancy/tokens-page";

export const metadata = { title: "API tokens" };

export default function Page() {
  return <TokensPage />;
}
