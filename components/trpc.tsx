"use client";
// The browser's tRPC client and TanStack Query provider. Components call `useTRPC()` and use
// `trpc.<router>.<proc>.queryOptions(...)`; invalidation uses `trpc.<router>.pathFilter()`.
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState } from "react";
import superjson from "superjson";
import { TRPC_MAX_BATCH } from "@/domain/limits";
import type { AppRouter } from "@/server/api/root";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

function onError(err: unknown) {
  // One error path: a lost session sends the person to sign in again.
  if (err instanceof TRPCClientError && err.data?.code === "UNAUTHORIZED" && typeof window !== "undefined") {
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    window.location.assign(`/login?next=${next}`);
  }
}

function makeQueryClient() {
  return new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      // Pages prefetched on the server (server/api/prefetch.tsx) send their data superjson-encoded (dates stay dates).
      hydrate: { deserializeData: superjson.deserialize },
      queries: {
        staleTime: 5_000,
        retry: (n, err) => !(err instanceof TRPCClientError && err.data?.httpStatus && err.data.httpStatus < 500) && n < 2,
      },
    },
  });
}

export function Providers({ children }: { children: React.ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({ url: "/api/trpc", transformer: superjson }),
          false: httpBatchLink({ url: "/api/trpc", transformer: superjson, maxItems: TRPC_MAX_BATCH }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}

/** The message a person should read for a failed call, and per-field messages for forms. */
export function errorInfo(err: unknown): { message: string; fieldErrors: Record<string, string[]>; code?: string } {
  if (err instanceof TRPCClientError) {
    const data = err.data as { code?: string; fieldErrors?: Record<string, string[]> } | undefined;
    return { message: err.message, fieldErrors: data?.fieldErrors ?? {}, code: data?.code };
  }
  return { message: err instanceof Error ? err.message : "Something went wrong.", fieldErrors: {} };
}
