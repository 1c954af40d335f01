// ConsoleSession against a scripted in-memory backend: fan-out, replay, linger (output keeps flowing into the
// ring with nobody watching), reconnect with backoff after a drop, and a fatal BMC refusal ending the session.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { BmcError } from "@/server/drivers/bmc/types";
import { ConsoleHub, type ConsoleSessionOptions, type ConsoleStatus, type ConsoleViewer } from "./session";
import type { ConsoleBackend, ConsoleCloseReason, ConsoleStream, ConsoleStreamEvents } from "./types";

class FakeStream extends EventEmitter<ConsoleStreamEvents> implements ConsoleStream {
  closed = false;
  input: string[] = [];
  breaks = 0;
  write(d: Buffer | string) {
    this.input.push(d.toString());
  }
  async sendBreak() {
    this.breaks++;
  }
  async close() {
    this.drop({ code: "client", message: "Console closed" });
  }
  print(s: string) {
    this.emit("data", Buffer.from(s));
  }
  drop(r: ConsoleCloseReason) {
    if (this.closed) return;
    this.closed = true;
    this.emit("close", r);
  }
}

class FakeBackend implements ConsoleBackend {
  streams: FakeStream[] = [];
  failures: Error[] = [];
  async connect() {
    const f = this.failures.shift();
    if (f) throw f;
    const s = new FakeStream();
    this.streams.push(s);
    return s;
  }
}

function viewer() {
  const v = { text: "", states: [] as ConsoleStatus[], ended: null as string | null };
  const api: ConsoleViewer = {
    output: (c) => {
      v.text += c.toString();
    },
    status: (s) => {
      v.states.push(s);
    },
    end: (r) => {
      v.ended = r;
    },
  };
  return Object.assign(v, { api });
}

async function until(what: string, fn: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A hub with these options and a session on a fake backend (its first connects failing with `failures`), watched by one viewer. */
function watchedSession(nodeId: string, opts: ConsoleSessionOptions, failures: Error[] = []) {
  const be = new FakeBackend();
  be.failures.push(...failures);
  const hub = new ConsoleHub(opts);
  const a = viewer();
  const s = hub.session(nodeId, () => be);
  s.attach(a.api);
  return { be, hub, a, s };
}

describe("ConsoleSession", () => {
  it("shares one upstream between viewers and replays the scrollback to a late one", async () => {
    const { be, hub, a, s } = watchedSession("n1", { statusLines: false });
    await until("connected", () => s.state.state === "connected");
    be.streams[0]!.print("boot log\r\nlogin: ");
    const b = viewer();
    hub.session("n1", () => be).attach(b.api);
    expect(b.text).toBe("boot log\r\nlogin: ");
    be.streams[0]!.print("x");
    expect(a.text).toBe("boot log\r\nlogin: x");
    expect(b.text).toBe("boot log\r\nlogin: x");
    expect(be.streams).toHaveLength(1);
    s.write(Buffer.from("root\r"));
    await s.sendBreak();
    expect(be.streams[0]!.input).toEqual(["root\r"]);
    expect(be.streams[0]!.breaks).toBe(1);
    await hub.closeAll();
    expect(a.ended).toBe("Anvil is shutting down");
  });

  it("keeps the upstream open after the last viewer leaves, collecting output, then closes it after the linger time", async () => {
    const { be, hub, a, s } = watchedSession("n2", { lingerMs: 150, statusLines: false });
    await until("connected", () => s.state.state === "connected");
    s.detach(a.api);
    be.streams[0]!.print("kernel panic while nobody watched\r\n");
    const b = viewer();
    hub.session("n2", () => be).attach(b.api); // within the linger time: same session, output kept
    expect(b.text).toContain("kernel panic while nobody watched");
    s.detach(b.api);
    await until("linger expiry", () => be.streams[0]!.closed, 2000);
    expect(hub.get("n2")).toBeUndefined();
  });

  it("reconnects with backoff when the BMC drops the session and tells viewers (status + a line in the terminal)", async () => {
    const { be, hub, a, s } = watchedSession("n3", { initialBackoffMs: 20 }, [new BmcError("unreachable", "bmc", "BMC bmc is unreachable")]);
    await until("connected after one failure", () => s.state.state === "connected");
    expect(s.connects).toBe(2);
    be.streams[0]!.drop({ code: "remote", message: "BMC ended the console session" });
    await until("reconnected", () => be.streams.length === 2 && s.state.state === "connected");
    expect(a.states.map((x) => x.state)).toEqual(["connecting", "reconnecting", "connecting", "connected", "reconnecting", "connecting", "connected"]);
    expect(a.states[4]!.reason).toBe("BMC ended the console session");
    expect(a.text).toContain("[console: BMC ended the console session; reconnecting in");
    expect(a.text).toContain("[console: reconnected]");
    s.write(Buffer.from("still typing"));
    expect(be.streams[1]!.input).toEqual(["still typing"]);
    await hub.closeAll();
  });

  it("ends the session (no retry loop) when the BMC refuses the credentials", async () => {
    const { be, hub, a, s } = watchedSession("n4", { initialBackoffMs: 10 }, [new BmcError("auth", "bmc", "BMC bmc refused the credentials for user admin")]);
    await until("ended", () => a.ended !== null);
    expect(a.ended).toBe("BMC bmc refused the credentials for user admin");
    expect(s.state).toEqual({ type: "status", state: "closed", reason: "BMC bmc refused the credentials for user admin" });
    expect(hub.get("n4")).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.connects).toBe(1);
    // The next viewer gets a fresh attempt (the operator may have fixed the credentials meanwhile).
    const s2 = hub.session("n4", () => be);
    expect(s2).not.toBe(s);
    await until("connected", () => s2.state.state === "connected");
    await hub.closeAll();
  });

  it("keeps what is typed while reconnecting and sends it once the console is back; never drops input silently", async () => {
    const { be, hub, a, s } = watchedSession("n5", { initialBackoffMs: 60 });
    await until("connected", () => s.state.state === "connected");
    be.streams[0]!.drop({ code: "remote", message: "BMC ended the console session" });
    s.write(Buffer.from("uptime\r"));
    expect(a.text).toContain("[console: not connected: what you type is kept and sent when the console is back]");
    s.write(Buffer.alloc(5000, 0x61)); // over the 4 KiB bound: reported, not sent
    await until("reconnected", () => be.streams.length === 2 && s.state.state === "connected");
    expect(be.streams[1]!.input).toEqual(["uptime\r"]);
    expect(a.text).toContain("[console: sent 7 bytes typed while reconnecting]");
    expect(a.text).toContain("[console: 5000 typed bytes were not sent");
    await hub.closeAll();
  });

  it("forgets input typed while reconnecting when the host changes hands (nothing reaches the next tenant)", async () => {
    const be = new FakeBackend();
    const hub = new ConsoleHub({ initialBackoffMs: 200 });
    const s = hub.session("n6", () => be, 1);
    s.attach(viewer().api);
    await until("connected", () => s.state.state === "connected");
    be.streams[0]!.drop({ code: "remote", message: "dropped" });
    s.write(Buffer.from("rm -rf /\r"));
    await hub.handover("n6", 2);
    const next = hub.session("n6", () => be, 2);
    next.attach(viewer().api);
    await until("new session connected", () => next.state.state === "connected");
    await new Promise((r) => setTimeout(r, 300));
    for (const st of be.streams) expect(st.input).toEqual([]);
    await hub.closeAll();
  });
});
