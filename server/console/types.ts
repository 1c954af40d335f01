// The contract between the browser console proxy and whatever carries a node's serial console
// (IPMI SOL, Redfish SerialConsole WebSocket, SSH). The proxy (auth, scrollback, fan-out,
// WebSocket) only sees ConsoleBackend/ConsoleStream, so a backend can be swapped per node.
import type { EventEmitter } from "node:events";

/** Why a console stream ended; `message` is shown to the viewer as is. */
export interface ConsoleCloseReason {
  /**
   * - client       close() was called (viewer left, session ended by Anvil)
   * - remote       the BMC/host ended the session (BMC closed SOL, another session took over)
   * - error        the transport failed (process died, keepalive lost)
   */
  code: "client" | "remote" | "error";
  message: string;
}

export interface ConsoleStreamEvents {
  /** Bytes the server printed on its console, raw (terminal escape sequences included). */
  data: [chunk: Buffer];
  /** Emitted once, after which no more data arrives. */
  close: [reason: ConsoleCloseReason];
}

/** One live console session. Output is emitted as "data"; input goes in with write(). */
export interface ConsoleStream extends EventEmitter<ConsoleStreamEvents> {
  /** Sends keystrokes to the server's console, byte for byte (backends escape their own escape characters). */
  write(data: Buffer | string): void;
  /** Sends a serial BREAK (Linux: the start of a magic SysRq). */
  sendBreak(): Promise<void>;
  /** Tells the far end the terminal's size, where the transport has a way to (SSH window-change); optional. */
  resize?(cols: number, rows: number): void;
  /** Ends the session and releases it on the BMC; resolves once released. Safe to call twice. */
  close(): Promise<void>;
  readonly closed: boolean;
}

export interface ConsoleBackend {
  /** Opens a session; rejects with a message a person can act on (credentials, BMC unreachable, console in use). */
  connect(): Promise<ConsoleStream>;
}
