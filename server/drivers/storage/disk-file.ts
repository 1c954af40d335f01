// Disk image files on the way into storage, with qemu-img (Debian qemu-utils, scripts/system-deps.sh):
// `qcow2Info` reads a qcow2's header the way QEMU does and refuses one that names another file (a backing file
// or an external data file would make the conversion read a file of the server's choosing, not the upload);
// `rawFileOf` gives a raw file for a raw or qcow2 input (qcow2 converted into a temp file, sparse).
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export class DiskFileError extends Error {}

export interface Qcow2Info {
  virtualBytes: number;
}

function qemuImgMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === "ENOENT";
}
const MISSING = "qemu-img is not installed on the Anvil server (Debian package qemu-utils; see scripts/system-deps.sh).";

/** What qemu-img makes of a qcow2 file; DiskFileError when it is not a usable, self-contained qcow2. */
export async function qcow2Info(file: string, signal?: AbortSignal): Promise<Qcow2Info> {
  let out: string;
  try {
    ({ stdout: out } = await run("qemu-img", ["info", "--output=json", "-f", "qcow2", file], { signal, maxBuffer: 1 << 20 }));
  } catch (e) {
    if (qemuImgMissing(e)) throw new Error(MISSING);
    if (signal?.aborted) throw e;
    const why = String((e as { stderr?: string }).stderr ?? (e as Error).message)
      .trim()
      .replace(/^qemu-img: /, "")
      .replace(file, "the file");
    throw new DiskFileError(`The file is not a valid qcow2 image: ${why}`);
  }
  const info = JSON.parse(out) as { "virtual-size"?: number; "backing-filename"?: string; "format-specific"?: { data?: { "data-file"?: string } } };
  if (info["backing-filename"]) throw new DiskFileError("The qcow2 image has a backing file; flatten it first (qemu-img convert -O qcow2 in.qcow2 out.qcow2).");
  if (info["format-specific"]?.data?.["data-file"])
    throw new DiskFileError("The qcow2 image keeps its data in an external file; convert it to a self-contained image first.");
  const virtualBytes = info["virtual-size"];
  if (!Number.isSafeInteger(virtualBytes) || virtualBytes! <= 0) throw new DiskFileError("The qcow2 header gives no disk size.");
  return { virtualBytes: virtualBytes! };
}

export interface RawFile {
  path: string;
  sizeBytes: number;
  /** Removes the temp file made by a conversion (a no-op for a raw input). */
  cleanup(): Promise<void>;
}

/** A raw file of the disk: the input itself when raw, else a sparse raw conversion in a temp dir. */
export async function rawFileOf(file: { path: string; format: "raw" | "qcow2" }, signal?: AbortSignal): Promise<RawFile> {
  if (file.format === "raw") return { path: file.path, sizeBytes: (await stat(file.path)).size, cleanup: async () => {} };
  await qcow2Info(file.path, signal);
  const dir = await mkdtemp(path.join(tmpdir(), "anvil-raw-"));
  const out = path.join(dir, "disk.raw");
  try {
    await run("qemu-img", ["convert", "-q", "-f", "qcow2", "-O", "raw", file.path, out], { signal });
    return { path: out, sizeBytes: (await stat(out)).size, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    if (qemuImgMissing(e)) throw new Error(MISSING);
    if (signal?.aborted) throw e;
    throw new DiskFileError(`Converting the qcow2 image to raw failed: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
  }
}
