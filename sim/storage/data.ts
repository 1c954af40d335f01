// The lab storage service's data plane: volume bytes kept in sparse files ("layers") under one data directory.
// A layer is immutable once written and shared by reference: a snapshot references its volume's layer, a thin
// clone reads through to its parent snapshot's layer, and a write builds a new layer (copy-on-write at write
// time: the old layer copied with `cp --sparse=always --reflink=auto`, unless the new data covers all of it)
// that replaces the volume's. Layers are reference-counted and removed when nothing refers to them, so a
// snapshot's bytes stay frozen for as long as the snapshot (or a clone, or a flattened clone) needs them.
// All-zero blocks are not written to a fresh layer, so files stay sparse and "allocated" means data written.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { type FileHandle, open, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { ApiError } from "./model";

const run = promisify(execFile);
/** Granularity of zero detection (sparse writes) and of the allocated-bytes count. */
export const BLOCK_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(1 << 20);

export interface WrittenLayer {
  layer: string;
  /** Bytes the body carried. */
  bytes: number;
  /** Bytes in non-zero blocks of the body (what the write allocated). */
  allocatedBytes: number;
}

const ZERO_BLOCK = Buffer.alloc(BLOCK_BYTES);
/** memcmp against zeros (a byte loop in JS makes a multi-GiB sparse disk take seconds). */
function isZero(b: Buffer): boolean {
  return b.equals(b.length === BLOCK_BYTES ? ZERO_BLOCK : Buffer.alloc(b.length));
}

export class LayerStore {
  private readonly refs = new Map<string, number>();
  constructor(readonly dir: string) {}

  private file(layer: string): string {
    return path.join(this.dir, `${layer}.img`);
  }

  ref(layer: string | null): string | null {
    if (layer !== null) this.refs.set(layer, (this.refs.get(layer) ?? 0) + 1);
    return layer;
  }

  unref(layer: string | null): void {
    if (layer === null) return;
    const n = (this.refs.get(layer) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(layer, n);
      return;
    }
    this.refs.delete(layer);
    rmSync(this.file(layer), { force: true });
  }

  /** Layers alive (tests check that deletes free their files). */
  count(): number {
    return this.refs.size;
  }

  /**
   * Writes `body` from offset 0 over a copy of `base` (null = zeros) into a new layer (refcount 1), or throws
   * having removed it: 400 data_too_large past `maxBytes`, 400 incomplete_body when the body ends short of
   * `expectedBytes`.
   */
  async write(base: string | null, body: AsyncIterable<Buffer>, maxBytes: number, expectedBytes?: number): Promise<WrittenLayer> {
    const layer = randomUUID();
    const target = this.file(layer);
    let fh: FileHandle | undefined;
    try {
      const baseBytes = base === null ? 0 : (await stat(this.file(base))).size;
      // Copy-on-write: keep the base's bytes past what the new data covers.
      const copyBase = base !== null && baseBytes > (expectedBytes ?? 0);
      if (copyBase) await run("cp", ["--sparse=always", "--reflink=auto", this.file(base!), target]);
      fh = await open(target, copyBase ? "r+" : "w");
      let offset = 0;
      let allocated = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async (block: Buffer) => {
        if (isZero(block)) {
          // A fresh layer is zero there already; over a copied base the zeros must overwrite its data.
          if (copyBase && offset < baseBytes) await fh!.write(block, 0, block.length, offset);
        } else {
          await fh!.write(block, 0, block.length, offset);
          allocated += block.length;
        }
        offset += block.length;
      };
      for await (const chunk of body) {
        if (offset + pendingBytes + chunk.length > maxBytes) {
          throw new ApiError(400, "data_too_large", `the data is larger than the volume (${maxBytes} bytes); grow the volume first`, "sizeBytes", {
            sizeBytes: maxBytes,
          });
        }
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < BLOCK_BYTES) continue;
        let all = Buffer.concat(pending, pendingBytes);
        while (all.length >= BLOCK_BYTES) {
          await flush(all.subarray(0, BLOCK_BYTES));
          all = all.subarray(BLOCK_BYTES);
        }
        pending = all.length > 0 ? [Buffer.from(all)] : [];
        pendingBytes = all.length;
      }
      if (pendingBytes > 0) await flush(Buffer.concat(pending, pendingBytes));
      if (expectedBytes !== undefined && offset !== expectedBytes) {
        throw new ApiError(400, "incomplete_body", `the body ended after ${offset} of ${expectedBytes} bytes; nothing was written`);
      }
      if (!copyBase || offset > baseBytes) await fh.truncate(Math.max(offset, copyBase ? baseBytes : 0));
      await fh.close();
      fh = undefined;
      this.refs.set(layer, 1);
      return { layer, bytes: offset, allocatedBytes: allocated };
    } catch (e) {
      await fh?.close().catch(() => {});
      await unlink(target).catch(() => {});
      throw e;
    }
  }

  /** The bytes of `layer` (null = none) read as a disk of `sizeBytes`: the layer's data, then zeros. */
  async read(layer: string | null, sizeBytes: number): Promise<Readable> {
    // Opened now, so a layer freed while the bytes stream (its snapshot deleted) still reads whole.
    const fh = layer === null ? null : await open(this.file(layer), "r");
    async function* bytes() {
      let sent = 0;
      if (fh) {
        const buf = Buffer.alloc(1 << 20);
        while (sent < sizeBytes) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, sizeBytes - sent), sent);
          if (bytesRead === 0) break;
          sent += bytesRead;
          yield Buffer.from(buf.subarray(0, bytesRead));
        }
      }
      while (sent < sizeBytes) {
        const n = Math.min(ZEROS.length, sizeBytes - sent);
        sent += n;
        yield ZEROS.subarray(0, n);
      }
    }
    const stream = Readable.from(bytes(), { objectMode: false });
    stream.once("close", () => void fh?.close().catch(() => {}));
    return stream;
  }
}
