// HTTP upload of a system-disk image (operators): the body is the raw/qcow2 file, metadata in the query string.
// The work is in server/storage/upload.ts (streamed to a temp file, validated by magic bytes, built on storage).
import { createContext } from "@/server/api/trpc";
import { logger } from "@/server/lib/log";
import { handleImageUpload } from "@/server/storage/upload";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  const ctx = await createContext({ headers: req.headers });
  try {
    return await handleImageUpload(req, ctx);
  } catch (e) {
    logger.error({ err: e }, "image upload failed");
    return Response.json({ error: { message: "Something went wrong on the server; it has been logged.", code: "INTERNAL_SERVER_ERROR" } }, { status: 500 });
  }
}
