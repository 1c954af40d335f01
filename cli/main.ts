// `anvil`: the command-line client of Anvil's REST API v1, built on the client generated from the OpenAPI document
// (openapi-fetch over server/rest/client/schema.d.ts — no route is written by hand here). Signs in with an API
// token; lists, creates and deletes instances and volumes (`--wait` follows the operation with its steps); attaches
// the terminal to an instance's serial console (`~.` at the start of a line leaves). Output is a table, or JSON with
// --json. Exits non-zero with the API's own message when a call is refused.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import createClient from "openapi-fetch";
import WebSocket from "ws";
import type { paths } from "../server/rest/client/schema";

interface Config {
  url?: string;
  token?: string;
  tenant?: string;
}

const CONFIG_FILE = path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), ".config"), "anvil", "config.json");

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function readConfig(): Config {
  try {
    return JSON.parse(fs.readFileSync(CONFIG_FILE, "utf8")) as Config;
  } catch {
    return {};
  }
}

function settings(flags: { url?: string; token?: string; tenant?: string }): Required<Config> {
  const c = readConfig();
  const url = flags.url ?? process.env.ANVIL_URL ?? c.url;
  const token = flags.token ?? process.env.ANVIL_TOKEN ?? c.token;
  const tenant = flags.tenant ?? process.env.ANVIL_TENANT ?? c.tenant ?? "";
  if (!url || !token)
    throw new CliError("Not signed in: run `anvil login --url <Anvil URL> --token <API token> [--tenant <slug>]` (or set ANVIL_URL and ANVIL_TOKEN)", 2);
  return { url: url.replace(/\/+$/, ""), token, tenant };
}

type Out = { json: boolean; write(s: string): void };

function table(out: Out, rows: Record<string, unknown>[], cols: string[]) {
  if (out.json) return out.write(`${JSON.stringify(rows, null, 2)}\n`);
  if (!rows.length) return out.write("(none)\n");
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    `${vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()}\n`;
  out.write(line(cols.map((c) => c.toUpperCase())));
  for (const r of rows) out.write(line(cols.map((c) => cell(r[c]))));
}

function one(out: Out, row: Record<string, unknown>, fields: string[]) {
  if (out.json) return out.write(`${JSON.stringify(row, null, 2)}\n`);
  const w = Math.max(...fields.map((f) => f.length));
  for (const f of fields)
    out.write(`${f.padEnd(w)}  ${row[f] === null || row[f] === undefined ? "-" : typeof row[f] === "object" ? JSON.stringify(row[f]) : String(row[f])}\n`);
}

/** The API refused: its problem detail is the message, its status picks the exit code. */
function fail(error: unknown, response: Response): never {
  const p = error as { detail?: string; fieldErrors?: Record<string, string[]> } | undefined;
  const detail = p?.detail ?? `HTTP ${response.status}`;
  throw new CliError(`Error: ${detail}`, response.status === 401 || response.status === 403 ? 3 : response.status === 404 ? 4 : 1);
}

function api(cfg: Required<Config>) {
  return createClient<paths>({ baseUrl: `${cfg.url}/api/v1`, headers: { authorization: `Bearer ${cfg.token}` } });
}

/** `anvil <noun> list`: the first 200 of a tenant's resources as a table of `cols`. */
async function listTenantItems(
  out: Out,
  client: ReturnType<typeof api>,
  path: "/tenants/{tenant}/instances" | "/tenants/{tenant}/volumes",
  tenant: string,
  cols: string[],
): Promise<number> {
  const { data, error, response } = await client.GET(path, { params: { path: { tenant }, query: { limit: 200 } } });
  if (error || !data) fail(error, response);
  table(out, data.items as Record<string, unknown>[], cols);
  return 0;
}

