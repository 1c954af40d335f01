// Request body limits, one table for every route: server/front-door.ts enforces them on the bytes actually
// received (chunked bodies included) before any handler runs, and the routes that read big bodies themselves
// (the image upload) use the same numbers. No imports beyond node: the front door loads this before Next.
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Largest body for any route without its own entry (ANVIL_MAX_BODY_BYTES, default 1 MiB). */
export function defaultBodyLimit(): number {
  const v = Number(process.env.ANVIL_MAX_BODY_BYTES);
  return Number.isSafeInteger(v) && v > 0 ? v : MiB;
}

/** Largest image upload accepted (ANVIL_IMAGE_MAX_BYTES, default 64 GiB). */
export function maxUploadBytes(): number {
  const v = Number(process.env.ANVIL_IMAGE_MAX_BYTES);
  return Number.isSafeInteger(v) && v > 0 ? v : 64 * GiB;
}

export interface BodyLimit {
  bytes: number;
  /**
   * false: the whole body is received (up to `bytes`) before the handler runs, so a handler never sees a
   * truncated or refused body. true: the handler streams it (it must cope with a body that stops early).
   */
  streamed: boolean;
}

/** The limit for a request path (without the query string). */
export function bodyLimitFor(pathname: string): BodyLimit {
  if (pathname === "/api/images/upload") return { bytes: maxUploadBytes(), streamed: true };
  // A pushed Redfish Event is a few KiB; nothing bigger is read (server/live-events/push.ts).
  if (pathname.startsWith("/api/bmc-events/")) return { bytes: 64 * 1024, streamed: false };
  return { bytes: defaultBodyLimit(), streamed: false };
}
