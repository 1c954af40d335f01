// The signed-in user's password and two-factor settings.
import { SecurityPage } from "@/components/account/security-page";

export const metadata = { title: "Security" };

export default function Page() {
  return <SecurityPage />;
}
