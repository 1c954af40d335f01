// The SSH console backend against a small ssh2 *server* started here that behaves like an OpenBMC console
// port (2200-style): password login, the host's serial line straight on the session (a getty that echoes),
// window-change requests, and the BMC hanging up. Real TCP on 127.0.0.1, ephemeral port.
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Server, utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BmcError } from "@/server/drivers/bmc/types";
import { SshConsoleBackend } from "./ssh";
import { watchConsole } from "@/test/console-watch";

const hostKey = utils.generateKeyPairSync("ed25519");
const parsed = utils.parseKey(hostKey.public);
if (parsed instanceof Error) throw parsed;
/** What `ssh-keygen -l` calls the key's SHA256 fingerprint: SHA-256 of the wire-format public key. */
const hostKeySha256 = createHash("sha256")
  .update((Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH())
  .digest("base64");
const USER = "root";
const PASS = "0penBmc";

interface ConsoleSide {
  input: string;
  windows: { cols: number; rows: number }[];
  hangUp(): void;
}
let server: Server;
let port: number;
const sides: ConsoleSide[] = [];

beforeAll(async () => {
  server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on("authentication", (ctx) => {
      if (ctx.method === "password" && ctx.username === USER && ctx.password === PASS) ctx.accept();
      else ctx.reject(["password"]);
    });
    client.on("error", () => undefined);
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept();
        const side: ConsoleSide = { input: "", windows: [], hangUp: () => {} };
        sides.push(side);
        session.on("pty", (ok, _rej, info) => {
          side.windows.push({ cols: info.cols, rows: info.rows });
          ok?.();
        });
        session.on("window-change", (ok, _rej, info) => {
          side.windows.push({ cols: info.cols, rows: info.rows });
          ok?.();
        });
        session.on("shell", (ok) => {
          const ch = ok();
          side.hangUp = () => {
            ch.exit(0);
            ch.end();
          };
          // The host's serial line: a getty that echoes and answers a line with a prompt.
          ch.write("\r\nbmc-host login: ");
          ch.on("data", (d: Buffer) => {
            const s = d.toString("latin1");
            side.input += s;
            ch.write(s.replace(/\r/g, "\r\n"));
            if (s.includes("\r")) ch.write("Password: ");
          });
        });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe("SSH console backend against an OpenBMC-style ssh2 console server", () => {
  it("logs in, shows the login prompt, echoes typing, resizes, and closes cleanly", async () => {
    const stream = await new SshConsoleBackend({ host: "127.0.0.1", port, credentials: { username: USER, password: PASS }, hostKeySha256 }).connect();
    const out = watchConsole(stream);
    await out.waitFor("bmc-host login: ");
    stream.write("root\r");
    await out.waitFor("root\r\nPassword: ");
    const side = sides.at(-1)!;
    expect(side.input).toBe("root\r");
    stream.resize?.(132, 43);
    const end = Date.now() + 3000;
    while (side.windows.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(side.windows).toEqual([
      { cols: 80, rows: 24 },
      { cols: 132, rows: 43 },
    ]);
    // No in-band break sequence configured: say so rather than pretend.
    await expect(stream.sendBreak()).rejects.toThrow(/cannot send a serial BREAK/);
    await stream.close();
    expect(await out.closed).toEqual({ code: "client", message: "Console closed" });
    expect(stream.closed).toBe(true);
  });

  it("sends the configured break sequence in-band", async () => {
    const stream = await new SshConsoleBackend({ host: "127.0.0.1", port, credentials: { username: USER, password: PASS }, breakSequence: "~B" }).connect();
    const out = watchConsole(stream);
    await out.waitFor("login: ");
    await stream.sendBreak();
    await out.waitFor("~B");
    expect(sides.at(-1)!.input).toBe("~B");
    await stream.close();
  });

  it("reports the BMC hanging up as a remote close", async () => {
    const stream = await new SshConsoleBackend({ host: "127.0.0.1", port, credentials: { username: USER, password: PASS } }).connect();
    const out = watchConsole(stream);
    await out.waitFor("login: ");
    sides.at(-1)!.hangUp();
    const reason = await out.closed;
    expect(reason.code).toBe("remote");
    expect(reason.message).toBe(`BMC 127.0.0.1:${port} ended the SSH console session`);
  });

  it("refuses a wrong password with an auth error", async () => {
    const err = await new SshConsoleBackend({ host: "127.0.0.1", port, credentials: { username: USER, password: "nope" } }).connect().catch((e) => e);
    expect(err).toBeInstanceOf(BmcError);
    expect(err.code).toBe("auth");
    expect(err.message).toBe(`BMC 127.0.0.1:${port} refused the credentials for user root on its SSH console`);
  });

  it("refuses a host key that is not the configured one", async () => {
    const err = await new SshConsoleBackend({
      host: "127.0.0.1",
      port,
      credentials: { username: USER, password: PASS },
      hostKeySha256: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    })
      .connect()
      .catch((e) => e);
    expect(err).toBeInstanceOf(BmcError);
    expect(err.code).toBe("tls");
    expect(err.message).toContain(`SHA256:${hostKeySha256.replace(/=+$/, "")}`);
  });

  it("says the console is unreachable when nothing listens", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = new Server({ hostKeys: [hostKey.private] }, () => {});
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const err = await new SshConsoleBackend({ host: "127.0.0.1", port: closedPort, credentials: { username: USER, password: PASS } }).connect().catch((e) => e);
    expect(err).toBeInstanceOf(BmcError);
    expect(err.code).toBe("unreachable");
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});
