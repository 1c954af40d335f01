// Tenant portal: the signed-in user's SSH keys (they follow the user into every tenant).
import { SshKeysPage } from "@/components/tenancy/ssh-keys-panel";

export const metadata = { title: "SSH keys" };

export default function Page() {
  return <SshKeysPage />;
}