function needTenant(cfg: Required<Config>): string {
  if (!cfg.tenant) throw new CliError("Which tenant? Pass --tenant <slug> (or set ANVIL_TENANT, or `anvil login --tenant`)", 2);
  return cfg.tenant;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows an operation to its end, printing each step as it changes (to stderr, so --json output stays clean). */
async function waitFor(cfg: Required<Config>, operationId: string, err: (s: string) => void): Promise<{ status: string; error: string | null }> {
  const client = api(cfg);
  const shown = new Map<string, string>();
  for (;;) {
    const { data, error, response } = await client.GET("/tenants/{tenant}/operations/{id}", { params: { path: { tenant: needTenant(cfg), id: operationId } } });
    if (error || !data) fail(error, response);
    for (const s of data.steps) {
      if (shown.get(s.name) === s.status) continue;
      shown.set(s.name, s.status);
      if (s.status !== "pending") err(`  [${s.status}] ${s.name}${s.error ? `: ${s.error}` : ""}\n`);
    }
    if (data.status === "succeeded" || data.status === "failed" || data.status === "cancelled") return { status: data.status, error: data.error };
    await sleep(500);
  }
}

async function resolveInstance(cfg: Required<Config>, ref: string): Promise<string> {
  if (/^[0-9a-f-]{36}$/i.test(ref)) return ref;
  const { data, error, response } = await api(cfg).GET("/tenants/{tenant}/instances", {
    params: { path: { tenant: needTenant(cfg) }, query: { q: ref, limit: 200 } },
  });
  if (error || !data) fail(error, response);
  const hit = data.items.find((i) => i.name === ref);
  if (!hit) throw new CliError(`Error: no instance named ${ref}`, 4);
  return hit.id;
}

async function lookup(cfg: Required<Config>, kind: "pool" | "image" | "subnet", ref: string): Promise<string> {
  if (/^[0-9a-f-]{36}$/i.test(ref)) return ref;
  const client = api(cfg);
  const tenant = needTenant(cfg);
  let found: { id: string; name: string }[] = [];
  if (kind === "pool") {
    const r = await client.GET("/tenants/{tenant}/flavors", { params: { path: { tenant } } });
    if (r.error || !r.data) fail(r.error, r.response);
    found = r.data.map((f) => ({ id: f.poolId, name: f.name }));
  } else if (kind === "image") {
    const r = await client.GET("/tenants/{tenant}/images", { params: { path: { tenant }, query: { limit: 200 } } });
    if (r.error || !r.data) fail(r.error, r.response);
    found = r.data.items;
  } else {
    const r = await client.GET("/tenants/{tenant}/subnets", { params: { path: { tenant }, query: { limit: 200 } } });
    if (r.error || !r.data) fail(r.error, r.response);
    found = r.data.items;
  }
  const hit = found.find((x) => x.name === ref);
  if (!hit) throw new CliError(`Error: no ${kind} named ${ref} (have: ${found.map((x) => x.name).join(", ") || "none"})`, 4);
  return hit.id;
}

const USAGE = `anvil — Anvil from the command line (REST API v1)

  anvil login --url URL --token TOKEN [--tenant SLUG]   save where and as whom (~/.config/anvil/config.json, 0600)
  anvil instance list                                   instances of the tenant
  anvil instance get ID|NAME
  anvil instance create NAME --pool P --image I --subnet S [--size GiB] [--user-data FILE] [--wait]
  anvil instance delete ID|NAME [--wait]
  anvil instance start|stop|reboot ID|NAME [--force] [--wait]
  anvil volume list
  anvil volume create NAME --size GiB [--multi-attach]
  anvil volume delete ID
  anvil console ID|NAME                                 attach to the serial console (~. leaves)

Flags: --json (machine output) --tenant SLUG --url URL --token TOKEN. Environment: ANVIL_URL, ANVIL_TOKEN, ANVIL_TENANT.
Exit codes: 0 ok, 1 refused or failed, 2 usage, 3 not allowed / not signed in, 4 not found.
`;

export interface Io {
  out(s: string): void;
  err(s: string): void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(on: boolean): void };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values: f, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      tenant: { type: "string" },
      json: { type: "boolean", default: false },
      wait: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      pool: { type: "string" },
      image: { type: "string" },
      subnet: { type: "string" },
      size: { type: "string" },
      "user-data": { type: "string" },
      "multi-attach": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const out: Out = { json: f.json!, write: io.out };
  const [noun, verb, arg] = positionals;
  if (f.help || !noun) {
    io.out(USAGE);
    return noun || f.help ? 0 : 2;
  }
  if (noun === "login") {
    if (!f.url || !f.token) throw new CliError("anvil login needs --url and --token", 2);
    const cfg = { url: f.url.replace(/\/+$/, ""), token: f.token, tenant: f.tenant ?? "" };
    // Check the token works before saving it.
    const r = await api(cfg).GET("/tenants/{tenant}/instances", { params: { path: { tenant: cfg.tenant || "-" }, query: { limit: 1 } } });
    if (r.response.status === 401) fail(r.error, r.response);
    fs.mkdirSync(path.dirname(CONFIG_FILE), { recursive: true, mode: 0o700 });
    fs.writeFileSync(CONFIG_FILE, JSON.stringify(cfg, null, 2), { mode: 0o600 });
    io.out(`Signed in to ${cfg.url}${cfg.tenant ? ` (tenant ${cfg.tenant})` : ""}; saved in ${CONFIG_FILE}\n`);
    return 0;
  }
  if (!["instance", "instances", "volume", "volumes", "console"].includes(noun)) throw new CliError(`Unknown command: ${positionals.join(" ")}\n\n${USAGE}`, 2);
  const cfg = settings(f);
  const client = api(cfg);

  if (noun === "instance" || noun === "instances") {
    const tenant = needTenant(cfg);
    if (verb === "list" || verb === "ls")
      return listTenantItems(out, client, "/tenants/{tenant}/instances", tenant, ["id", "name", "state", "address", "poolName", "createdAt"]);
    if (verb === "get" || verb === "show") {
      if (!arg) throw new CliError("anvil instance get ID|NAME", 2);
      const id = await resolveInstance(cfg, arg);
      const { data, error, response } = await client.GET("/tenants/{tenant}/instances/{id}", { params: { path: { tenant, id } } });
      if (error || !data) fail(error, response);
      one(out, data as Record<string, unknown>, [
        "id",
        "name",
        "state",
        "stateReason",
        "address",
        "mac",
        "poolName",
        "imageId",
        "systemVolumeSizeGiB",
        "createdAt",
      ]);
      return 0;
    }
    if (verb === "create") {
      if (!arg || !f.pool || !f.image || !f.subnet)
        throw new CliError("anvil instance create NAME --pool P --image I --subnet S [--size GiB] [--user-data FILE] [--wait]", 2);
      const body = {
        name: arg,
        poolId: await lookup(cfg, "pool", f.pool),
        imageId: await lookup(cfg, "image", f.image),
        subnetId: await lookup(cfg, "subnet", f.subnet),
        ...(f.size ? { systemVolumeSizeGiB: Number(f.size) } : {}),
        ...(f["user-data"] ? { userData: fs.readFileSync(f["user-data"], "utf8") } : {}),
      };
      const { data, error, response } = await client.POST("/tenants/{tenant}/instances", {
        params: { path: { tenant }, header: { "Idempotency-Key": crypto.randomUUID() } },
        body: body as never,
      });
      if (error || !data) fail(error, response);
      io.err(`Creating instance ${arg} (${data.id})…\n`);
      if (f.wait) {
        const end = await waitFor(cfg, data.operationId, io.err);
        if (end.status !== "succeeded") throw new CliError(`Error: creating ${arg} ${end.status}${end.error ? `: ${end.error}` : ""}`, 1);
        const got = await client.GET("/tenants/{tenant}/instances/{id}", { params: { path: { tenant, id: data.id! } } });
        if (got.error || !got.data) fail(got.error, got.response);
        one(out, got.data as Record<string, unknown>, ["id", "name", "state", "address", "mac"]);
      } else one(out, data as Record<string, unknown>, ["id", "operationId", "operation"]);
      return 0;
    }
    if (verb === "delete" || verb === "rm" || verb === "start" || verb === "stop" || verb === "reboot") {
      if (!arg) throw new CliError(`anvil instance ${verb} ID|NAME`, 2);
      const id = await resolveInstance(cfg, arg);
      const params = { params: { path: { tenant, id } } };
      const r =
        verb === "delete" || verb === "rm"
          ? await client.DELETE("/tenants/{tenant}/instances/{id}", params)
          : verb === "start"
            ? await client.POST("/tenants/{tenant}/instances/{id}/start", params)
            : await client.POST(`/tenants/{tenant}/instances/{id}/${verb}`, { ...params, body: { force: f.force } } as never);
      if (r.error || !r.data) fail(r.error, r.response);
      const started = r.data as { operationId: string };
      if (f.wait) {
        const end = await waitFor(cfg, started.operationId, io.err);
        if (end.status !== "succeeded") throw new CliError(`Error: ${verb} of ${arg} ${end.status}${end.error ? `: ${end.error}` : ""}`, 1);
        io.out(out.json ? `${JSON.stringify({ id, status: end.status })}\n` : `${verb === "rm" ? "delete" : verb} of ${arg}: done\n`);
      } else io.out(out.json ? `${JSON.stringify(started)}\n` : `${verb} of ${arg} started (operation ${started.operationId})\n`);
      return 0;
    }
  }

  if (noun === "volume" || noun === "volumes") {
    const tenant = needTenant(cfg);
    if (verb === "list" || verb === "ls")
      return listTenantItems(out, client, "/tenants/{tenant}/volumes", tenant, ["id", "name", "sizeGiB", "kind", "state", "multiAttach"]);
    if (verb === "create") {
      if (!arg || !f.size) throw new CliError("anvil volume create NAME --size GiB [--multi-attach]", 2);
      const { data, error, response } = await client.POST("/tenants/{tenant}/volumes", {
        params: { path: { tenant }, header: { "Idempotency-Key": crypto.randomUUID() } },
        body: { name: arg, sizeGiB: Number(f.size), multiAttach: f["multi-attach"] } as never,
      });
      if (error || !data) fail(error, response);
      one(out, data as Record<string, unknown>, ["id", "name", "sizeGiB", "state"]);
      return 0;
    }
    if (verb === "delete" || verb === "rm") {
      if (!arg) throw new CliError("anvil volume delete ID", 2);
      const { error, response } = await client.DELETE("/tenants/{tenant}/volumes/{id}", { params: { path: { tenant, id: arg } } });
      if (error) fail(error, response);
      io.out(out.json ? `${JSON.stringify({ id: arg, deleted: true })}\n` : `deleted volume ${arg}\n`);
      return 0;
    }
  }

  if (noun === "console") {
    const ref = verb;
    if (!ref) throw new CliError("anvil console ID|NAME", 2);
    const id = await resolveInstance(cfg, ref);
    const { data, error, response } = await client.GET("/tenants/{tenant}/instances/{id}/console", { params: { path: { tenant: needTenant(cfg), id } } });
    if (error || !data) fail(error, response);
    return attachConsole(data.url, cfg.token, io);
  }
  throw new CliError(`Unknown command: ${positionals.join(" ")}\n\n${USAGE}`, 2);
}

