// The lab's admin API (plain JSON over HTTP on its own port, not Redfish): list BMCs and inject faults,
// SEL entries, console drops and DPU agent URLs, so tests and the dev lab can make hardware misbehave.

import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { type Dialect, DIALECTS, DialectInput, TOPOLOGY_KEYS } from "./dialect";
import type { SimContext } from "./handler";
import { type Bmc, enrollAddress, type Faults, firmwareOf, SIM_REGISTRY } from "./model";
import { managerLogEntryJson, selEntryJson } from "./resources";

/** LogEntry.SensorType values (DSP0268 LogEntry v1_16), the ones a SEL entry may carry. */
export const SENSOR_TYPES = [
  "Platform Security Violation Attempt",
  "Temperature",
  "Voltage",
  "Current",
  "Fan",
  "Physical Chassis Security",
  "Processor",
  "Power Supply / Converter",
  "PowerUnit",
  "CoolingDevice",
  "Other Units-based Sensor",
  "Memory",
  "Drive Slot/Bay",
  "POST Memory Resize",
  "System Firmware Progress",
  "Event Logging Disabled",
  "System Event",
  "Critical Interrupt",
  "Button/Switch",
  "Module/Board",
  "Microcontroller/Coprocessor",
  "Add-in Card",
  "Chassis",
  "ChipSet",
  "Other FRU",
  "Cable/Interconnect",
  "Terminator",
  "SystemBoot/Restart",
  "Boot Error",
  "BaseOSBoot/InstallationStatus",
  "OS Stop/Shutdown",
  "Slot/Connector",
  "System ACPI PowerState",
  "Watchdog",
  "Platform Alert",
  "Entity Presence",
  "Monitor ASIC/IC",
  "LAN",
  "Management Subsystem Health",
  "Battery",
  "Session Audit",
  "Version Change",
  "FRUState",
  "OEM",
] as const;

const health = z.enum(["OK", "Warning", "Critical"]);

export const FaultsInput = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    timeout: z.boolean().optional(),
    stuckPower: z.boolean().optional(),
    unreachable: z.boolean().optional(),
    health: health.optional(),
  })
  .strict();

export const SelInput = z
  .object({
    Severity: health,
    Message: z.string().min(1).max(512),
    SensorType: z.enum(SENSOR_TYPES),
    MessageId: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]*\.\d+\.\d+\.[A-Za-z0-9]+$/, "MessageId must look like Registry.Major.Minor.Id")
      .optional(),
    /** "system" (default): the system's hardware log; "manager": the Manager's Event log (dialect logs "dmtf") */
    Log: z.enum(["system", "manager"]).optional(),
  })
  .strict();

const AgentUrlInput = z.object({ url: z.url({ protocol: /^https?$/ }).nullable() }).strict();
const BootableInput = z.object({ bootable: z.boolean() }).strict();

export interface AdminDeps {
  ctx: SimContext;
  bmcs: Bmc[];
  byId: Map<string, Bmc>;
  /** cut every connection of a BMC that just became unreachable */
  cutConnections(bmc: Bmc): void;
  username: string;
  password: string;
}

class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
    public issues?: unknown,
  ) {
    super(message);
  }
}

export const ADMIN_PAGE_MAX = 1000;

function summary(deps: AdminDeps, b: Bmc) {
  const e = deps.ctx.engine;
  return {
    id: b.id,
    kind: b.kind,
    url: b.url,
    /** what to enroll: the base URL, or the system's URL when the BMC serves several machines */
    address: enrollAddress(b),
    dialect: b.dialect.name,
    systemId: b.ids.system,
    ...(b.kind === "dpu" ? { hostId: b.peer?.id } : b.peer ? { dpuId: b.peer.id } : {}),
    powerState: b.power,
    health: e.healthOf(b),
    bootProgress: e.bootProgress(b),
    faults: b.faults ?? null,
  };
}

