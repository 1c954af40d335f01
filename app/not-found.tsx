// The not-found page: also what a person sees for a resource they may not see.
import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-3 px-4 text-center">
      <p className="text-sm font-semibold tracking-widest text-sky-600 uppercase">404</p>
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="max-w-md text-sm text-zinc-600 dark:text-zinc-400">
        There is nothing here, or it is not yours to see. Check the address or go back to your start page.
      </p>
      <Link href="/" className="text-sm font-medium text-sky-600 hover:underline">
        Go to my start page
      </Link>
    </main>
  );
}
