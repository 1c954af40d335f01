// What an uploaded and a URL-imported image file share: the bytes are streamed to a temp file under the size cap
// while their SHA-256 is computed (one pass), then checked by their content (image-file.ts; a qcow2 also by
// qemu-img, which refuses backing files), checked against the checksum the operator expected, and built into an
// image whose volume receives the bytes (images.ts). Every refusal here comes before anything is recorded.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GiB, type ImageMeta } from "@/db/validation/storage";
import { DiskFileError, qcow2Info } from "@/server/drivers/storage/disk-file";
import { fieldError } from "../api/errors";
import { defaultLogicalPoolId } from "./backend";
import { ImageFileError, inspectImageFile } from "./image-file";
import { type ActorCtx, buildImage, type ImageRow } from "./images";

/** The file went past the size cap; what was received is discarded. */
export class ImageTooLarge extends Error {
  constructor(readonly max: number) {
    super(`The image is larger than the limit of ${max} bytes.`);
  }
}

export interface ReceivedFile {
  bytes: number;
  sha256: string;
}

/** Streams `source` into `dest`, at most `max` bytes (else ImageTooLarge), hashing as it goes. */
export async function receiveImageFile(source: Readable, dest: string, max: number): Promise<ReceivedFile> {
  const hash = createHash("sha256");
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > max) return cb(new ImageTooLarge(max));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(source, meter, createWriteStream(dest));
  return { bytes, sha256: hash.digest("hex") };
}

export const SHA256_RE = /^[0-9a-fA-F]{64}$/;

/**
 * Checks a received file and builds the image from it. Refusals name their field: `file` (not a usable disk
 * image), `sha256` (not the checksum the operator expected), `minSizeGiB`, `name`, `tenantId`.
 */
export async function buildImageFromFile(
  ctx: ActorCtx,
  meta: ImageMeta,
  file: { path: string; declaredFormat?: "raw" | "qcow2"; received: ReceivedFile; expectedSha256?: string },
  opts: { action?: string; details?: Record<string, unknown> } = {},
): Promise<ImageRow> {
  let info: Awaited<ReturnType<typeof inspectImageFile>>;
  try {
    info = await inspectImageFile(file.path, file.declaredFormat);
    // The header says qcow2; qemu-img confirms the whole structure and gives the size it will convert.
    if (info.format === "qcow2") info = { ...info, virtualBytes: (await qcow2Info(file.path)).virtualBytes };
  } catch (e) {
    if (e instanceof ImageFileError || e instanceof DiskFileError) throw fieldError("file", e.message, "BAD_REQUEST");
    throw e;
  }
  if (file.expectedSha256 !== undefined && file.expectedSha256.toLowerCase() !== file.received.sha256) {
    throw fieldError(
      "sha256",
      `The file's SHA-256 is ${file.received.sha256}, not the ${file.expectedSha256.toLowerCase()} you expected; nothing was stored.`,
      "BAD_REQUEST",
    );
  }
  const sizeBytes = Math.ceil(info.virtualBytes / GiB) * GiB;
  return buildImage(
    ctx,
    meta,
    { kind: "upload", file: { path: file.path, format: info.format }, checksumSha256: file.received.sha256, details: opts.details },
    { sizeBytes, logicalPoolId: await defaultLogicalPoolId(), action: opts.action },
  );
}
