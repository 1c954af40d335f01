// Anvil's process entry: starts (or connects to) Postgres, migrates, seeds demo data on first start,
// optionally starts the dev lab, then serves Next.js and WebSocket upgrades (serial console) on one port.
//   npm run dev              development (hot reload), embedded Postgres unless DATABASE_URL is set
//   npm run build && npm start   production
import path from "node:path";
import next from "next";
import pg from "pg";
import { closeDb, getDb } from "./db/client";
import { type EmbeddedDb, startEmbeddedPostgres } from "./db/embedded";
import { runMigrations } from "./db/migrate";
import { DEMO_PASSWORD, demoUsers, seedIfEmpty } from "./db/seed";
import { createFrontDoor } from "./server/front-door";
import { handleOpsRequest, instrumentHttp } from "./server/lib/ops-http";
import { dataDir } from "./server/lib/secrets";
import { handleUpgrade, startBackground, stopBackground } from "./server/runtime";

const dev = process.argv.includes("--dev");
process.env.NEXT_TELEMETRY_DISABLED = "1";
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";

function fail(message: string): never {
  console.error(`\nAnvil could not start: ${message}\n`);
  process.exit(1);
}

async function checkDatabase(url: string) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("select 1");
  } catch (e) {
    let where = "the database";
    try {
      const u = new URL(url);
      where = `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      /* keep generic */
    }
    fail(`cannot reach Postgres at ${where} (${(e as Error).message}). Check DATABASE_URL, or unset it to use the embedded Postgres.`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function main() {
  const t0 = Date.now();
  let embedded: EmbeddedDb | undefined;
  if (process.env.DATABASE_URL) {
    await checkDatabase(process.env.DATABASE_URL);
  } else {
    try {
      embedded = await startEmbeddedPostgres({ dataDir: dataDir(), log: (m) => console.log(m) });
    } catch (e) {
      fail(`the embedded Postgres did not start (${(e as Error).message}). Data folder: ${path.join(dataDir(), "pg")}`);
    }
    process.env.DATABASE_URL = embedded.url;
  }
  process.env.ANVIL_URL ??= `http://localhost:${port}`;
  // ANVIL_OIDC_DEV=1 in development: the lab OpenID Connect provider (sim/oidc.ts, a dev dependency, hence imported
  // only here) in this process, and single sign-on pointed at it before the first sign-in builds the auth instance.
  if (dev && process.env.ANVIL_OIDC_DEV === "1" && !process.env.ANVIL_OIDC_ISSUER) {
    const { startLabIdp } = await import("./sim/oidc");
    const { idp, env } = await startLabIdp({ anvilUrl: process.env.ANVIL_URL });
    Object.assign(process.env, env);
    console.log(`  Lab IdP for "Sign in with Lab IdP" at ${idp.issuer}: logins sso.admin, sso.noc, sso.acme, sso.dev, sso.nobody (any password)`);
  }

  try {
    await runMigrations(process.env.DATABASE_URL!);
  } catch (e) {
    fail(`database migration failed: ${(e as Error).message}`);
  }
  const seeded = await seedIfEmpty(getDb());

  const app = next({ dev, hostname: "localhost", port, dir: process.cwd() });
  try {
    await app.prepare();
  } catch (e) {
    fail(
      dev
        ? `Next.js failed to prepare: ${(e as Error).message}`
        : `no production build found or it is broken (${(e as Error).message}). Run "npm run build" first.`,
    );
  }
  const handle = app.getRequestHandler();
  const nextUpgrade = dev ? app.getUpgradeHandler() : undefined;

  // Every request passes the front door first: client address (trusted proxies), security headers, body limits.
  const server = createFrontDoor({
    dev,
    // /healthz, /readyz and /metrics are answered before Next (server/lib/ops-http.ts).
    handle: (req, res) => handleOpsRequest(req, res) || handle(req, res),
    upgrade(req, socket, head) {
      if (handleUpgrade(req, socket, head)) return;
      if (nextUpgrade) void nextUpgrade(req, socket, head);
      else socket.destroy();
    },
  });
  instrumentHttp(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new Error(`port ${port} on ${host} is already in use; set PORT to another one`) : e),
    );
    server.listen(port, host, resolve);
  }).catch((e: Error) => fail(e.message));

  let background: string[] = [];
  try {
    // The lab (sim/, a dev dependency) composes the product: imported only when ANVIL_LAB asks for it.
    const labOn = !["off", "0"].includes(process.env.ANVIL_LAB ?? (dev ? "16" : "off"));
    const lab = labOn ? (await import("./sim/dev-lab")).labFromEnv({ dev }) : undefined;
    background = await startBackground({ dev, lab });
  } catch (e) {
    fail(`background services did not start: ${(e as Error).message}`);
  }

  const url = process.env.ANVIL_URL;
  console.log(`\n  Anvil is running at ${url}  (${dev ? "development" : "production"}, ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`  Database: ${embedded ? `embedded Postgres, data in ${path.join(dataDir(), "pg")}` : "DATABASE_URL"}${seeded ? " (demo data seeded)" : ""}`);
  for (const line of background) console.log(`  ${line}`);
  console.log(`\n  Demo logins (password for all: ${DEMO_PASSWORD}):`);
  for (const u of demoUsers) console.log(`    ${u.email.padEnd(24)} ${u.label}`);
  console.log("");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Anvil…`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
    await stopBackground();
    await closeDb();
    await embedded?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((e) => fail((e as Error).stack ?? String(e)));
