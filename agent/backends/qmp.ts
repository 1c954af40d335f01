// QMP (QEMU Machine Protocol) client over a unix socket. The DPU agent's lab backend uses it to hot-plug disks and
// NICs into its host's QEMU; the real lab's Redfish BMC uses it for power, reset and boot order.
// Protocol: QEMU sends a greeting, the client negotiates with `qmp_capabilities`, then sends one JSON object per
// line; replies carry the request's `id`, asynchronous events arrive in between (`{"event": ...}`).
import { connect, type Socket } from "node:net";

export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** A command QEMU answered with `{"error": {"class", "desc"}}`, or a transport failure (class "Transport"/"Timeout"). */
export class QmpError extends Error {
  constructor(
    readonly errorClass: string,
    readonly desc: string,
    readonly command?: string,
  ) {
    super(command ? `QMP ${command} failed: ${desc} (${errorClass})` : `QMP: ${desc} (${errorClass})`);
    this.name = "QmpError";
  }
}

export interface QmpConnectOptions {
  /** Keep retrying a missing or refusing socket this long (QEMU creates it shortly after it starts). Default 10 s. */
  connectTimeoutMs?: number;
  /** Default per-command timeout. Default 30 s. */
  commandTimeoutMs?: number;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

type EventListener = (ev: QmpEvent) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const onError = (err: Error) => {
      sock.destroy();
      reject(err);
    };
    sock.once("error", onError);
    sock.once("connect", () => {
      sock.off("error", onError);
      resolve(sock);
    });
  });
}

export class QmpClient {
  private buf = "";
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<EventListener>();
  private closedError: QmpError | null = null;
  private readonly closeListeners = new Set<(err: QmpError) => void>();
  greeting!: QmpGreeting;

  private constructor(
    private readonly sock: Socket,
    readonly socketPath: string,
    private readonly commandTimeoutMs: number,
  ) {}

  /** Connects, reads the greeting and leaves capabilities negotiation mode. */
  static async connect(socketPath: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const deadline = Date.now() + (opts.connectTimeoutMs ?? 10_000);
    let sock: Socket | undefined;
    let lastErr: Error | undefined;
    while (!sock) {
      try {
        sock = await openSocket(socketPath);
      } catch (err) {
        lastErr = err as Error;
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== "ENOENT" && code !== "ECONNREFUSED") || Date.now() >= deadline) {
          throw new QmpError("Transport", `cannot connect to ${socketPath}: ${lastErr.message}`);
        }
        await sleep(50);
      }
    }
    const client = new QmpClient(sock, socketPath, opts.commandTimeoutMs ?? 30_000);
    const greeting = new Promise<QmpGreeting>((resolve, reject) => {
      client.onGreeting = resolve;
      client.onClose((err) => reject(err));
    });
    client.attach();
    const timer = setTimeout(() => client.fail(new QmpError("Timeout", `no QMP greeting from ${socketPath}`)), Math.max(1000, deadline - Date.now()));
    try {
      client.greeting = await greeting;
    } finally {
      clearTimeout(timer);
    }
    await client.execute("qmp_capabilities");
    return client;
  }

  private onGreeting: ((g: QmpGreeting) => void) | null = null;

  private attach(): void {
    this.sock.setEncoding("utf8");
    this.sock.on("data", (chunk: string) => {
      this.buf += chunk;
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.handleLine(line);
      }
    });
    this.sock.on("error", (err) => this.fail(new QmpError("Transport", `QMP socket ${this.socketPath}: ${err.message}`)));
    this.sock.on("close", () => this.fail(new QmpError("Transport", `QMP connection to ${this.socketPath} closed`)));
  }

  private handleLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      this.fail(new QmpError("Protocol", `QEMU sent a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    if ("QMP" in msg) {
      this.onGreeting?.(msg as unknown as QmpGreeting);
      this.onGreeting = null;
      return;
    }
    if (typeof msg.event === "string") {
      for (const l of [...this.listeners]) l(msg as unknown as QmpEvent);
      return;
    }
    const id = typeof msg.id === "string" ? msg.id : undefined;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return; // a reply to a command that already timed out
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (msg.error && typeof msg.error === "object") {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new QmpError(e.class ?? "GenericError", e.desc ?? "unknown error", p.command));
    } else p.resolve(msg.return);
  }

  private fail(err: QmpError): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new QmpError(err.errorClass, err.desc, p.command));
    }
    this.pending.clear();
    this.sock.destroy();
    for (const l of [...this.closeListeners]) l(err);
  }

  /** True once the connection is gone (QEMU quit, socket error, or close()). */
  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Called once when the connection ends; returns an unsubscribe function. */
  onClose(listener: (err: QmpError) => void): () => void {
    if (this.closedError) {
      listener(this.closedError);
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Runs a QMP command; rejects with QmpError carrying QEMU's error class and description, or on timeout. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closedError) return Promise.reject(new QmpError(this.closedError.errorClass, this.closedError.desc, command));
    const id = `anvil-${this.nextId++}`;
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpError("Timeout", `no answer within ${timeoutMs} ms`, command));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.sock.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /** Subscribes to every event; returns an unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with the next event named `name` whose data passes `filter`. Events are not buffered: call this BEFORE
   * the command that causes the event (`const gone = qmp.waitEvent("DEVICE_DELETED", …); await qmp.execute("device_del", …)`),
   * and pass `signal` to abandon the wait if that command fails.
   */
  waitEvent(name: string, filter: ((data: Record<string, unknown>) => boolean) | undefined, timeoutMs: number, signal?: AbortSignal): Promise<QmpEvent> {
    if (this.closedError) return Promise.reject(new QmpError(this.closedError.errorClass, `${this.closedError.desc} while waiting for event ${name}`));
    return new Promise<QmpEvent>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        off();
        offClose();
        signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const off = this.onEvent((ev) => {
        if (ev.event === name && (!filter || filter(ev.data ?? {}))) done(() => resolve(ev));
      });
      const offClose = this.onClose((err) => done(() => reject(new QmpError(err.errorClass, `${err.desc} while waiting for event ${name}`))));
      const timer = setTimeout(() => done(() => reject(new QmpError("Timeout", `event ${name} did not arrive within ${timeoutMs} ms`))), timeoutMs);
      const onAbort = () => done(() => reject(new QmpError("Aborted", `wait for event ${name} abandoned`)));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort);
    });
  }

  /** Closes the connection (QEMU keeps running); pending commands reject. */
  close(): void {
    this.fail(new QmpError("Transport", `QMP connection to ${this.socketPath} closed by the client`));
  }
}

/**
 * device_del, retried while the guest is still bringing the slot up: with native PCIe hot-plug QEMU refuses an unplug
 * while the slot's power indicator blinks ("guest is busy"), which lasts a moment after a hot-plug (longer on TCG).
 */
export async function deviceDel(c: QmpClient, id: string, busyForMs = 20_000): Promise<void> {
  const until = Date.now() + busyForMs;
  for (;;) {
    try {
      await c.execute("device_del", { id });
      return;
    } catch (err) {
      if (!(err instanceof QmpError && /guest is busy/i.test(err.desc)) || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
