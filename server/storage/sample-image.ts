// A generated raw disk file for images that need bytes but no real OS: the dev lab's seeded images, tests and
// benches. `dataBytes` of a repeating, non-zero pattern (so the storage service allocates exactly that much),
// written to a temp file that lives only while the image is built.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ImageBuild } from "./images";

/** Runs `use` with an upload build of a generated raw file of `dataBytes` (rounded up to whole 512-byte sectors). */
export async function withSampleImage<T>(dataBytes: number, use: (build: ImageBuild) => Promise<T>): Promise<T> {
  const bytes = Math.max(512, Math.ceil(dataBytes / 512) * 512);
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i % 251) + 1;
  const dir = await mkdtemp(path.join(tmpdir(), "anvil-sample-image-"));
  const file = path.join(dir, "disk.raw");
  try {
    const hash = createHash("sha256");
    const parts: Buffer[] = [];
    for (let at = 0; at < bytes; at += block.length) parts.push(block.subarray(0, Math.min(block.length, bytes - at)));
    for (const p of parts) hash.update(p);
    await writeFile(file, parts);
    return await use({ kind: "upload", file: { path: file, format: "raw" }, checksumSha256: hash.digest("hex") });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
