// HTTP upload of a system-disk image (operators): the body is the raw/qcow2 file, metadata in the query string.
// The work is in server/storage/upload.ts (streamed to a temp file, validated by magic bytes, built on storage).
// A client that aborts mid-way (or is cut off at the size limit by the front door) is not a server error: the
// partial file is already removed (upload.ts), and the answer nobody reads is a 400, logged as one line.
import { createContext } from "@/server/api/trpc";
import { isClientGone } from "@/server/lib/client-gone";
import { logger } from "@/server/lib/log";
import { handleImageUpload } from "@/server/storage/upload";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  const ctx = await createContext({ headers: req.headers });
  try {
    return await handleImageUpload(req, ctx);
  } catch (e) {
    if (req.signal.aborted || isClientGone(e)) {
      logger.info({ requestId: ctx.requestId, reason: (e as Error)?.message }, "image upload ended by the client before the whole file arrived");
      return Response.json(
        { error: { message: "The upload ended before the whole file arrived; nothing was stored.", code: "UPLOAD_ABORTED" } },
        { status: 400 },
      );
    }
    logger.error({ err: e, requestId: ctx.requestId }, "image upload failed");
    return Response.json({ error: { message: "Something went wrong on the server; it has been logged.", code: "INTERNAL_SERVER_ERROR" } }, { status: 500 });
  }
}
