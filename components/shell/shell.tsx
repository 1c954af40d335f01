"use client";
// The two application shells (operator console and tenant portal) share this frame: a labelled navigation,
// the signed-in user, theme toggle and sign-out.
import Link from "next/link";
import { Options } from "@/components/ui/form";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { authClient } from "@/components/auth/login-form";
import { useHydrated } from "@/components/ui/use-hydrated";

export interface NavItem {
  href: string;
  label: string;
  exact?: boolean;
}

export function ThemeToggle() {
  const [dark, setDark] = useState<boolean | null>(null);
  useEffect(() => setDark(document.documentElement.classList.contains("dark")), []);
  return (
    <button
      type="button"
      className="rounded-md px-2 py-1 text-sm text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
      aria-label={dark ? "Switch to light theme" : "Switch to dark theme"}
      onClick={() => {
        const next = !document.documentElement.classList.contains("dark");
        document.documentElement.classList.toggle("dark", next);
        localStorage.setItem("anvil-theme", next ? "dark" : "light");
        setDark(next);
      }}
    >
      {dark ? "☀ Light" : "☾ Dark"}
    </button>
  );
}

export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  const hydrated = useHydrated();
  return (
    <button
      type="button"
      disabled={busy || !hydrated}
      className="rounded-md px-2 py-1 text-sm text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
      onClick={async () => {
        setBusy(true);
        await authClient.signOut();
        window.location.assign("/login");
      }}
    >
      Sign out
    </button>
  );
}

export function Shell({
  area,
  nav,
  user,
  switcher,
  children,
}: {
  area: string;
  nav: NavItem[];
  user: { name: string; email: string; role: string };
  switcher?: React.ReactNode;
  children: React.ReactNode;
}) {
  const path = usePathname();
  return (
    <div className="flex min-h-screen">
      <aside className="flex w-56 shrink-0 flex-col border-r border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900">
        <div className="px-4 py-4">
          <Link href="/" className="text-sm font-semibold tracking-widest text-sky-600 uppercase">
            Anvil
          </Link>
          <p className="text-xs text-zinc-500">{area}</p>
        </div>
        {switcher ? <div className="px-3 pb-3">{switcher}</div> : null}
        <nav aria-label={`${area} navigation`} className="flex flex-col gap-0.5 px-2">
          {nav.map((item) => {
            const active = item.exact ? path === item.href : path === item.href || path.startsWith(`${item.href}/`);
            return (
              <Link
                key={item.href}
                href={item.href}
                aria-current={active ? "page" : undefined}
                className={`rounded-md px-3 py-1.5 text-sm ${
                  active
                    ? "bg-sky-100 font-medium text-sky-900 dark:bg-sky-950 dark:text-sky-100"
                    : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
                }`}
              >
                {item.label}
              </Link>
            );
          })}
        </nav>
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center justify-end gap-3 border-b border-zinc-200 px-6 py-2 dark:border-zinc-800">
          <span className="text-sm text-zinc-600 dark:text-zinc-400">
            <span className="font-medium text-zinc-900 dark:text-zinc-100">{user.name}</span> · {user.role}
          </span>
          <Link href="/account/security" className="rounded-md px-2 py-1 text-sm text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800">
            Account
          </Link>
          <Link href="/account/tokens" className="rounded-md px-2 py-1 text-sm text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800">
            API tokens
          </Link>
          <ThemeToggle />
          <SignOutButton />
        </header>
        <main className="min-w-0 flex-1 px-6 py-6">{children}</main>
      </div>
    </div>
  );
}

/** The portal's tenant switcher: lists the tenants the user belongs to; switching remembers the choice. */
export function TenantSwitcher({ current, tenants }: { current: string; tenants: { slug: string; name: string }[] }) {
  const router = useRouter();
  const hydrated = useHydrated();
  if (tenants.length < 2) return <p className="truncate px-1 text-sm font-medium">{tenants.find((t) => t.slug === current)?.name}</p>;
  return (
    <label className="flex flex-col gap-1 text-xs text-zinc-500">
      Tenant
      <select
        className="rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm text-zinc-900 dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100"
        value={current}
        disabled={!hydrated}
        onChange={async (e) => {
          const slug = e.target.value;
          await fetch("/api/trpc/session.switchTenant", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ json: { tenant: slug } }),
          });
          router.push(`/t/${slug}`);
        }}
      >
        <Options of={tenants} value={(t) => t.slug} label={(t) => t.name} />
      </select>
    </label>
  );
}
