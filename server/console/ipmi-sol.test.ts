// End-to-end test of the IPMI SOL console backend: ipmitool sol activate (in a pty) → ipmi_sim →
// the simulated server's serial line served by test/ipmi-sim.ts (a tiny getty that echoes).
// Fails (does not skip) when ipmi_sim/ipmitool are missing, naming the apt package to install.
// Another client taking the console (issue #13) is played by a second, real ipmitool (`sol deactivate`, then its own
// `sol activate`): see test/ipmi-sim.ts solIntruder().
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { BmcError } from "@/server/drivers/bmc/types";
import { CARRY_OVER_BYTES, DEACTIVATED, IpmiSolBackend, SOL_PTY_HELPER, TAKEN_OVER } from "./ipmi-sol";
import { ConsoleSession, type ConsoleStatus } from "./session";
import { watchConsole } from "@/test/console-watch";

let sim: IpmiSim;

beforeAll(async () => {
  sim = await startIpmiSim({ initialPower: "on", hostname: "anvil-sim" });
  await sim.serialConnected();
});

afterAll(async () => {
  await sim?.stop();
});

const APP = 0x06;
const ACTIVATE_PAYLOAD = 0x48;
const DEACTIVATE_PAYLOAD = 0x49;
const GET_CHANNEL_PAYLOAD_SUPPORT = 0x4e;

