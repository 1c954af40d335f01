// JSON-RPC 2.0 client for SPDK's unix socket (/var/tmp/spdk.sock). SPDK writes concatenated JSON values with no
// framing, so responses are split by tracking brace depth outside strings. One connection per call, like
// scripts/rpc.py: calls are rare (attach/detach), and a fresh connection cannot be poisoned by a half-read reply.
import { connect } from "node:net";
import { BackendError } from "../errors";

export interface SpdkRpcError {
  code: number;
  message: string;
}

/** Splits a byte stream of concatenated JSON values into complete values. */
export class JsonStreamSplitter {
  private buf = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;

  push(chunk: string): unknown[] {
    const out: unknown[] = [];
    const base = this.buf.length;
    this.buf += chunk;
    for (let i = base; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === "\\") this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === "{" || c === "[") {
        if (this.depth === 0) this.start = i;
        this.depth++;
      } else if (c === "}" || c === "]") {
        this.depth--;
        if (this.depth === 0) {
          out.push(JSON.parse(this.buf.slice(this.start, i + 1)));
          this.buf = this.buf.slice(i + 1);
          i = -1;
          this.start = -1;
        }
      }
    }
    if (this.depth === 0) this.buf = "";
    return out;
  }
}

export class SpdkRpcClient {
  private nextId = 1;

  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 30_000,
  ) {}

  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    const request = JSON.stringify({ jsonrpc: "2.0", method, id, ...(params ? { params } : {}) });
    return new Promise<T>((resolve, reject) => {
      const sock = connect(this.socketPath);
      const splitter = new JsonStreamSplitter();
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        fn();
      };
      const timer = setTimeout(
        () => finish(() => reject(new BackendError("spdk_timeout", `SPDK ${method} did not answer within ${this.timeoutMs} ms`, 504))),
        this.timeoutMs,
      );
      sock.setEncoding("utf8");
      sock.on("connect", () => sock.write(request));
      sock.on("data", (chunk: string) => {
        let values: unknown[];
        try {
          values = splitter.push(chunk);
        } catch (err) {
          finish(() => reject(new BackendError("spdk_protocol", `SPDK sent invalid JSON: ${(err as Error).message}`)));
          return;
        }
        for (const v of values) {
          const msg = v as { id?: number; result?: T; error?: SpdkRpcError };
          if (msg.id !== id) continue;
          if (msg.error) {
            const e = msg.error;
            finish(() => reject(Object.assign(new BackendError("spdk_error", `SPDK ${method} failed: ${e.message} (code ${e.code})`), { rpcCode: e.code })));
          } else finish(() => resolve(msg.result as T));
        }
      });
      sock.on("error", (err) => finish(() => reject(new BackendError("spdk_unreachable", `cannot reach SPDK at ${this.socketPath}: ${err.message}`, 502))));
      sock.on("close", () => finish(() => reject(new BackendError("spdk_protocol", `SPDK closed the connection before answering ${method}`))));
    });
  }
}
