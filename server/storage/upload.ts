// Image upload over HTTP (app/api/images/upload): the request body is the disk image itself (raw or qcow2),
// streamed to a temp file with a size cap and hashed (SHA-256) on the way, validated by its bytes, then built into
// an image (storage volume of the image's size, bytes written, golden snapshot): server/storage/image-ingest.ts.
// Metadata travels in the query string: name, os, version, minSizeGiB?, visibility?, tenantId?, format?
// (raw|qcow2; detected if absent), sha256? (the checksum the uploader expects; a mismatch stores nothing).
// Only operator admins may upload. Errors are JSON { error: { message, code, fieldErrors? } } with a 4xx status.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { z } from "zod";
import { imageMetaSchema } from "@/db/validation/storage";
import type { Principal } from "@/server/auth/principal";
import { maxUploadBytes } from "@/server/lib/body-limit";
import { isFieldErrorCause, toTrpcError } from "../api/errors";
import { buildImageFromFile, ImageTooLarge, type ReceivedFile, receiveImageFile, SHA256_RE } from "./image-ingest";
import type { ActorCtx } from "./images";

/** Largest upload accepted (ANVIL_IMAGE_MAX_BYTES, default 64 GiB); the front door enforces it too. */
export { maxUploadBytes };

const querySchema = imageMetaSchema.extend({
  minSizeGiB: z.coerce.number().pipe(imageMetaSchema.shape.minSizeGiB.unwrap()).optional(),
  format: z.enum(["raw", "qcow2"]).optional(),
  tenantId: z.uuid().optional(),
  sha256: z.string().regex(SHA256_RE, "A SHA-256 is 64 hexadecimal digits.").optional(),
});

function fail(status: number, code: string, message: string, fieldErrors?: Record<string, string[]>) {
  return Response.json({ error: { message, code, ...(fieldErrors ? { fieldErrors } : {}) } }, { status });
}

export async function handleImageUpload(req: Request, ctx: ActorCtx & { principal: Principal | null }): Promise<Response> {
  if (!ctx.principal) return fail(401, "UNAUTHORIZED", "Sign in to continue.");
  const role = ctx.principal.tokenScope ? ctx.principal.tokenScope.platformRole : ctx.principal.platformRole;
  if (!role) return fail(404, "NOT_FOUND", "Not found.");
  if (role !== "operator-admin") return fail(403, "FORBIDDEN", "Operator viewers can look but not change anything; ask an operator admin.");
  if (req.method !== "POST") return fail(405, "METHOD_NOT_SUPPORTED", "Upload with POST; the body is the image file.");

  const params = Object.fromEntries(new URL(req.url).searchParams);
  const parsed = querySchema.safeParse(params);
  if (!parsed.success) {
    const fieldErrors: Record<string, string[]> = {};
    for (const i of parsed.error.issues) {
      const key = i.path.join(".") || "_";
      fieldErrors[key] = [...(fieldErrors[key] ?? []), i.message];
    }
    return fail(
      400,
      "BAD_REQUEST",
      `Invalid input: ${Object.entries(fieldErrors)
        .map(([k, v]) => `${k}: ${v.join(", ")}`)
        .join("; ")}`,
      fieldErrors,
    );
  }
  const max = maxUploadBytes();
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (declared > max) return fail(413, "PAYLOAD_TOO_LARGE", `The image is ${declared} bytes; the limit is ${max} bytes.`);
  if (!req.body) return fail(400, "BAD_REQUEST", "The request has no body: send the image file as the body.");

  const dir = await mkdtemp(path.join(tmpdir(), "anvil-image-"));
  const file = path.join(dir, "upload.img");
  try {
    let received: ReceivedFile;
    try {
      received = await receiveImageFile(Readable.fromWeb(req.body as import("node:stream/web").ReadableStream), file, max);
    } catch (e) {
      if (e instanceof ImageTooLarge) return fail(413, "PAYLOAD_TOO_LARGE", e.message);
      throw e;
    }
    const { format, sha256, ...meta } = parsed.data;
    const image = await buildImageFromFile(ctx, meta, { path: file, declaredFormat: format, received, expectedSha256: sha256 });
    return Response.json(image, { status: 201 });
  } catch (e) {
    const t = toTrpcError(e);
    if (t) {
      const fieldErrors = isFieldErrorCause(t.cause) ? { [t.cause.field]: [t.cause.message] } : undefined;
      return fail(getHTTPStatusCodeFromError(t), t.code, t.message, fieldErrors);
    }
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
