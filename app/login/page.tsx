// Sign-in page.
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/auth/login-form";
import { getViewer, homeOf } from "@/server/auth/session";
import { ssoButton } from "@/server/auth/sso";

export const metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string; error?: string }> }) {
  const v = await getViewer();
  const { next, error } = await searchParams;
  const safeNext = next && next.startsWith("/") && !next.startsWith("//") ? next : undefined;
  if (v) redirect(safeNext ?? homeOf(v));
  return (
    <main className="flex min-h-screen items-center justify-center bg-zinc-50 px-4 dark:bg-zinc-950">
      <div className="w-full max-w-sm rounded-xl border border-zinc-200 bg-white p-8 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <div className="mb-6">
          <p className="text-sm font-semibold tracking-widest text-sky-600 uppercase">Anvil</p>
          <h1 className="mt-1 text-xl font-semibold">Sign in</h1>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Bare-metal cloud console</p>
        </div>
        <LoginForm next={safeNext} sso={ssoButton()} ssoError={typeof error === "string" ? error : undefined} />
      </div>
    </main>
  );
}
