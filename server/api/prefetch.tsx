// Server components prefetch what a page's first paint needs (STYLE.md §2): the queries run through the same router
// the browser calls, with a context made from this request's headers (so the same session, auth and tenant checks),
// into a query client of this request; the results travel in the page's HTML and fill the browser's query cache
// (components/trpc.tsx reverses the superjson step), so a list shows its rows without a client round trip.
// A query that fails is left out: the client asks again and shows the error as it always did.
import "server-only";
import { dehydrate, type FetchQueryOptions, HydrationBoundary, QueryClient } from "@tanstack/react-query";
import { createTRPCOptionsProxy, type TRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { headers } from "next/headers";
import superjson from "superjson";
import { type AppRouter, appRouter } from "./root";
import { createContext } from "./trpc";

// biome-ignore lint/suspicious/noExplicitAny: each query carries its own data, error and key types
export type AnyQuery = FetchQueryOptions<any, any, any, any>;

export type ServerTrpc = TRPCOptionsProxy<AppRouter>;

/** Renders `children` with `queries` (the browser's first calls, same inputs, so the same keys) already answered. */
export async function Prefetch({ queries, children }: { queries: (trpc: ServerTrpc) => AnyQuery[]; children: React.ReactNode }) {
  const queryClient = new QueryClient({ defaultOptions: { dehydrate: { serializeData: superjson.serialize } } });
  const ctx = await createContext({ headers: await headers() });
  const trpc = createTRPCOptionsProxy<AppRouter>({ router: appRouter, ctx, queryClient });
  await Promise.all(queries(trpc).map((q) => queryClient.prefetchQuery(q)));
  return <HydrationBoundary state={dehydrate(queryClient)}>{children}</HydrationBoundary>;
}
