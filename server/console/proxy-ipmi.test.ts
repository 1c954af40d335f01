// The console proxy with an IPMI node: browser WebSocket → proxy → ipmitool SOL → OpenIPMI's ipmi_sim →
// the simulated server's getty (test/ipmi-sim.ts). Real sign-in, real processes; fails (never skips) when
// ipmi_sim/ipmitool are missing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserWithPassword } from "@/db/seed";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
// (imported under another name: biome reads a module-level use*() call as a React hook)
import { uniq, useTestDb as connectTestDb } from "@/test/db";
import { createConsoleProxy } from "./proxy";
import { ConsoleWs, insertNode, serveProxy, signInCookie, TEST_ORIGIN } from "./test-helpers";

const db = connectTestDb();
let sim: IpmiSim;
let srv: Awaited<ReturnType<typeof serveProxy>>;
let proxy: ReturnType<typeof createConsoleProxy>;
let nodeId: string;
let cookie: string;

beforeAll(async () => {
  sim = await startIpmiSim({ initialPower: "on", hostname: "sol-host" });
  await sim.serialConnected();
  proxy = createConsoleProxy({ db, allowedOrigin: TEST_ORIGIN });
  srv = await serveProxy(proxy);
  nodeId = await insertNode(db, { name: uniq("ipmi-host"), bmcDriver: "ipmi", bmcAddress: sim.address, username: sim.username, password: sim.password });
  const email = `${uniq("opadmin")}@test.local`;
  await createUserWithPassword(db, { email, name: "SOL Admin", password: "console test password", platformRole: "operator-admin" });
  cookie = await signInCookie(email, "console test password");
});

afterAll(async () => {
  await srv?.close(); // ends the SOL session (ipmitool "~." and Deactivate Payload) before the BMC goes away
  await sim?.stop();
});

describe("console proxy with IPMI SOL (ipmi_sim)", () => {
  it("shows the login prompt, echoes typing, sends a break, and shares the session with a second viewer", async () => {
    const a = await ConsoleWs.open(`${srv.url}/api/console/${nodeId}`, { cookie, origin: TEST_ORIGIN });
    await a.waitState("connected", 0, 20_000);
    await a.waitText("sol-host login: ", 10_000);
    a.type("root\r");
    await a.waitText("root\r\nroot@sol-host:~$ ", 10_000);

    const b = await ConsoleWs.open(`${srv.url}/api/console/${nodeId}`, { cookie, origin: TEST_ORIGIN });
    await b.waitText("root@sol-host:~$ "); // replayed from the scrollback
    b.control({ type: "break" });
    await new Promise((r) => setTimeout(r, 200));
    b.type("h");
    await a.waitText("sysrq: serial break received", 10_000);
    expect(sim.serialBreaks()).toBe(1);
    expect(sim.serialInput().toString("latin1")).toContain("root\rh");
    await a.close();
    await b.close();
  });
});
