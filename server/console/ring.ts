// A fixed-size byte ring for a console's scrollback: the last N bytes a node printed, replayed to every viewer
// who joins, kept while nobody watches. One preallocated Buffer per node, no per-chunk allocation on write.

export class ByteRing {
  private readonly buf: Buffer;
  /** Next write position. */
  private at = 0;
  /** Bytes held (≤ capacity). */
  private held = 0;
  /** Bytes ever written, for "how much was lost" and for tests. */
  total = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new Error("ring capacity must be a positive integer");
    this.buf = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.held;
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    let src = chunk;
    // Only the tail can survive a chunk larger than the ring.
    if (src.length >= this.capacity) {
      src = src.subarray(src.length - this.capacity);
      src.copy(this.buf, 0);
      this.at = 0;
      this.held = this.capacity;
      return;
    }
    const first = Math.min(src.length, this.capacity - this.at);
    src.copy(this.buf, this.at, 0, first);
    if (first < src.length) src.copy(this.buf, 0, first);
    this.at = (this.at + src.length) % this.capacity;
    this.held = Math.min(this.capacity, this.held + src.length);
  }

  /** Forgets everything held (a host handed over: its scrollback belongs to the previous tenant). */
  clear(): void {
    this.buf.fill(0);
    this.at = 0;
    this.held = 0;
  }

  /** The held bytes, oldest first, as one new Buffer. */
  snapshot(): Buffer {
    if (this.held < this.capacity) return Buffer.from(this.buf.subarray(this.at - this.held, this.at));
    return Buffer.concat([this.buf.subarray(this.at), this.buf.subarray(0, this.at)]);
  }
}

/**
 * Cuts a replay so it does not start in the middle of a UTF-8 sequence or an escape sequence (a partial
 * "\x1b[3" would print garbage in the viewer's terminal): drops bytes up to the first line start when one is
 * near, else skips UTF-8 continuation bytes. Used only when the ring has wrapped.
 */
export function trimReplayStart(b: Buffer): Buffer {
  const nl = b.indexOf(0x0a);
  if (nl >= 0 && nl < 4096) return b.subarray(nl + 1);
  let i = 0;
  while (i < b.length && i < 4 && (b[i]! & 0xc0) === 0x80) i++;
  return b.subarray(i);
}
