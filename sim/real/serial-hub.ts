// Fans a QEMU serial port out to many viewers. QEMU's chardev socket server takes one client at a time, so the
// hub is that one client: it keeps a scrollback of the latest output (a viewer that joins late sees the current
// screen), sends every byte to every viewer, and forwards every viewer's keystrokes to the guest. It reconnects
// when QEMU drops the connection and stops when closed.
import { connect, type Socket } from "node:net";

export type SerialListener = (chunk: Buffer) => void;

export class SerialHub {
  private sock: Socket | undefined;
  private readonly listeners = new Set<SerialListener>();
  private scroll: Buffer[] = [];
  private scrollBytes = 0;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** Every byte the guest has written since the hub started (for tests and logs; bounded by maxTotal). */
  private total: Buffer[] = [];
  private totalBytes = 0;

  constructor(
    readonly socketPath: string,
    private readonly scrollbackBytes = 64 * 1024,
    private readonly maxTotal = 8 * 1024 * 1024,
  ) {}

  /** Connects to the chardev socket (retrying while QEMU creates it) and resolves once connected. */
  async start(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.connectOnce();
        return;
      } catch (err) {
        if (Date.now() >= deadline || this.closed) throw new Error(`serial console ${this.socketPath}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private connectOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socketPath);
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        this.sock = s;
        s.on("data", (chunk: Buffer) => this.receive(chunk));
        s.on("error", () => s.destroy());
        s.on("close", () => {
          if (this.sock === s) this.sock = undefined;
          // QEMU restarted its server side (or is going away): try again a little later unless we are closing.
          if (!this.closed) this.retry = setTimeout(() => void this.connectOnce().catch(() => {}), 200);
        });
        resolve();
      });
    });
  }

  private receive(chunk: Buffer): void {
    this.scroll.push(chunk);
    this.scrollBytes += chunk.length;
    while (this.scrollBytes - (this.scroll[0]?.length ?? 0) >= this.scrollbackBytes && this.scroll.length > 1) {
      this.scrollBytes -= this.scroll.shift()!.length;
    }
    if (this.totalBytes < this.maxTotal) {
      this.total.push(chunk);
      this.totalBytes += chunk.length;
    }
    for (const l of [...this.listeners]) l(chunk);
  }

  /** The latest output (at most the scrollback size), for a viewer that just joined. */
  scrollback(): Buffer {
    return Buffer.concat(this.scroll);
  }

  /** Everything received since start (up to 8 MiB), as text. */
  text(): string {
    return Buffer.concat(this.total).toString("latin1");
  }

  /** Subscribes to output; returns an unsubscribe function. */
  subscribe(listener: SerialListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get viewers(): number {
    return this.listeners.size;
  }

  /** Sends keystrokes to the guest's serial port (dropped while disconnected, as on a real line). */
  write(bytes: Buffer | string): void {
    if (this.sock && !this.sock.destroyed) this.sock.write(bytes);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.sock?.destroy();
    this.listeners.clear();
  }
}
