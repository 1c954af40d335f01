// The signed-in user's sessions: see them, sign them out.
import { SessionsPage } from "@/components/account/sessions-page";

export const metadata = { title: "Sessions" };

export default function Page() {
  return <SessionsPage />;
}
