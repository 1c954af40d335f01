// Import a system-disk image from an http(s) URL (operators): downloaded with undici into a temp file under the
// upload's size cap (ANVIL_IMAGE_MAX_BYTES), hashed on the way, then checked and built exactly like an upload
// (image-ingest.ts). Only http/https; at most MAX_REDIRECTS redirects, each hop checked again; a connect/headers
// timeout and a stall timeout. The server fetches, so it must not become a proxy into its own networks: the
// host must resolve to public unicast addresses, checked on the very address each connection uses (no DNS
// rebinding); ANVIL_IMAGE_IMPORT_ALLOW (CIDRs, e.g. an internal mirror, or 127.0.0.0/8 in the lab) admits more.
// Every refusal is a field error on `url` (or `sha256`, `name`, …) and leaves nothing behind. The audit keeps
// the URL without its query string (presigned URLs carry credentials there).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { type Dispatcher, request } from "undici";
import type { ImageImportInput } from "@/db/validation/storage";
import { maxUploadBytes } from "@/server/lib/body-limit";
import { outboundPolicy } from "@/server/lib/outbound-policy";
import { fieldError, isFieldErrorCause } from "../api/errors";
import { buildImageFromFile, ImageTooLarge, receiveImageFile } from "./image-ingest";
import type { ActorCtx, ImageRow } from "./images";

export const MAX_REDIRECTS = 5;
const HEADERS_TIMEOUT_MS = 30_000;
/** Longest pause between two chunks of the body. */
const STALL_TIMEOUT_MS = 60_000;
const REFUSED = "EIMAGEIMPORTREFUSED";

const policy = outboundPolicy({
  allowEnv: "ANVIL_IMAGE_IMPORT_ALLOW",
  purpose: "images are imported from",
  code: REFUSED,
  connectTimeoutMs: HEADERS_TIMEOUT_MS,
});
/** Null when Anvil may download from this address, else why not. */
export const importAddressRefusal = policy.refusal;
const agent = () => policy.agent();

const urlError = (message: string, code: TRPCError["code"] = "BAD_REQUEST") => fieldError("url", message, code);

/** The URL as the audit log may keep it: no credentials, no query string, no fragment. */
export function redactUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (err?.code === REFUSED) return err.message;
  const c = err?.cause?.code ?? err?.code;
  if (c === "ENOTFOUND" || c === "EAI_AGAIN") return "the host name does not resolve";
  if (c === "ECONNREFUSED") return "the host refused the connection";
  if (c === "UND_ERR_CONNECT_TIMEOUT" || c === "UND_ERR_HEADERS_TIMEOUT") return "the host did not answer in time";
  if (c === "UND_ERR_BODY_TIMEOUT") return `the download stalled for ${STALL_TIMEOUT_MS / 1000} s`;
  return err?.cause?.message ?? err?.message ?? String(e);
}

/** GETs the URL, following at most MAX_REDIRECTS redirects; answers the 2xx response or throws a `url` field error. */
async function open(start: URL, signal?: AbortSignal): Promise<{ res: Dispatcher.ResponseData; url: URL }> {
  let url = start;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:") throw urlError(`Only http:// and https:// URLs can be imported (got ${url.protocol}).`);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: "GET",
        dispatcher: agent(),
        headersTimeout: HEADERS_TIMEOUT_MS,
        bodyTimeout: STALL_TIMEOUT_MS,
        headers: { accept: "application/octet-stream, */*" },
        signal,
      });
    } catch (e) {
      throw urlError(`Could not download from ${url.host}: ${why(e)}.`, "PRECONDITION_FAILED");
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      await res.body.dump();
      if (hop >= MAX_REDIRECTS) throw urlError(`The URL redirects more than ${MAX_REDIRECTS} times; give the final address.`);
      url = new URL(String(res.headers.location), url);
      continue;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      const what = res.statusCode === 404 ? "404 Not Found: check the address" : `${res.statusCode}`;
      throw urlError(`The server at ${url.host} answered ${what}; nothing was imported.`, "PRECONDITION_FAILED");
    }
    return { res, url };
  }
}

/** Downloads, checks and builds the image; refusals are field errors (url, sha256, name, minSizeGiB, tenantId). */
export async function importImageFromUrl(ctx: ActorCtx, input: ImageImportInput, signal?: AbortSignal): Promise<ImageRow> {
  const { url: raw, format, sha256, ...meta } = input;
  let start: URL;
  try {
    start = new URL(raw);
  } catch {
    throw urlError("Give an http:// or https:// URL.");
  }
  const max = maxUploadBytes();
  const { res, url } = await open(start, signal);
  const declared = Number(res.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) {
    res.body.on("error", () => {}); // the abort below is ours
    res.body.destroy();
    throw urlError(`The file at that URL is ${declared} bytes; the limit is ${max} bytes (ANVIL_IMAGE_MAX_BYTES).`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), "anvil-import-"));
  const file = path.join(dir, "import.img");
  try {
    let received: Awaited<ReturnType<typeof receiveImageFile>>;
    try {
      received = await receiveImageFile(res.body, file, max);
    } catch (e) {
      if (e instanceof ImageTooLarge) throw urlError(`The file at that URL is larger than the limit of ${max} bytes (ANVIL_IMAGE_MAX_BYTES).`);
      throw urlError(`The download from ${url.host} broke off: ${why(e)}.`, "PRECONDITION_FAILED");
    }
    try {
      return await buildImageFromFile(
        ctx,
        meta,
        { path: file, declaredFormat: format, received, expectedSha256: sha256 },
        { action: "image.import", details: { url: redactUrl(start), bytes: received.bytes } },
      );
    } catch (e) {
      // "The file is not a disk image" is about what the URL points at.
      if (e instanceof TRPCError && isFieldErrorCause(e.cause) && e.cause.field === "file") throw urlError(e.cause.message);
      throw e;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
