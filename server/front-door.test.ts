// The front door (server/front-door.ts) in a real HTTP server in front of the real route handlers (test/http-app.ts):
// body limits on the bytes actually streamed (chunked bodies included), tRPC batch size, security headers on a page,
// an API route and the console page, and an image upload the client aborts (no 500, no error log, no file left).
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { StorageService } from "@/sim/storage";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { type AppServer, startAppServer } from "@/test/http-app";
import { TRPC_MAX_BATCH } from "@/domain/limits";
import { logger } from "./lib/log";
import { getStorage } from "./storage/backend";
import { startTestStorage } from "@/test/storage";

const MiB = 1024 * 1024;
const origin = "http://localhost:3000";

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** Body bytes the client managed to hand to its socket before the answer came. */
  sent: number;
}

/**
 * POSTs `total` bytes with Transfer-Encoding: chunked (no Content-Length), `chunk` bytes at a time, and stops writing
 * as soon as an answer arrives, then drops the connection.
 */
function postChunked(
  app: AppServer,
  target: string,
  total: number,
  o: { chunk?: number; headers?: Record<string, string>; fill?: Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: app.port, path: target, method: "POST", headers: { "transfer-encoding": "chunked", ...o.headers } });
    let sent = 0;
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        body += d;
      });
      const done = () => {
        req.destroy(); // the body was cut off: this connection is of no further use
        resolve({ status: res.statusCode!, body, headers: res.headers, sent });
      };
      res.on("end", done);
      res.on("error", done);
    });
    req.on("error", (e) => {
      if (!answered) reject(new Error(`no answer after ${sent} bytes: ${e.message}`));
    });
    const piece = o.fill ?? Buffer.alloc(o.chunk ?? 64 * 1024, 0x61);
    const pump = () => {
      while (!answered && sent < total) {
        const n = Math.min(piece.length, total - sent);
        sent += n;
        if (!req.write(piece.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** Sends a small text body in chunked pieces (so no Content-Length), as a streaming client would. */
function postChunkedText(app: AppServer, target: string, text: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: app.port, path: target, method: "POST", headers: { "transfer-encoding": "chunked", ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers, sent: text.length }));
      },
    );
    req.on("error", reject);
    for (let i = 0; i < text.length; i += 7) req.write(text.slice(i, i + 7));
    req.end();
  });
}

function get(app: AppServer, target: string, headers: Record<string, string> = {}) {
  return fetch(`${app.url}${target}`, { headers });
}

let fx: Fixtures;
let app: AppServer;
const settled: { method: string; path: string; status: number }[] = [];

beforeAll(async () => {
  fx = await makeFixtures(useTestDb());
  app = await startAppServer();
  app.events.on("settled", (s) => settled.push(s));
});
afterAll(async () => {
  await app.close();
});