/** Terminal ⇄ console WebSocket. "~." at the start of a line leaves (as ssh); "~~" sends one "~". */
function attachConsole(url: string, token: string, io: Io): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    let atLineStart = true;
    let tilde = false;
    const raw = io.stdin.isTTY && io.stdin.setRawMode;
    const restore = () => {
      if (raw) io.stdin.setRawMode!(false);
      io.stdin.pause();
    };
    ws.on("open", () => {
      if (raw) io.stdin.setRawMode!(true);
      io.err("[connected; type ~. at the start of a line to leave]\r\n");
      io.stdin.on("data", (chunk: Buffer) => {
        const send: number[] = [];
        for (const b of chunk) {
          if (tilde) {
            tilde = false;
            if (b === 0x2e) {
              ws.close(1000);
              return;
            }
            if (b !== 0x7e) send.push(0x7e);
            send.push(b);
          } else if (atLineStart && b === 0x7e) {
            tilde = true;
            continue;
          } else send.push(b);
          atLineStart = b === 0x0d || b === 0x0a;
        }
        if (send.length && ws.readyState === WebSocket.OPEN) ws.send(Buffer.from(send), { binary: true });
      });
      io.stdin.resume();
    });
    ws.on("message", (d, isBinary) => {
      if (isBinary) io.out((d as Buffer).toString("utf8"));
      else {
        const m = JSON.parse(String(d)) as { type: string; state?: string; reason?: string };
        if (m.type === "status" && m.state !== "connected" && m.reason) io.err(`\r\n[console ${m.state}: ${m.reason}]\r\n`);
        if (m.type === "error" && m.reason) io.err(`\r\n[console: ${m.reason}]\r\n`);
      }
    });
    ws.on("unexpected-response", (_q, res) => {
      restore();
      io.err(`Error: the console refused the connection (HTTP ${res.statusCode})\n`);
      resolve(1);
    });
    ws.on("error", (e) => {
      restore();
      io.err(`Error: ${e.message}\n`);
      resolve(1);
    });
    ws.on("close", (code, reason) => {
      restore();
      if (code === 1000 || code === 1005) {
        io.err("\r\n[disconnected]\r\n");
        resolve(0);
      } else {
        io.err(`\r\n[console closed: ${reason.toString() || code}]\r\n`);
        resolve(code === 4401 || code === 4403 ? 3 : code === 4404 ? 4 : 1);
      }
    });
  });
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), stdin: process.stdin };
  try {
    process.exitCode = await run(argv, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`${e.message}\n`);
      process.exitCode = e.exitCode;
    } else if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`${(e as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (e instanceof TypeError && /fetch failed/.test(e.message)) {
      const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
      io.err(`Error: cannot reach Anvil (${cause?.code ?? cause?.message ?? e.message}); check --url / ANVIL_URL\n`);
      process.exitCode = 1;
    } else {
      io.err(`Error: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}
