// A request whose client disconnected mid-way (closed the tab, cancelled an upload, was cut off at a body limit)
// is not a server fault: it is answered nobody and logged without a stack, never as a 500.
import type { ServerResponse } from "node:http";

export function isClientGone(e: unknown, res?: ServerResponse): boolean {
  const err = e as { code?: string; message?: string; name?: string } | null;
  if (err?.name === "AbortError" || err?.code === "ECONNRESET" || err?.code === "ERR_STREAM_PREMATURE_CLOSE" || err?.message === "aborted") return true;
  return !!res && (res.destroyed || res.socket?.destroyed === true) && !res.writableEnded;
}
