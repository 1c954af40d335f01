// The `anvil` CLI as a user runs it: the real bin (node bin/anvil.mjs) in a child process, against a real HTTP server
// carrying the REST API and the console WebSocket, over the real lab. Signs in (config file 0600), creates an
// instance with --wait (steps on stderr, the running instance on stdout), lists it as a table and as JSON, attaches
// to its serial console (sees the login prompt, leaves with ~.), deletes it; volumes; refusals exit non-zero with
// the API's message.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as route from "@/app/api/v1/[...path]/route";
import { createConsoleProxy } from "@/server/console/proxy";
import { tokensFor } from "@/test/rest-kit";
import { startEngine, stopEngine } from "@/server/workflows/engine";
import { workflows } from "@/server/workflows/registry";
import { useTestDb } from "@/test/db";
import { type Fixtures, makeFixtures } from "@/test/fixtures";
import { type InstanceLab, startInstanceLab } from "@/test/instance-lab";

const db = useTestDb();
let fx: Fixtures;
let L: InstanceLab;
let url: string;
let token: string;
let server: http.Server;
let proxy: ReturnType<typeof createConsoleProxy>;
const home = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-cli-"));
const bin = path.join(process.cwd(), "bin/anvil.mjs");

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function anvil(
  args: string[],
  opts: { env?: Record<string, string>; input?: (child: ReturnType<typeof spawn>, out: () => string) => Promise<void> } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), ...opts.env } as unknown as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    if (opts.input) opts.input(child, () => out).catch(reject);
    else child.stdin.end();
  });
}

beforeAll(async () => {
  fx = await makeFixtures(db);
  await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: "cli-test", schedules: false });
  L = await startInstanceLab(fx, { hosts: 2 });
  token = (await tokensFor(fx)).tenantAdmin!;
  proxy = createConsoleProxy({ db, allowedOrigin: "http://127.0.0.1" });
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const method = req.method ?? "GET";
    const fn = (route as unknown as Record<string, (r: Request) => Promise<Response>>)[method];
    const r = fn
      ? await fn(new Request(`${url}${req.url}`, { method, headers, body: method === "GET" ? undefined : Buffer.concat(chunks) }))
      : new Response("", { status: 405 });
    res.writeHead(r.status, Object.fromEntries(r.headers.entries()));
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  server.on("upgrade", (req, socket, head) => {
    if (!proxy.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.ANVIL_URL = url;
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await stopEngine();
  await L?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe("anvil CLI", () => {
  let instanceName: string;

  it("says how to sign in, refuses a bad token, and saves a good one in a private file", async () => {
    const none = await anvil(["instance", "list"]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/anvil login --url/);
    const bad = await anvil(["login", "--url", url, "--token", "anv_000000000000000000000000_nope", "--tenant", fx.tenant.slug]);
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/^Error: Sign in to continue/);
    const ok = await anvil(["login", "--url", url, "--token", token, "--tenant", fx.tenant.slug]);
    expect(ok.code, ok.err).toBe(0);
    const file = path.join(home, ".config/anvil/config.json");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toMatchObject({ url, tenant: fx.tenant.slug });
  });

  it("creates an instance with --wait, showing progress, and lists it", async () => {
    instanceName = `cli-${crypto.randomUUID().slice(0, 6)}`;
    const [image] = await db.query.images.findMany({ where: (i, { eq }) => eq(i.id, L.imageId) });
    const [subnet] = await db.query.subnets.findMany({ where: (s, { eq }) => eq(s.id, L.subnetId) });
    const r = await anvil(["instance", "create", instanceName, "--pool", L.poolName, "--image", image!.name, "--subnet", subnet!.name, "--wait"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\[done\] .*\n/);
    expect(r.out).toMatch(new RegExp(`name\\s+${instanceName}`));
    expect(r.out).toMatch(/state\s+running/);
    const list = await anvil(["instance", "list"]);
    expect(list.out).toMatch(/^ID\s+NAME\s+STATE/);
    expect(list.out).toContain(instanceName);
    const json = await anvil(["instance", "list", "--json"]);
    expect((JSON.parse(json.out) as { name: string; state: string }[]).find((i) => i.name === instanceName)).toMatchObject({ state: "running" });
  });

  it("attaches to the instance's serial console and leaves with ~.", async () => {
    const r = await anvil(["console", instanceName], {
      input: async (child, out) => {
        for (let i = 0; i < 400 && !/login: /.test(out()); i++) {
          if (i % 20 === 0) child.stdin!.write("\r");
          await new Promise((res) => setTimeout(res, 25));
        }
        child.stdin!.write("\r~.");
      },
    });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/login: /);
    expect(r.err).toMatch(/\[disconnected\]/);
  });

  it("manages volumes", async () => {
    const name = `cli-vol-${crypto.randomUUID().slice(0, 6)}`;
    const made = await anvil(["volume", "create", name, "--size", "2", "--json"]);
    expect(made.code, made.err).toBe(0);
    const { id } = JSON.parse(made.out) as { id: string };
    expect((await anvil(["volume", "list"])).out).toContain(name);
    expect((await anvil(["volume", "delete", id])).code).toBe(0);
    expect((await anvil(["volume", "list"])).out).not.toContain(name);
  });

  it("exits non-zero with the API's message when refused", async () => {
    const missing = await anvil(["instance", "get", "no-such-server"]);
    expect(missing.code).toBe(4);
    expect(missing.err).toMatch(/no instance named no-such-server/);
    const tooBig = await anvil(["volume", "create", "huge", "--size", "0"]);
    expect(tooBig.code).toBe(1);
    expect(tooBig.err).toMatch(/^Error: Invalid input: sizeGiB/);
  });

  it("deletes the instance with --wait", async () => {
    const r = await anvil(["instance", "delete", instanceName, "--wait"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/delete of .*: done/);
  });
});
