// The management-network policy: the rules (built-in refusals, ANVIL_MGMT_ALLOW / ANVIL_MGMT_DENY, specificity,
// IPv4-mapped IPv6), name resolution, and enforcement at connect time in every client that reaches the management
// network — the Redfish transport, the IPMI driver (before ipmitool is started), the DPU agent client — each against a
// real local server that counts the connections it gets: a refused address is never contacted.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBmcDriver, isBmcError } from "@/server/drivers/bmc";
import { createDpuAgentClient, DpuAgentError } from "@/server/drivers/dpu-agent/client";
import { checkMgmtIp, checkMgmtTarget, MGMT_DENIED, mgmtDispatcher, mgmtPolicy, resolveMgmtHost } from "./mgmt-network";

const saved = { allow: process.env.ANVIL_MGMT_ALLOW, deny: process.env.ANVIL_MGMT_DENY };
function policy(allow?: string, deny?: string) {
  if (allow === undefined) delete process.env.ANVIL_MGMT_ALLOW;
  else process.env.ANVIL_MGMT_ALLOW = allow;
  if (deny === undefined) delete process.env.ANVIL_MGMT_DENY;
  else process.env.ANVIL_MGMT_DENY = deny;
}
afterEach(() => policy(saved.allow, saved.deny));

/** A local HTTP server standing in for a BMC / agent; counts every TCP connection it accepts. */
let server: http.Server;
let port = 0;
let connections = 0;
beforeAll(async () => {
  server = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ok = (ip: string) => checkMgmtIp(ip).ok;

describe("the policy", () => {
  it("refuses loopback, link-local, metadata and this-network by default, and allows the rest", () => {
    policy(undefined);
    for (const ip of ["127.0.0.1", "127.3.4.5", "::1", "::ffff:127.0.0.1", "169.254.169.254", "169.254.10.1", "fe80::1", "0.0.0.0", "::", "fd00:ec2::254"])
      expect(ok(ip), ip).toBe(false);
    for (const ip of ["10.0.0.5", "192.168.1.1", "172.16.0.9", "2001:db8::1", "::ffff:10.0.0.5"]) expect(ok(ip), ip).toBe(true);
    expect(checkMgmtIp("169.254.169.254")).toEqual({ ok: false, reason: "the cloud metadata address is refused unless ANVIL_MGMT_ALLOW lists it" });
    expect(checkMgmtIp("::ffff:127.0.0.1")).toMatchObject({ ok: false, reason: expect.stringMatching(/^loopback/) });
  });

  it("with ANVIL_MGMT_ALLOW allows only its ranges; an entry as specific as a built-in refusal lifts it, a wider one does not", () => {
    policy("10.0.0.0/8, 127.0.0.0/8");
    expect(ok("10.20.30.40")).toBe(true);
    expect(ok("127.0.0.1")).toBe(true);
    expect(ok("::ffff:127.0.0.1")).toBe(true);
    expect(ok("192.168.1.1")).toBe(false);
    expect(ok("169.254.169.254")).toBe(false);
    policy("169.254.0.0/16");
    expect(ok("169.254.10.1")).toBe(true);
    expect(ok("169.254.169.254")).toBe(false); // the metadata address needs its own entry
    policy("169.254.0.0/16,169.254.169.254");
    expect(ok("169.254.169.254")).toBe(true);
    policy("0.0.0.0/0");
    expect(ok("8.8.8.8")).toBe(true);
    expect(ok("127.0.0.1")).toBe(false);
  });

  it("ANVIL_MGMT_DENY wins over everything", () => {
    policy("10.0.0.0/8", "10.9.0.0/16");
    expect(ok("10.8.0.1")).toBe(true);
    expect(checkMgmtIp("10.9.0.1")).toEqual({ ok: false, reason: "ANVIL_MGMT_DENY entry 10.9.0.0/16 refuses it" });
  });

  it("names a malformed variable", () => {
    policy("10.0.0.0/33");
    expect(() => mgmtPolicy()).toThrow(/^ANVIL_MGMT_ALLOW: \/33 is longer than an IPv4 address/);
    policy(undefined, "bogus");
    expect(() => mgmtPolicy()).toThrow(/^ANVIL_MGMT_DENY: "bogus" is not a CIDR/);
  });

  it("checks every address a name resolves to, and says which", async () => {
    policy("10.0.0.0/8");
    const e = await resolveMgmtHost("localhost").catch((x) => x);
    expect(e.code).toBe(MGMT_DENIED);
    expect(e.message).toMatch(
      /^localhost \((127\.0\.0\.1|::1)\) is not on the management network allowed by ANVIL_MGMT_ALLOW \(10\.0\.0\.0\/8\): loopback \(.+\) is refused unless ANVIL_MGMT_ALLOW lists it\.$/,
    );
    policy("10.0.0.0/8", "10.9.0.0/16");
    expect(await checkMgmtTarget("http://10.9.1.2")).toEqual({
      ok: false,
      unresolved: false,
      message: "10.9.1.2 is not on the management network allowed by ANVIL_MGMT_ALLOW (10.0.0.0/8): ANVIL_MGMT_DENY entry 10.9.0.0/16 refuses it.",
    });
    expect(await checkMgmtTarget("https://192.168.0.9:8443/redfish/v1")).toEqual({
      ok: false,
      unresolved: false,
      message: "192.168.0.9 is not on the management network allowed by ANVIL_MGMT_ALLOW (10.0.0.0/8): it is outside every allowed range.",
    });
    policy("127.0.0.0/8,::1");
    expect(await resolveMgmtHost("localhost")).not.toHaveLength(0);
    expect(await checkMgmtTarget("http://nonexistent.invalid/x.bfb")).toMatchObject({
      ok: false,
      unresolved: true,
      message: expect.stringMatching(/does not resolve from Anvil/),
    });
    expect(await checkMgmtTarget("[::1]:623")).toEqual({ ok: true });
    expect(await checkMgmtTarget("fe80::1")).toMatchObject({ ok: false, unresolved: false });
  });
});

/** What a BMC driver's first call (reading the power state) fails with; the driver is closed after. */
async function powerStateError(driver: "redfish" | "ipmi", address: string, retries: number) {
  const d = createBmcDriver({ driver, address, credentials: { username: "u", password: "p" }, verifyTls: false, timeoutMs: 3000, retries });
  const e = await d.getPowerState().catch((x) => x);
  await d.close();
  return e;
}

describe("enforcement where the connection is made", () => {
  it("the shared dispatcher refuses a name at its lookup and an address before connecting; allowed, it connects", async () => {
    policy("10.0.0.0/8");
    const before = connections;
    for (const url of [`http://localhost:${port}/`, `http://127.0.0.1:${port}/`]) {
      const e = await request(url, { dispatcher: mgmtDispatcher() }).catch((x) => x);
      expect(e.code, url).toBe(MGMT_DENIED);
      expect(e.message).toMatch(/is not on the management network allowed by ANVIL_MGMT_ALLOW \(10\.0\.0\.0\/8\)/);
    }
    expect(connections).toBe(before);
    policy("127.0.0.0/8");
    const r = await request(`http://127.0.0.1:${port}/`, { dispatcher: mgmtDispatcher() });
    await r.body.dump();
    expect(r.statusCode).toBe(200);
    expect(connections).toBe(before + 1);
  });

  it("the Redfish driver fails with 'forbidden' and sends nothing", async () => {
    policy(undefined);
    const before = connections;
    const e = await powerStateError("redfish", `http://127.0.0.1:${port}`, 2);
    expect(isBmcError(e) && e.code).toBe("forbidden");
    expect(e.message).toMatch(
      /^127\.0\.0\.1 is not on the management network allowed by ANVIL_MGMT_ALLOW \(not set\): loopback \(127\.0\.0\.0\/8\) is refused unless ANVIL_MGMT_ALLOW lists it\.$/,
    );
    expect(connections).toBe(before);
  });

  it("the IPMI driver checks the address before ipmitool is ever started", async () => {
    policy(undefined);
    const prev = process.env.ANVIL_IPMITOOL;
    // Had ipmitool been started, this would fail as "ipmitool is not installed" instead.
    process.env.ANVIL_IPMITOOL = "/nonexistent/ipmitool";
    try {
      const e = await powerStateError("ipmi", "localhost:623", 0);
      expect(isBmcError(e) && e.code).toBe("forbidden");
      expect(e.message).toMatch(/^localhost \(.+\) is not on the management network/);
    } finally {
      if (prev === undefined) delete process.env.ANVIL_IPMITOOL;
      else process.env.ANVIL_IPMITOOL = prev;
    }
  });

  it("the DPU agent client fails with 'forbidden', is not retried, and sends nothing", async () => {
    policy(undefined);
    const before = connections;
    const a = createDpuAgentClient({ baseUrl: `http://127.0.0.1:${port}`, token: "t".repeat(16), retries: 3, retryDelayMs: 1 });
    const e = await a.health().catch((x) => x);
    expect(e).toBeInstanceOf(DpuAgentError);
    expect(e).toMatchObject({ status: 0, code: "forbidden", transient: false });
    expect(e.message).toMatch(/^DPU agent at http:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1 is not on the management network/);
    expect(connections).toBe(before);
    policy("127.0.0.0/8");
    expect(await a.health()).toEqual({});
  });
});