describe("IPMI SOL console backend against ipmi_sim", () => {
  it("activates, shows the login prompt, echoes typing, sends a break and closes cleanly", async () => {
    const backend = new IpmiSolBackend({ address: sim.address, credentials: { username: sim.username, password: sim.password } });
    const stream = await backend.connect();
    const out = watchConsole(stream);

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
    const again = await new IpmiSolBackend(
      { address: sim.address, credentials: { username: sim.username, password: sim.password } },
      { takeOver: false },
    ).connect();
    const out2 = watchConsole(again);
    await out2.waitFor("login: ");
    await again.close();
  });

  it("closes mid-line without sending CR, and still releases the session on the BMC", async () => {
    const before = sim.messages().filter((m) => m.netfn === APP && m.cmd === DEACTIVATE_PAYLOAD).length;
    const inputBefore = sim.serialInput().length;
    const stream = await new IpmiSolBackend({ address: sim.address, credentials: { username: sim.username, password: sim.password } }).connect();
    const out = watchConsole(stream);
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
    const secondOut = watchConsole(second);
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

describe("another client takes the serial console (issue #13)", () => {
  // A BMC of its own: the getty's login state and the SOL holder are part of what these tests look at.
  let own: IpmiSim;
  beforeAll(async () => {
    own = await startIpmiSim({ initialPower: "on", hostname: "anvil-sim" });
    await own.serialConnected();
  });
  afterAll(async () => {
    await own?.stop();
  });
  const creds = () => ({ username: own.username, password: own.password });

  it("is noticed while nobody types, ends the stream with the reason, and output flows again once taken back", async () => {
    const first = await new IpmiSolBackend({ address: own.address, credentials: creds() }, { ownershipCheckMs: 500 }).connect();
    const out = watchConsole(first);
    await out.waitFor("anvil-sim login: ");
    first.write("root\r");
    await out.waitFor("root@anvil-sim:~$ ");
    const intruder = await own.solIntruder("activate");
    try {
      // The old stream sat "connected" with no output: now the BMC's SOL holder is checked while it is quiet.
      const reason = await out.closed;
      expect(reason.code).toBe("remote");
      expect([TAKEN_OVER, DEACTIVATED]).toContain(reason.message);

      // Typing that reaches the stream after it lost the console is kept — at most CARRY_OVER_BYTES, the rest reported.
      const inputBefore = own.serialInput().length;
      const long = "x".repeat(CARRY_OVER_BYTES - 1);
      first.write(`${long}\r`);
      first.write("this did not fit\r");

      const again = await new IpmiSolBackend({ address: own.address, credentials: creds() }, { ownershipCheckMs: 500 }).connect();
      const out2 = watchConsole(again);
      await out2.waitFor(`[console: sent ${CARRY_OVER_BYTES} bytes typed while the console was taken over; 17 bytes typed meanwhile were not sent`);
      await out2.waitFor("-sh: xxxx");
      expect(own.serialInput().subarray(inputBefore).toString("latin1")).toMatch(new RegExp(`^\r*${long}\r$`));
      // The server's output is the new stream's (and so the scrollback's) again.
      own.serialWrite("kernel: still here\r\n");
      await out2.waitFor("kernel: still here");
      expect(intruder.output()).not.toContain("kernel: still here");
      again.write("exit\r");
      await out2.waitFor("anvil-sim login: ");
      await again.close();
    } finally {
      await first.close();
      await intruder.close();
    }
  });

  it("through the session layer: a line typed while it still looked connected reaches the host once, after the reconnect", async () => {
    // No ownership polling here: the loss is found by ipmitool failing to send the typed line, so the line is
    // certainly typed before anything noticed (the case the field report describes).
    const session = new ConsoleSession("ipmi-node", () => new IpmiSolBackend({ address: own.address, credentials: creds() }, { ownershipCheckMs: 0 }), {
      initialBackoffMs: 200,
    });
    let text = "";
    const states: ConsoleStatus[] = [];
    session.attach({
      output: (d) => {
        text += d.toString("latin1");
      },
      status: (st) => states.push(st),
      end: () => undefined,
    });
    const waitText = async (needle: string, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!text.includes(needle)) {
        if (Date.now() > end) throw new Error(`Never saw ${JSON.stringify(needle)} in ${JSON.stringify(text)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      // the first SOL activation can take a while on a loaded machine (ipmitool's session set-up and retries)
      await waitText("anvil-sim login: ", 45_000);
      session.write(Buffer.from("root\r"));
      await waitText("root@anvil-sim:~$ ");
      const inputBefore = own.serialInput().length;
      await own.solIntruder("deactivate");
      expect(session.state.state).toBe("connected");
      session.write(Buffer.from("uptime\r"));
      await waitText("uptime\r\n-sh: uptime: command not found");
      expect(states).toContainEqual({ type: "status", state: "reconnecting", reason: DEACTIVATED });
      expect(text).toContain(`[console: ${DEACTIVATED}; reconnecting in`);
      expect(text).toContain("[console: sent 7 bytes typed while the console was taken over]");
      // Exactly the typed line reached the host (besides wake CRs): no escape or control bytes, nothing twice.
      expect(own.serialInput().subarray(inputBefore).toString("latin1")).toMatch(/^\r*uptime\r$/);
    } finally {
      await session.end("test over");
    }
  }, 90_000);
});

describe("the pty helper", () => {
  /** Runs the helper around `program` (Python code) and writes `frames` at once; resolves with its output and delivery reports. */
  function helper(program: string, frames: string[], confirmS = 0.3) {
    const child = spawn("/usr/bin/python3", ["-c", SOL_PTY_HELPER, String(confirmS), "32", "/usr/bin/python3", "-c", program], {
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    let out = "";
    let reports = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString("latin1");
    });
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => {
      reports += d.toString("latin1");
    });
    for (const f of frames) child.stdin?.write(Buffer.concat([Buffer.from([f.length >> 8, f.length & 0xff]), Buffer.from(f, "latin1")]));
    return new Promise<{ out: string; reports: string[] }>((resolve) =>
      child.on("close", () => {
        child.stdin?.destroy();
        resolve({ out, reports: reports.split("\n").filter(Boolean) });
      }),
    );
  }

  it("gives ipmitool a raw terminal from the start: bytes written before it switches modes arrive unchanged and are not echoed", async () => {
    // ipmitool prints its banner, THEN enters raw mode; a cooked pty would echo the wake CR and hand it over as LF.
    const { out } = await helper("import os, sys, time\ntime.sleep(0.5)\nsys.stdout.write(repr(os.read(0, 100)))\nsys.stdout.flush()", ["\r"]);
    expect(out).toBe("b'\\r'");
  });

  it("counts a chunk delivered only once the program read the next one or outlived the retry budget", async () => {
    // Reads the chunk (the three frames fit in one) and stays alive past the budget: all three counted.
    const reader = await helper("import os, time\nos.read(0, 100)\ntime.sleep(1)", ["a", "b", "c"]);
    expect(reader.reports.at(-1)).toBe("d 3");
    // Dies right after reading its chunk (as ipmitool does when a send fails): nothing counted delivered.
    const dies = await helper("import os, sys\nos.read(0, 100)\nsys.exit(1)", ["lost", "and this"]);
    expect(dies.reports).toEqual([]);
  });
});
