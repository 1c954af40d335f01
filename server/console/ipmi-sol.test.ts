// End-to-end test of the IPMI SOL console backend: ipmitool sol activate (in a pty) → ipmi_sim →
// the simulated server's serial line served by test/ipmi-sim.ts (a tiny getty that echoes).
// Fails (does not skip) when ipmi_sim/ipmitool are missing, naming the apt package to install.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { BmcError } from "@/server/drivers/bmc/types";
import { IpmiSolBackend } from "./ipmi-sol";
import type { ConsoleCloseReason, ConsoleStream } from "./types";

let sim: IpmiSim;

beforeAll(async () => {
  sim = await startIpmiSim({ initialPower: "on", hostname: "anvil-sim" });
  await sim.serialConnected();
});

afterAll(async () => {
  await sim?.stop();
});

/** Collects a stream's output as text and lets a test wait for a substring. */
function watch(stream: ConsoleStream) {
  let text = "";
  const closed = new Promise<ConsoleCloseReason>((r) => stream.once("close", r));
  stream.on("data", (d) => {
    text += d.toString("latin1");
  });
  return {
    text: () => text,
    closed,
    async waitFor(needle: string, ms = 5000) {
      const end = Date.now() + ms;
      while (!text.includes(needle)) {
        if (Date.now() > end) throw new Error(`Console output never showed ${JSON.stringify(needle)}; got ${JSON.stringify(text)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

const APP = 0x06;
const ACTIVATE_PAYLOAD = 0x48;
const DEACTIVATE_PAYLOAD = 0x49;
const GET_CHANNEL_PAYLOAD_SUPPORT = 0x4e;

describe("IPMI SOL console backend against ipmi_sim", () => {
  it("activates, shows the login prompt, echoes typing, sends a break and closes cleanly", async () => {
    const backend = new IpmiSolBackend({ address: sim.address, credentials: { username: sim.username, password: sim.password } });
    const stream = await backend.connect();
    const out = watch(stream);

    // The wake CR sent after activation makes the getty print its prompt.
    await out.waitFor("anvil-sim login: ");

    stream.write("root\r");
    await out.waitFor("root\r\nroot@anvil-sim:~$ ");

    // A "~" at line start is data for the server, not an ipmitool escape: "~." must not end the session.
    stream.write("~.\r");
    await out.waitFor("-sh: ~.: command not found");
    expect(stream.closed).toBe(false);

    // Magic SysRq: BREAK, then the command key. (ipmi_sim forwards a break to the serial line
    // together with the next SOL data, so the key is also what delivers it here.)
    await stream.sendBreak();
    stream.write("h");
    await out.waitFor("sysrq: serial break received");
    expect(sim.serialBreaks()).toBe(1);
    expect(out.text()).not.toContain("[send break]"); // ipmitool's local echo is not server output
    stream.write("\rexit\r");
    await out.waitFor("-sh: h: command not found\r\nroot@anvil-sim:~$ exit\r\nanvil-sim login: ");

    // Everything typed reached the serial line exactly once, in order (after the wake CR).
    expect(sim.serialInput().toString("latin1")).toBe("\rroot\r~.\rh\rexit\r");

    await stream.close();
    const reason = await out.closed;
    expect(reason).toEqual({ code: "client", message: "Console closed" });
    expect(stream.closed).toBe(true);

    const app = sim.messages().filter((m) => m.netfn === APP);
    expect(app.some((m) => m.cmd === ACTIVATE_PAYLOAD)).toBe(true);
    expect(app.some((m) => m.cmd === DEACTIVATE_PAYLOAD)).toBe(true); // released on the BMC
    expect(app.some((m) => m.cmd === GET_CHANNEL_PAYLOAD_SUPPORT)).toBe(false);

    // Released: a new session opens without needing a take-over.
    const again = await new IpmiSolBackend({ address: sim.address, credentials: { username: sim.username, password: sim.password } }, { takeOver: false }).connect();
    const out2 = watch(again);
    await out2.waitFor("login: ");
    await again.close();
  });

  it("closes mid-line without sending CR, and still releases the session on the BMC", async () => {
    const before = sim.messages().filter((m) => m.netfn === APP && m.cmd === DEACTIVATE_PAYLOAD).length;
    const inputBefore = sim.serialInput().length;
    const stream = await new IpmiSolBackend({ address: sim.address, credentials: { username: sim.username, password: sim.password } }).connect();
    const out = watch(stream);
    stream.write("half-typed");
    await out.waitFor("half-typed");
    await stream.close();
    expect((await out.closed).code).toBe("client");
    // The wake CR may or may not have been dropped by the BMC (see ipmi-sol.ts); the typed bytes never are,
    // and close() added nothing (no CR, no "~.").
    expect(sim.serialInput().subarray(inputBefore).toString("latin1").replace(/^\r/, "")).toBe("half-typed");
    expect(sim.messages().filter((m) => m.netfn === APP && m.cmd === DEACTIVATE_PAYLOAD).length).toBeGreaterThan(before);
  });

  it("takes over a session left active by someone else", async () => {
    const creds = { username: sim.username, password: sim.password };
    const first = await new IpmiSolBackend({ address: sim.address, credentials: creds }).connect();

    const refused = await new IpmiSolBackend({ address: sim.address, credentials: creds }, { takeOver: false }).connect().catch((e) => e);
    expect(refused).toBeInstanceOf(BmcError);
    expect(refused.message).toBe(`The serial console of BMC ${sim.address} is in use by another session`);

    const second = await new IpmiSolBackend({ address: sim.address, credentials: creds }).connect();
    const secondOut = watch(second);
    second.write("whoami\r");
    await secondOut.waitFor("whoami\r\n");
    expect(second.closed).toBe(false);
    await second.close();
    // The BMC dropped the first session; ipmitool only notices at its next keepalive, so end it here.
    await first.close();
    expect(first.closed).toBe(true);
  });

  it("rejects a wrong password with an auth error", async () => {
    const err = await new IpmiSolBackend({ address: sim.address, credentials: { username: sim.username, password: "wrong-password" } })
      .connect()
      .catch((e) => e);
    expect(err).toBeInstanceOf(BmcError);
    expect(err.code).toBe("auth");
    expect(err.message).toContain(`BMC ${sim.address} refused the credentials for user ${sim.username}`);
  });
});
