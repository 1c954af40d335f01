// For a signed-in user with neither a platform role nor a tenant: their pending invitations, if any, to accept here.
import { SignOutButton } from "@/components/shell/shell";
import { MyInvitations } from "@/components/tenancy/invitations-panel";

export default function NoAccess() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-3 px-4 text-center">
      <h1 className="text-2xl font-semibold">No access yet</h1>
      <p className="max-w-md text-sm text-zinc-600 dark:text-zinc-400">
        Your account is not an operator and belongs to no tenant. Ask an operator or a tenant admin to add you; a tenant admin's invitation shows here.
      </p>
      <MyInvitations />
      <SignOutButton />
    </main>
  );
}
