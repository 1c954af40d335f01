// Serial console over the advertised WebSocket ConsoleURI: authentication, boot log and login prompt
// after power-on, typed input echoed, a shared line for several clients, admin drop, the BREAK escape.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "./index";
import { basic, ConsoleClient, powerOf, resetVia, rf, systemOf, waitFor } from "./test-helpers";

let sim: RedfishSim;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 4, powerTransitionMs: 30, bootMs: 250 });
});
afterAll(async () => {
  await sim.close();
});

const auth = (id: string) => {
  const b = sim.byId(id)!;
  return { authorization: basic(b.username, b.password) };
};

async function consoleUri(id: string): Promise<string> {
  return (await systemOf(sim.byId(id)!)).SerialConsole.WebSocket.ConsoleURI;
}

describe("serial console", () => {
  it("refuses unauthenticated and wrongly authenticated connections", async () => {
    const uri = await consoleUri("node-0001");
    await expect(ConsoleClient.open(uri)).rejects.toThrow(/401/);
    await expect(ConsoleClient.open(uri, { authorization: basic("admin", "wrong") })).rejects.toThrow(/401/);
  });

  it("shows the boot log and the login prompt after power-on, echoes typed input, logs in to a shell", async () => {
    const id = "node-0001";
    sim.setBootable(id, true);
    const c = await ConsoleClient.open(await consoleUri(id), auth(id));
    try {
      await resetVia(sim.byId(id)!, "On");
      await c.waitText("UEFI firmware");
      await c.waitText("Linux version");
      await c.waitText(`${id} login: `);
      expect((await systemOf(sim.byId(id)!)).BootProgress.LastState).toBe("OSRunning");
      // Boot log lines come in order.
      expect(c.output.indexOf("UEFI firmware")).toBeLessThan(c.output.indexOf("Linux version"));

      c.send("anvil\r");
      await c.waitText("anvil\r\nPassword: ");
      c.send("secret\r");
      await c.waitText(`anvil@${id}:~$ `);
      expect(c.output).not.toContain("secret"); // passwords are not echoed
      c.send("uname -a\r");
      await c.waitText(/Linux node-0001 .*x86_64 GNU\/Linux/);
      c.send("frobnicate\r");
      await c.waitText("frobnicate: command not found");
    } finally {
      c.close();
    }
  });

  it("connects with a session token in ?token= (browser WebSockets cannot set headers)", async () => {
    const b = sim.byId("node-0001")!;
    const login = await rf(b, "/redfish/v1/SessionService/Sessions", { auth: "none", body: { UserName: b.username, Password: b.password } });
    const token = login.headers.get("x-auth-token")!;
    const c = await ConsoleClient.open(`${await consoleUri(b.id)}?token=${encodeURIComponent(token)}`);
    c.send("\r"); // the shell from the previous test is still logged in: a serial line keeps its state
    await c.waitText(/\$ $/);
    c.close();
  });

  it("gives two clients the same output and shows a machine without boot disk saying so", async () => {
    const id = "node-0002";
    const uri = await consoleUri(id);
    const a = await ConsoleClient.open(uri, auth(id));
    const b = await ConsoleClient.open(uri, auth(id));
    try {
      await resetVia(sim.byId(id)!, "On");
      await a.waitText("No bootable device");
      await b.waitText("No bootable device");
      expect(a.output).toBe(b.output);
      expect(a.output).not.toContain("login:");
      // A key press retries the boot; with the disk made bootable the OS comes up.
      sim.setBootable(id, true);
      a.send("\r");
      await b.waitText(`${id} login: `);
      a.send("x");
      await b.waitText(/login: x$/); // typed by one client, echoed to the other
    } finally {
      a.close();
      b.close();
    }
  });

  it("stops output at power-off without closing, and the admin API drops all connections", async () => {
    const id = "node-0001";
    const c = await ConsoleClient.open(await consoleUri(id), auth(id));
    const d = await ConsoleClient.open(await consoleUri(id), auth(id));
    await resetVia(sim.byId(id)!, "ForceOff");
    expect(await powerOf(sim.byId(id)!)).toBe("Off");
    const before = c.output;
    c.send("echo still here\r");
    await new Promise((r) => setTimeout(r, 100));
    expect(c.output).toBe(before); // nobody answers on a powered-off machine
    expect(c.closed).toBeUndefined();

    const r = await fetch(`${sim.adminUrl}/admin/bmcs/${id}/console/drop`, { method: "POST" });
    expect(r.status).toBe(200);
    expect((await r.json()).dropped).toBe(2);
    await waitFor("both closed", () => c.closed && d.closed);
    expect(c.closed?.code).toBe(4000);
    // Reconnecting works.
    const again = await ConsoleClient.open(await consoleUri(id), auth(id));
    again.close();
  });

  it("ESC B K sends a BREAK; followed by 'b' it reboots the machine (magic SysRq)", async () => {
    const id = "node-0003";
    sim.setBootable(id, true);
    const c = await ConsoleClient.open(await consoleUri(id), auth(id));
    try {
      await resetVia(sim.byId(id)!, "On");
      await c.waitText(`${id} login: `);
      c.send("\x1bB");
      c.send("Kh"); // split across frames on purpose
      await c.waitText("sysrq: HELP");
      c.send("\x1bBKb");
      await c.waitText("sysrq: Resetting");
      // The machine really rebooted: firmware again, then a second login prompt.
      await waitFor("login again", () => c.output.split("login: ").length >= 3, 5000);
      const afterBreak = c.output.slice(c.output.indexOf("sysrq: Resetting"));
      expect(afterBreak).toContain("UEFI firmware");
    } finally {
      c.close();
    }
  });

  it("DPU consoles show an Arm boot log", async () => {
    const id = "node-0004-dpu";
    const c = await ConsoleClient.open(await consoleUri(id), auth(id));
    try {
      await resetVia(sim.byId(id)!, "On");
      await c.waitText("BL31");
      await c.waitText("aarch64");
      await c.waitText(`${id} login: `);
    } finally {
      c.close();
    }
  });
});