function detail(deps: AdminDeps, b: Bmc) {
  return {
    ...summary(deps, b),
    username: deps.username,
    bootable: b.kind === "dpu" ? true : b.bootable,
    bootOverride: { enabled: b.bootEnabled, target: b.bootTarget, mode: b.bootMode },
    /** the source the running machine booted from ("Cd": the virtual media), null while off */
    bootedFrom: b.power === "On" ? b.bootFrom : null,
    dedicatedPower: b.dedicatedPower,
    agentUrl: b.kind === "dpu" ? b.agentUrl : undefined,
    consoleClients: deps.ctx.consoles.clientCount(b),
    virtualMedia: b.media ?? null,
    firmware: firmwareOf(b),
    selEntries: b.sel?.length ?? 0,
    dialectFlags: b.dialect,
    /** the other machines served by the same BMC */
    sharesBmcWith: b.endpoint.members.filter((m) => m !== b).map((m) => m.id),
  };
}

/** A new dialect for a BMC: behaviour flags may change at run time, topology flags (systemsPerBmc, dpu, ids, tls) not. */
function nextDialect(current: Dialect, body: unknown): Dialect {
  const input = parse(DialectInput, body);
  const { preset, ...overrides } = input as { preset?: keyof typeof DIALECTS } & Partial<Dialect>;
  const base: Dialect = preset ? DIALECTS[preset] : current;
  const next: Dialect = { ...base, ...overrides };
  for (const k of TOPOLOGY_KEYS) {
    if (k in overrides && overrides[k] !== current[k])
      throw new HttpError(409, `${k} is fixed when the simulator starts (this BMC has ${String(current[k])}); start it with that dialect instead`);
    (next as unknown as Record<string, unknown>)[k] = current[k];
  }
  next.name = Object.keys(overrides).length ? `${base.name}+${Object.keys(overrides).sort().join(",")}` : base.name;
  return next;
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new HttpError(413, "body too large (max 64 KiB)");
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw new HttpError(400, "a JSON body is required");
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
}

function parse<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new HttpError(400, `invalid body: ${issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")}`, issues);
  }
  return r.data;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) }).end(text);
}

function applyFaults(deps: AdminDeps, b: Bmc, next: Faults | undefined): void {
  const e = deps.ctx.engine;
  const before = e.healthOf(b);
  const wasUnreachable = b.faults?.unreachable === true;
  b.faults = next;
  if (!next) b.health = "OK"; // clearing faults is the lab "repairing" the machine
  const after = e.healthOf(b);
  if (before !== after) e.healthChanged(b, before, after, true);
  if (next?.unreachable && !wasUnreachable) deps.cutConnections(b);
}

