// For a signed-in user with neither a platform role nor a tenant.
import { SignOutButton } from "@/components/shell/shell";

export default function NoAccess() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-3 px-4 text-center">
      <h1 className="text-2xl font-semibold">No access yet</h1>
      <p className="max-w-md text-sm text-zinc-600 dark:text-zinc-400">
        Your account is not an operator and belongs to no tenant. Ask an operator or a tenant admin to add you.
      </p>
      <SignOutButton />
    </main>
  );
}
