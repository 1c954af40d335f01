// Which console a Redfish-enrolled node gets (issue #13, finding 6), against the lab's Redfish simulator in its
// field dialects and a real IPMI BMC (OpenIPMI's ipmi_sim, test/ipmi-sim.ts): a BMC that advertises its console
// only as IPMI SOL (on the system or on the Manager) is reached over SOL with the node's BMC credentials, an SSH
// console that does not answer falls through to the next way in, and a BMC without any serial console is said to
// have none — once, as an "unsupported" error the console session does not retry.
import crypto from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { BmcError } from "@/server/drivers/bmc/types";
import { seal } from "@/server/lib/secrets";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { backendForNode } from "./backends";
import type { ConsoleStream } from "./types";

const USER = "admin";
const PASS = "sol-pass-1234";
let ipmi: IpmiSim;
let sim: RedfishSim;

beforeAll(async () => {
  ipmi = await startIpmiSim({ username: USER, password: PASS, initialPower: "on", hostname: "sol-host" });
  await ipmi.serialConnected();
  // 0: IPMI on the system; 1: console on the Manager (SSH first, then IPMI); 2: none at all.
  const dialects = ["ipmi-console", "dmtf-rackmount", "no-console"] as const;
  sim = await startRedfishSim({ hosts: 3, dpuEvery: 0, username: USER, password: PASS, dialect: (i) => dialects[i] });
}, 30_000);

afterAll(async () => {
  await sim?.close();
  await ipmi?.stop();
});

const nodeOf = (i: number) => ({
  id: crypto.randomUUID(),
  bmcDriver: "redfish" as const,
  bmcAddress: sim.bmcs[i].url,
  bmcCredentials: seal(JSON.stringify({ username: USER, password: PASS })),
  bmcVerifyTls: false,
});

async function setDialect(i: number, body: unknown) {
  const r = await fetch(`${sim.adminUrl}/admin/bmcs/${sim.bmcs[i].id}/dialect`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(200);
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function readUntil(s: ConsoleStream, text: string, ms = 20_000): Promise<string> {
  let got = "";
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${text}" on the console within ${ms} ms (got ${JSON.stringify(got.slice(-200))})`)), ms);
    s.on("data", (c) => {
      got += c.toString("latin1");
      if (got.includes(text)) {
        clearTimeout(t);
        resolve(got);
      }
    });
    s.write("\r");
  });
}

describe("console of a Redfish-enrolled node", () => {
  it.each([
    ["opens IPMI SOL where the system advertises SerialConsole.IPMI, with the node's BMC credentials", 0, async () => ({ ipmiPort: ipmi.port })],
    ["falls from the Manager's SSH console (not answering) to its IPMI SOL", 1, async () => ({ sshPort: await closedPort(), ipmiPort: ipmi.port })],
  ])("%s", async (_, i, dialect) => {
    await setDialect(i, await dialect());
    const s = await backendForNode(nodeOf(i)).connect();
    try {
      await readUntil(s, "sol-host login: ");
    } finally {
      await s.close();
    }
  });

  it("says once that a BMC offers no serial console, as an error the session does not retry", async () => {
    const e = await backendForNode(nodeOf(2))
      .connect()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(e).toBeInstanceOf(BmcError);
    expect((e as BmcError).code).toBe("unsupported");
    expect((e as BmcError).transient).toBe(false);
    expect((e as BmcError).message).toBe(
      "This BMC offers no serial console (its system advertises no SerialConsole; its manager advertises no SerialConsole or CommandShell)",
    );
  });
});
