// Operator console: users (create/invite, reset password, disable/enable, platform roles).
import { UsersPage } from "@/components/tenancy/users-page";

export const metadata = { title: "Users" };

export default function Page() {
  return <UsersPage />;
}
