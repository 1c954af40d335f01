// The console's own connections to a BMC (Redfish WebSocket console URI, SSH console port) obey the management-network
// policy like every other BMC call: an address outside ANVIL_MGMT_ALLOW is refused before any connection is made, as
// a final "forbidden" refusal (no reconnect loop), and an allowed one still connects.
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedfishConsoleBackend } from "./redfish-ws";
import { SshConsoleBackend } from "./ssh";

let server: net.Server;
let port: number;
let connections = 0;
const saved = process.env.ANVIL_MGMT_ALLOW;

beforeAll(async () => {
  server = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  process.env.ANVIL_MGMT_ALLOW = saved;
  await new Promise((r) => server.close(r));
});

describe("console connections and the management-network policy", () => {
  it("refuses a WebSocket console URI and an SSH console outside the allowed networks, without connecting", async () => {
    process.env.ANVIL_MGMT_ALLOW = "10.0.0.0/8";
    try {
      const ws = new RedfishConsoleBackend({ address: "bmc", credentials: { username: "u", password: "p" }, consoleUri: `ws://127.0.0.1:${port}/console` });
      await expect(ws.connect()).rejects.toMatchObject({ code: "forbidden", message: expect.stringContaining("not on the management network") });
      const ssh = new SshConsoleBackend({ host: "127.0.0.1", port, credentials: { username: "u", password: "p" } });
      await expect(ssh.connect()).rejects.toMatchObject({ code: "forbidden" });
      const byName = new SshConsoleBackend({ host: "localhost", port, credentials: { username: "u", password: "p" } });
      await expect(byName.connect()).rejects.toMatchObject({ code: "forbidden" });
      expect(connections).toBe(0);
    } finally {
      process.env.ANVIL_MGMT_ALLOW = saved;
    }
  });

  it("connects when the address is allowed (here the peer hangs up, which is reported as such)", async () => {
    process.env.ANVIL_MGMT_ALLOW = "127.0.0.0/8";
    const ssh = new SshConsoleBackend({ host: "127.0.0.1", port, credentials: { username: "u", password: "p" }, connectTimeoutMs: 2000 });
    await expect(ssh.connect()).rejects.toMatchObject({ code: "unreachable" });
    expect(connections).toBeGreaterThan(0);
  });
});