export async function handleAdmin(deps: AdminDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? "/", "http://admin");
    const parts = url.pathname.replace(/\/+$/, "").split("/").slice(1);
    const method = req.method ?? "GET";
    if (parts[0] !== "admin") throw new HttpError(404, `no such path ${url.pathname}; the admin API lives under /admin`);
    if (parts.length === 1) {
      if (method !== "GET") throw new HttpError(405, "only GET");
      const hosts = deps.bmcs.filter((b) => b.kind === "host").length;
      return send(res, 200, { bmcs: deps.bmcs.length, hosts, dpus: deps.bmcs.length - hosts });
    }
    if (parts[1] === "dialects" && parts.length === 2) {
      if (method !== "GET") throw new HttpError(405, "only GET");
      return send(res, 200, DIALECTS);
    }
    if (parts[1] !== "bmcs") throw new HttpError(404, `no such path ${url.pathname}`);
    if (parts.length === 2) {
      if (method !== "GET") throw new HttpError(405, "only GET");
      const cursorRaw = url.searchParams.get("cursor") ?? "0";
      const limitRaw = url.searchParams.get("limit") ?? "100";
      const kind = url.searchParams.get("kind");
      if (!/^\d+$/.test(cursorRaw)) throw new HttpError(400, "cursor must be a non-negative integer (from nextCursor)");
      if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > ADMIN_PAGE_MAX) throw new HttpError(400, `limit must be 1..${ADMIN_PAGE_MAX}`);
      if (kind !== null && kind !== "host" && kind !== "dpu") throw new HttpError(400, "kind must be host or dpu");
      const limit = Number(limitRaw);
      const items = [];
      let i = Number(cursorRaw);
      for (; i < deps.bmcs.length && items.length < limit; i++) {
        const b = deps.bmcs[i];
        if (kind === null || b.kind === kind) items.push(summary(deps, b));
      }
      const total = kind === null ? deps.bmcs.length : deps.bmcs.filter((b) => b.kind === kind).length;
      return send(res, 200, { items, total, nextCursor: i < deps.bmcs.length ? String(i) : null });
    }
    const b = deps.byId.get(decodeURIComponent(parts[2]));
    if (!b) throw new HttpError(404, `unknown BMC id '${parts[2]}'`);
    const rest = parts.slice(3).join("/");
    const route = `${method} ${rest}`;
    switch (route) {
      case "GET ":
        return send(res, 200, detail(deps, b));
      case "PUT faults": {
        const f = parse(FaultsInput, await jsonBody(req));
        const next: Faults = {
          latencyMs: f.latencyMs ?? 0,
          errorRate: f.errorRate ?? 0,
          timeout: f.timeout ?? false,
          stuckPower: f.stuckPower ?? false,
          unreachable: f.unreachable ?? false,
          ...(f.health ? { health: f.health } : {}),
        };
        applyFaults(deps, b, next);
        return send(res, 200, next);
      }
      case "DELETE faults":
        applyFaults(deps, b, undefined);
        return send(res, 204);
      case "POST sel": {
        const s = parse(SelInput, await jsonBody(req));
        const e = { severity: s.Severity, message: s.Message, sensorType: s.SensorType, messageId: s.MessageId ?? `${SIM_REGISTRY}.SelEntry` };
        if (s.Log === "manager") {
          if (b.dialect.logs !== "dmtf") throw new HttpError(400, `${b.id}'s dialect (${b.dialect.name}) has no Manager log; use a dialect with logs "dmtf"`);
          return send(res, 201, managerLogEntryJson(b.endpoint, deps.ctx.engine.addManagerLog(b, e)));
        }
        return send(res, 201, selEntryJson(b, deps.ctx.engine.addSel(b, e)));
      }
      case "GET dialect":
        return send(res, 200, b.dialect);
      case "PUT dialect": {
        const next = nextDialect(b.dialect, await jsonBody(req));
        b.endpoint.ownDialect = next;
        return send(res, 200, next);
      }
      case "POST console/drop":
        return send(res, 200, { dropped: deps.ctx.consoles.drop(b) });
      case "PUT agent-url": {
        if (b.kind !== "dpu") throw new HttpError(400, `${b.id} is a host BMC; the agent URL belongs to DPU BMCs`);
        const { url: agentUrl } = parse(AgentUrlInput, await jsonBody(req));
        b.agentUrl = agentUrl;
        return send(res, 200, { agentUrl });
      }
      case "PUT bootable": {
        if (b.kind !== "host") throw new HttpError(400, `${b.id} is a DPU BMC; DPUs always boot their own OS`);
        b.bootable = parse(BootableInput, await jsonBody(req)).bootable;
        return send(res, 200, { bootable: b.bootable });
      }
      default: {
        const known = ["", "faults", "sel", "console/drop", "agent-url", "bootable", "dialect"];
        if (known.includes(rest)) throw new HttpError(405, `method ${method} not allowed on /admin/bmcs/:id/${rest}`);
        throw new HttpError(404, `no such path ${url.pathname}`);
      }
    }
  } catch (err) {
    if (err instanceof HttpError) return send(res, err.status, { error: err.message, ...(err.issues ? { issues: err.issues } : {}) });
    console.error("redfish-sim admin: error", err);
    return send(res, 500, { error: (err as Error).message });
  }
}