describe("body limits", () => {
  it("answers a 100 MB chunked body to sign-out with 413 before the route runs, without reading it all", async () => {
    const total = 100 * MiB;
    const a = await postChunked(app, "/api/auth/sign-out", total, { headers: { "content-type": "application/json", origin } });
    expect(a.status).toBe(413);
    expect(a.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(a.body).error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", message: expect.stringContaining(`${MiB} bytes`) });
    expect(a.sent).toBeLessThan(total); // cut off, not read to the end
    expect(settled.filter((s) => s.path === "/api/auth/sign-out")).toEqual([]); // better-auth never saw it
    // The server is fine and serves the next request.
    expect((await get(app, "/api/auth/get-session")).status).toBe(200);
  });

  it("refuses a chunked tRPC body over the limit, and a declared one without reading it", async () => {
    const a = await postChunked(app, "/api/trpc/session.me", 3 * MiB, { headers: { "content-type": "application/json" } });
    expect(a.status).toBe(413);
    expect(JSON.parse(a.body).error.code).toBe("PAYLOAD_TOO_LARGE");
    const declared = await fetch(`${app.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: "x".repeat(MiB + 1),
    });
    expect(declared.status).toBe(413);
    expect((await declared.json()).error.message).toMatch(/is 1048577 bytes; the limit for this address is 1048576 bytes/);
  });

  it("passes a chunked body within the limit to the route whole", async () => {
    const a = await postChunkedText(app, "/api/auth/sign-in/email", JSON.stringify({ email: `${uniq("nobody")}@test.local`, password: "not the password" }), {
      "content-type": "application/json",
      origin,
    });
    expect(a.status).toBe(401); // better-auth parsed the body and checked the credentials
  });
});

describe("tRPC batches", () => {
  it(`runs a batch of ${TRPC_MAX_BATCH} and refuses one more with a 400 that says why`, async () => {
    const batch = (n: number) => `/api/trpc/${Array(n).fill("session.me").join(",")}?batch=1&input=${encodeURIComponent("{}")}`;
    const ok = await get(app, batch(TRPC_MAX_BATCH));
    expect(ok.status).toBe(200);
    expect((await ok.json()) as unknown[]).toHaveLength(TRPC_MAX_BATCH);
    const tooMany = await get(app, batch(TRPC_MAX_BATCH + 1));
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json()).error.message).toBe(
      `A batch may hold at most ${TRPC_MAX_BATCH} procedure calls; this one has ${TRPC_MAX_BATCH + 1}. Split it into smaller batches.`,
    );
  });
});

describe("security headers", () => {
  const nodeId = "0b0c1d2e-3f40-4152-8364-758697a8b9ca";

  function expectHardened(res: Response, host: string) {
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toMatch(new RegExp(`connect-src 'self' ws://${host.replace(/\./g, "\\.")} wss://${host.replace(/\./g, "\\.")}(;|$)`));
    expect(csp).not.toContain("unsafe-eval"); // production
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  }

  it("are on a page, an API route and the console page; no HSTS over plain HTTP", async () => {
    const host = `127.0.0.1:${app.port}`;
    for (const target of ["/login", "/api/auth/get-session", `/ops/nodes/${nodeId}/console`, "/t/acme/instances/x/console", "/api/trpc/session.me"]) {
      const res = await get(app, target);
      expect(res.status, target).toBeLessThan(500);
      expectHardened(res, host);
      expect(res.headers.get("strict-transport-security"), target).toBeNull();
    }
  });

  it("send HSTS when the public URL is https, or a trusted proxy says the client used https", async () => {
    const tlsApp = await startAppServer({ publicUrl: "https://anvil.example.com" });
    const proxied = await startAppServer({ trustedProxies: "127.0.0.1/32" });
    const untrusted = await startAppServer({ trustedProxies: "10.0.0.0/8" });
    try {
      expect((await get(tlsApp, `/ops/nodes/${nodeId}/console`)).headers.get("strict-transport-security")).toBe("max-age=31536000");
      expect((await get(proxied, "/login", { "x-forwarded-proto": "https" })).headers.get("strict-transport-security")).toBe("max-age=31536000");
      expect((await get(proxied, "/login", { "x-forwarded-proto": "http" })).headers.get("strict-transport-security")).toBeNull();
      // Anyone can write X-Forwarded-Proto: from a peer that is not a trusted proxy it means nothing.
      expect((await get(untrusted, "/login", { "x-forwarded-proto": "https" })).headers.get("strict-transport-security")).toBeNull();
    } finally {
      await Promise.all([tlsApp.close(), proxied.close(), untrusted.close()]);
    }
  });
});

describe("image upload through the front door", () => {
  let svc: StorageService;
  let token: string;
  let tmp: string;
  const savedTmp = process.env.TMPDIR;

  beforeAll(async () => {
    svc = await startTestStorage();
    token = (
      await callerAs(fx, "operatorAdmin").apiTokens.create({ name: uniq("upload"), expiresInDays: 1, scope: { kind: "platform", role: "operator-admin" } })
    ).token;
    // Upload temp files go here (os.tmpdir() reads TMPDIR), so "nothing left behind" is checked on this test's own folder.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-fd-test-"));
    process.env.TMPDIR = tmp;
  });
  afterAll(async () => {
    process.env.TMPDIR = savedTmp;
    fs.rmSync(tmp, { recursive: true, force: true });
    await getStorage().close();
    await svc.close();
  });
  afterEach(() => {
    delete process.env.ANVIL_IMAGE_MAX_BYTES;
    vi.restoreAllMocks();
  });

  const query = () => `/api/images/upload?${new URLSearchParams({ name: uniq("img"), os: "debian", version: "12", format: "raw" })}`;
  const leftovers = () => fs.readdirSync(tmp).filter((d) => d.startsWith("anvil-image-"));
  const nextSettled = () => new Promise<{ status: number }>((resolve) => app.events.once("settled", resolve));

  it("keeps its own, larger limit: a chunked image over the general limit is accepted, one over its own is refused", async () => {
    process.env.ANVIL_IMAGE_MAX_BYTES = String(3 * MiB);
    const ok = await postChunked(app, query(), 2 * MiB, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status, ok.body).toBe(201);
    expect(JSON.parse(ok.body)).toMatchObject({ format: "raw", state: "available" });

    const errors = vi.spyOn(logger, "error");
    const done = nextSettled();
    const big = await postChunked(app, query(), 8 * MiB, { headers: { authorization: `Bearer ${token}` } });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", message: expect.stringContaining(`${3 * MiB} bytes`) });
    // The route, cut off mid-file, ends quietly: no 500, nothing logged as an error, no partial file.
    expect((await done).status).toBe(400);
    expect(errors).not.toHaveBeenCalled();
    expect(leftovers()).toEqual([]);
  });

  it("a client that aborts mid-way gets no 500 and no error log, and the partial file is removed", async () => {
    const errors = vi.spyOn(logger, "error");
    const done = nextSettled();
    const req = http.request({
      host: "127.0.0.1",
      port: app.port,
      path: query(),
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-length": String(4 * MiB) },
    });
    req.on("error", () => {});
    req.write(Buffer.alloc(256 * 1024, 1));
    // Wait until the server has started writing the temp file, then walk away.
    while (!leftovers().some((d) => fs.existsSync(path.join(tmp, d, "upload.img")))) await new Promise((r) => setTimeout(r, 20));
    req.destroy();
    const outcome = await done;
    expect(outcome.status).toBe(400);
    expect(errors).not.toHaveBeenCalled();
    expect(leftovers()).toEqual([]);
  });
});
