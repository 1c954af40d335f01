// Limits of the tRPC API shared by the server (app/api/trpc) and the browser client (components/trpc.tsx), which
// splits longer batches so the app itself never meets the server's refusal. Client-safe, so it lives in domain/.

/** Most procedure calls in one batched request; more is refused with 400 before any of them runs. */
export const TRPC_MAX_BATCH = 20;
