// The HTTP side of every simulated BMC: one shared request handler that routes a request (already tied
// to its BMC by the listener it arrived on) through fault injection, authentication and the Redfish
// resource tree; plus the serial-console WebSocket upgrade. Errors are Redfish error bodies with
// @Message.ExtendedInfo; ETag on every GET, If-Match honoured on PATCH.

import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import type { WebSocketServer } from "ws";
import type { AuthResult, SessionStore } from "./auth";
import * as B from "./bios";
import { cascadeHop } from "./cascade";
import * as O from "./oem";
import type { ConsoleManager } from "./console";
import { Msg, RedfishError } from "./errors";
import type { EventHub } from "./events";
import {
  type Bmc,
  BOOT_ENABLED,
  BOOT_MODES,
  BOOT_TARGETS,
  type BootEnabled,
  type BootMode,
  type BootTarget,
  type Engine,
  type Faults,
  firmwareOf,
  logIdOf,
  RESET_TYPES,
  type ResetType,
  SIM_REGISTRY,
} from "./model";
import * as R from "./resources";
import type { TaskManager } from "./tasks";

export interface SimContext {
  engine: Engine;
  consoles: ConsoleManager;
  events: EventHub;
  tasks: TaskManager;
  sessions: SessionStore;
  /** responses held open by the "timeout" fault, released on close() */
  held: Set<ServerResponse>;
  heldSockets: Set<Duplex>;
}

type Json = Record<string, unknown>;
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | "streaming";

interface Call {
  ctx: SimContext;
  bmc: Bmc;
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
  body: Json;
  auth: AuthResult | null;
}

type Handler = (c: Call) => Reply | Promise<Reply>;
type Method = "GET" | "POST" | "PATCH" | "DELETE";

interface Route {
  /** literal segments, ":name" parameters, and "{system}" / "{chassis}" / "{manager}" / "{adapter}" / "{function}" /
   *  "{media}": the id of that resource of the machine the path is about (a BMC may serve several machines) */
  pattern: string[];
  methods: Partial<Record<Method, Handler>>;
  /** methods that need no authentication */
  open?: Method[];
  /** the resource exists only in some dialects (else 404) */
  available?: (bmc: Bmc) => boolean;
}

const MAX_BODY = 64 * 1024;

const ok = (body: unknown): Reply => ({ status: 200, body });
/** 200 with the resource, or the 404 of the path when there is none. */
const found = (c: { path: string }, body: unknown): Reply => {
  if (!body) throw notFound(c.path);
  return ok(body);
};
const noContent: Reply = { status: 204 };
const notFound = (path: string) => new RedfishError(404, [Msg.resourceMissingAtURI(path)]);

// ------------------------------------------------------------------ body validation helpers

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function actionParams(action: string, body: Json, allowed: string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k) && !k.startsWith("@"));
  if (unknown.length)
    throw new RedfishError(
      400,
      unknown.map((k) => Msg.actionParameterUnknown(action, k)),
    );
}

/** An optional action parameter of one JSON type: undefined when absent, a 400 naming it when of another type. */
function optParam<T extends "string" | "boolean">(type: T, action: string, body: Json, key: string): (T extends "string" ? string : boolean) | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== type) throw new RedfishError(400, [Msg.actionParameterValueTypeError(v, key, action)]);
  return v as T extends "string" ? string : boolean;
}
const optString = (action: string, body: Json, key: string) => optParam("string", action, body, key);
const optBool = (action: string, body: Json, key: string) => optParam("boolean", action, body, key);

function reqString(action: string, body: Json, key: string): string {
  const v = optString(action, body, key);
  if (v === undefined) throw new RedfishError(400, [Msg.actionParameterMissing(action, key)]);
  return v;
}

function parseUri(action: string, key: string, v: string): URL {
  try {
    return new URL(v);
  } catch {
    throw new RedfishError(400, [Msg.actionParameterValueTypeError(v, key, action)]);
  }
}

// ------------------------------------------------------------------ handlers

function patchSystem(c: Call): Reply {
  const { ctx, bmc, req, body } = c;
  const current = JSON.stringify(R.system(ctx, bmc));
  const ifMatch = req.headers["if-match"];
  if (typeof ifMatch === "string" && ifMatch.trim() !== "*") {
    const etag = R.etagOf(current);
    const offered = ifMatch.split(",").map((s) => s.trim().replace(/^W\//, ""));
    if (!offered.includes(etag)) throw new RedfishError(412, [Msg.preconditionFailed()]);
  }
  const known = JSON.parse(current) as Json;
  const errors = [];
  let enabled: BootEnabled | undefined;
  let target: BootTarget | undefined;
  let mode: BootMode | undefined;
  let assetTag: string | undefined;
  for (const [k, v] of Object.entries(body)) {
    if (k === "Boot") {
      if (!isObj(v)) {
        errors.push(Msg.propertyValueTypeError(v, "Boot", "#/Boot"));
        continue;
      }
      for (const [bk, bv] of Object.entries(v)) {
        const ptr = `#/Boot/${bk}`;
        if (bk === "BootSourceOverrideEnabled") {
          if (typeof bv !== "string") errors.push(Msg.propertyValueTypeError(bv, bk, ptr));
          else if (!BOOT_ENABLED.includes(bv as BootEnabled)) errors.push(Msg.propertyValueNotInList(bv, bk, ptr));
          else enabled = bv as BootEnabled;
        } else if (bk === "BootSourceOverrideTarget") {
          if (typeof bv !== "string") errors.push(Msg.propertyValueTypeError(bv, bk, ptr));
          else if (!BOOT_TARGETS.includes(bv as BootTarget)) errors.push(Msg.propertyValueNotInList(bv, bk, ptr));
          else target = bv as BootTarget;
        } else if (bk === "BootSourceOverrideMode") {
          if (typeof bv !== "string") errors.push(Msg.propertyValueTypeError(bv, bk, ptr));
          else if (!BOOT_MODES.includes(bv as BootMode)) errors.push(Msg.propertyValueNotInList(bv, bk, ptr));
          else mode = bv as BootMode;
        } else if (isObj(known.Boot) && bk in known.Boot) errors.push(Msg.propertyNotWritable(bk, ptr));
        else errors.push(Msg.propertyUnknown(bk, ptr));
      }
    } else if (k === "AssetTag") {
      if (typeof v !== "string" || v.length > 64) errors.push(Msg.propertyValueTypeError(v, k, `#/${k}`));
      else assetTag = v;
    } else if (k.startsWith("@odata.")) {
      // clients echo @odata.* annotations back; ignoring them is what BMCs do
    } else if (k in known) errors.push(Msg.propertyNotWritable(k, `#/${k}`));
    else errors.push(Msg.propertyUnknown(k, `#/${k}`));
  }
  const d = bmc.dialect;
  // A BMC that clears an override only through BootSourceOverrideTarget "None" refuses "Disabled" (not in its list).
  if (enabled === "Disabled" && d.bootClear === "target-none")
    errors.push(Msg.propertyValueNotInList("Disabled", "BootSourceOverrideEnabled", "#/Boot/BootSourceOverrideEnabled"));
  if (errors.length) throw new RedfishError(400, errors);
  // A BMC that does not do one-time overrides takes "Once" without complaint and keeps the override for every boot.
  if (enabled === "Once" && !d.bootOnce) enabled = "Continuous";
  if (enabled !== undefined) bmc.bootEnabled = enabled;
  if (target !== undefined) bmc.bootTarget = target;
  if (mode !== undefined) bmc.bootMode = mode;
  if (assetTag !== undefined) bmc.assetTag = assetTag;
  return ok(R.system(ctx, bmc));
}

function reset(c: Call): Reply {
  const action = "ComputerSystem.Reset";
  actionParams(action, c.body, ["ResetType"]);
  const t = c.body.ResetType;
  if (t === undefined) throw new RedfishError(400, [Msg.actionParameterMissing(action, "ResetType")]);
  if (typeof t !== "string") throw new RedfishError(400, [Msg.actionParameterValueTypeError(t, "ResetType", action)]);
  if (!RESET_TYPES.includes(t as ResetType)) throw new RedfishError(400, [Msg.actionParameterValueNotInList(t, "ResetType", action)]);
  c.ctx.engine.reset(c.bmc, t as ResetType);
  return noContent;
}

/**
 * A BMC mounts a remote image by fetching it, and refuses the insert when it cannot (iDRAC: "Unable to locate the ISO
 * or IMG image file"); the lab does the same with a HEAD request, so an unreachable or refused URL fails at insert time.
 */
async function assertImageReachable(image: string): Promise<void> {
  const why = await new Promise<string | null>((resolve) => {
    // node:http rather than fetch: fetch refuses ports a browser blocks (9, 25, …), which a BMC would not.
    const req = (image.startsWith("https:") ? https : http).request(image, { method: "HEAD", timeout: 3000, rejectUnauthorized: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? null : `HTTP ${status}`);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
  if (why) throw new RedfishError(400, [Msg.couldNotEstablishConnection(image, why)]);
}

async function insertMedia(c: Call): Promise<Reply> {
  const action = "VirtualMedia.InsertMedia";
  actionParams(action, c.body, ["Image", "Inserted", "WriteProtected", "TransferProtocolType", "TransferMethod", "UserName", "Password"]);
  const image = reqString(action, c.body, "Image");
  parseUri(action, "Image", image);
  const inserted = optBool(action, c.body, "Inserted") ?? true;
  const wp = optBool(action, c.body, "WriteProtected") ?? true;
  const tpt = optString(action, c.body, "TransferProtocolType");
  if (tpt !== undefined && !["HTTP", "HTTPS", "NFS", "CIFS"].includes(tpt))
    throw new RedfishError(400, [Msg.actionParameterValueNotInList(tpt, "TransferProtocolType", action)]);
  optString(action, c.body, "UserName");
  optString(action, c.body, "Password");
  if (c.bmc.media) throw new RedfishError(409, [Msg.operationNotAllowed("Virtual media is already inserted; eject it first.")]);
  await assertImageReachable(image);
  c.bmc.media = { image, inserted, writeProtected: wp, transferProtocolType: tpt ?? (image.startsWith("https:") ? "HTTPS" : "HTTP") };
  return noContent;
}

/** PATCH of the VirtualMedia resource, for BMCs without InsertMedia/EjectMedia (dialect virtualMedia "patch"):
 *  {Image, Inserted: true, WriteProtected} mounts, {Image: null, Inserted: false} ejects. */
async function patchMedia(c: Call): Promise<Reply> {
  if (c.bmc.dialect.virtualMedia !== "patch") throw new RedfishError(405, [Msg.methodNotAllowed("PATCH", c.path)], { Allow: "GET" });
  const b = c.body;
  const errors = [];
  const allowed = ["Image", "Inserted", "WriteProtected", "TransferProtocolType", "UserName", "Password"];
  for (const k of Object.keys(b)) if (!allowed.includes(k) && !k.startsWith("@")) errors.push(Msg.propertyUnknown(k, `#/${k}`));
  if (b.Image !== undefined && b.Image !== null && (typeof b.Image !== "string" || !URL.canParse(b.Image)))
    errors.push(Msg.propertyValueTypeError(b.Image, "Image", "#/Image"));
  for (const k of ["Inserted", "WriteProtected"])
    if (b[k] !== undefined && typeof b[k] !== "boolean") errors.push(Msg.propertyValueTypeError(b[k], k, `#/${k}`));
  const tpt = b.TransferProtocolType;
  if (tpt !== undefined && tpt !== null && !["HTTP", "HTTPS", "NFS", "CIFS"].includes(tpt as string))
    errors.push(Msg.propertyValueNotInList(tpt, "TransferProtocolType", "#/TransferProtocolType"));
  if (errors.length) throw new RedfishError(400, errors);
  if (b.Image === null || b.Inserted === false) {
    c.bmc.media = undefined;
  } else if (typeof b.Image === "string") {
    if (c.bmc.media && c.bmc.media.image !== b.Image)
      throw new RedfishError(409, [Msg.operationNotAllowed("Virtual media is already inserted; eject it first.")]);
    if (c.bmc.media?.image !== b.Image) await assertImageReachable(b.Image);
    c.bmc.media = {
      image: b.Image,
      inserted: true,
      writeProtected: (b.WriteProtected as boolean | undefined) ?? true,
      transferProtocolType: (tpt as string | undefined) ?? (b.Image.startsWith("https:") ? "HTTPS" : "HTTP"),
    };
  }
  return ok(R.virtualMediaCd(c.bmc));
}

function ejectMedia(c: Call): Reply {
  actionParams("VirtualMedia.EjectMedia", c.body, []);
  c.bmc.media = undefined;
  return noContent;
}

function login(c: Call): Reply {
  const { UserName, Password } = c.body;
  if (UserName === undefined) throw new RedfishError(400, [Msg.propertyMissing("UserName")]);
  if (Password === undefined) throw new RedfishError(400, [Msg.propertyMissing("Password")]);
  if (!c.ctx.sessions.checkCredentials(c.bmc, UserName, Password)) throw new RedfishError(401, [Msg.resourceAtUriUnauthorized(c.path)]);
  const s = c.ctx.sessions.create(c.bmc, UserName as string);
  if (!s) throw new RedfishError(503, [Msg.sessionLimitExceeded()]);
  const loc = `/redfish/v1/SessionService/Sessions/${s.id}`;
  return { status: 201, body: R.sessionJson(s), headers: { "X-Auth-Token": s.token, Location: loc, "OData-EntityId": loc } };
}

function subscribe(c: Call): Reply {
  const b = c.body;
  const errors = [];
  const allowed = [
    "Destination",
    "Protocol",
    "Context",
    "RegistryPrefixes",
    "ResourceTypes",
    "EventFormatType",
    "HttpHeaders",
    "EventTypes",
    "SubscriptionType",
    "DeliveryRetryPolicy",
  ];
  for (const k of Object.keys(b)) if (!allowed.includes(k) && !k.startsWith("@")) errors.push(Msg.propertyUnknown(k, `#/${k}`));
  if (b.Destination === undefined) errors.push(Msg.propertyMissing("Destination"));
  else if (typeof b.Destination !== "string" || !/^https?:\/\/./.test(b.Destination))
    errors.push(Msg.propertyValueTypeError(b.Destination, "Destination", "#/Destination"));
  if (b.Protocol === undefined) errors.push(Msg.propertyMissing("Protocol"));
  else if (b.Protocol !== "Redfish") errors.push(Msg.propertyValueNotInList(b.Protocol, "Protocol", "#/Protocol"));
  if (b.Context !== undefined && typeof b.Context !== "string") errors.push(Msg.propertyValueTypeError(b.Context, "Context", "#/Context"));
  for (const k of ["RegistryPrefixes", "ResourceTypes"] as const) {
    const v = b[k];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === "string"))) errors.push(Msg.propertyValueTypeError(v, k, `#/${k}`));
  }
  if (b.EventFormatType !== undefined && b.EventFormatType !== "Event")
    errors.push(Msg.propertyValueNotInList(b.EventFormatType, "EventFormatType", "#/EventFormatType"));
  const headers: Record<string, string> = {};
  if (b.HttpHeaders !== undefined) {
    if (!Array.isArray(b.HttpHeaders)) errors.push(Msg.propertyValueTypeError(b.HttpHeaders, "HttpHeaders", "#/HttpHeaders"));
    else
      for (const h of b.HttpHeaders) {
        if (!isObj(h)) errors.push(Msg.propertyValueTypeError(h, "HttpHeaders", "#/HttpHeaders"));
        else for (const [hk, hv] of Object.entries(h)) if (typeof hv === "string") headers[hk] = hv;
      }
  }
  if (errors.length) throw new RedfishError(400, errors);
  const sub = c.ctx.events.addSubscription(c.bmc, {
    destination: b.Destination as string,
    protocol: "Redfish",
    context: (b.Context as string | undefined) ?? null,
    registryPrefixes: (b.RegistryPrefixes as string[] | undefined) ?? [],
    resourceTypes: (b.ResourceTypes as string[] | undefined) ?? [],
    eventFormatType: "Event",
    httpHeaders: headers,
  });
  const loc = `/redfish/v1/EventService/Subscriptions/${sub.id}`;
  return { status: 201, body: R.subscriptionJson(sub), headers: { Location: loc } };
}

function sse(c: Call): Reply {
  const { res } = c;
  if (!c.bmc.dialect.sse) throw notFound(c.path); // dialect sse false: no event stream, as on older BMCs
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "OData-Version": "4.0" });
  res.write(": Redfish event stream\n\n");
  c.ctx.events.addStream(c.bmc, res);
  return "streaming";
}

function testEvent(c: Call): Reply {
  const action = "EventService.SubmitTestEvent";
  actionParams(action, c.body, [
    "MessageId",
    "Message",
    "Severity",
    "MessageSeverity",
    "MessageArgs",
    "OriginOfCondition",
    "EventType",
    "EventId",
    "EventTimestamp",
    "EventGroupId",
  ]);
  const sev = (optString(action, c.body, "MessageSeverity") ?? optString(action, c.body, "Severity") ?? "OK") as "OK" | "Warning" | "Critical";
  if (!["OK", "Warning", "Critical"].includes(sev)) throw new RedfishError(400, [Msg.actionParameterValueNotInList(sev, "MessageSeverity", action)]);
  c.ctx.events.emit(c.bmc, {
    messageId: optString(action, c.body, "MessageId") ?? `${SIM_REGISTRY}.TestEvent`,
    message: optString(action, c.body, "Message") ?? "Test event.",
    severity: sev,
    origin: optString(action, c.body, "OriginOfCondition") ?? "/redfish/v1/EventService",
  });
  return noContent;
}

function simpleUpdate(c: Call): Reply {
  const action = "UpdateService.SimpleUpdate";
  actionParams(action, c.body, ["ImageURI", "TransferProtocol", "Targets", "Username", "Password", "ForceUpdate", "Stage"]);
  const image = reqString(action, c.body, "ImageURI");
  const tp = optString(action, c.body, "TransferProtocol");
  if (tp !== undefined && !(R.TRANSFER_PROTOCOLS as readonly string[]).includes(tp))
    throw new RedfishError(400, [Msg.actionParameterValueNotInList(tp, "TransferProtocol", action)]);
  // Without TransferProtocol the ImageURI must carry a scheme (DSP0268 SimpleUpdate).
  if (tp === undefined) parseUri(action, "ImageURI", image);
  const known = Object.keys(firmwareOf(c.bmc));
  const raw = c.body.Targets;
  let targets: string[];
  if (raw === undefined) {
    const file = image.toLowerCase();
    if (c.bmc.kind === "dpu") targets = [file.endsWith(".bfb") ? "DPU_OS" : /nic|fw-/.test(file) ? "DPU_NIC" : /atf/.test(file) ? "DPU_ATF" : "BMC_Firmware"];
    else targets = [/bios/.test(file) ? "BIOS" : /nic/.test(file) ? "NIC_Slot_1" : "BMC_Firmware"];
  } else {
    if (!Array.isArray(raw) || raw.length === 0 || !raw.every((t) => typeof t === "string"))
      throw new RedfishError(400, [Msg.actionParameterValueTypeError(raw, "Targets", action)]);
    targets = [];
    for (const t of raw as string[]) {
      // Accept "/redfish/v1/...", "redfish/v1/..." (as BlueField docs write it) and absolute URLs.
      const m = /(?:^|\/)redfish\/v1\/UpdateService\/FirmwareInventory\/([^/?#]+)$/.exec(t);
      if (!m || !known.includes(m[1])) throw new RedfishError(400, [Msg.actionParameterValueNotInList(t, "Targets", action)]);
      targets.push(m[1]);
    }
  }
  const task = c.ctx.tasks.startUpdate(c.bmc, image, targets);
  const monitor = `/redfish/v1/TaskService/TaskMonitors/${task.id}`;
  return { status: 202, body: c.ctx.tasks.json(task), headers: { Location: monitor, "Retry-After": "1" } };
}

function taskMonitor(c: Call): Reply {
  const t = c.ctx.tasks.get(c.bmc, c.params.id);
  if (!t) throw notFound(c.path);
  const body = c.ctx.tasks.json(t);
  if (t.state === "Running") {
    const left = Math.max(1, Math.ceil((t.startedAt + t.durationMs - Date.now()) / 1000));
    return { status: 202, body, headers: { "Retry-After": String(Math.min(left, 5)), Location: c.path } };
  }
  return ok(body);
}

function intParam(q: URLSearchParams, name: string, dflt: number): number {
  const v = q.get(name);
  if (v === null) return dflt;
  if (!/^\d{1,9}$/.test(v)) throw new RedfishError(400, [Msg.propertyValueTypeError(v, name, `#/${name}`)]);
  return Number(v);
}

// ------------------------------------------------------------------ route table

const withSessions = (b: Bmc) => b.dialect.sessions;
const withSubscriptions = (b: Bmc) => b.dialect.subscriptions;
const dmtfLogs = (b: Bmc) => b.dialect.logs === "dmtf";
const withMediaActions = (b: Bmc) => b.dialect.virtualMedia === "actions";

/** The machine whose hardware log the path names (404 for a log service this dialect does not have). */
function systemLog(c: Call): Bmc {
  if (c.params.log !== logIdOf(c.bmc)) throw notFound(c.path);
  return c.bmc;
}

const ROUTES: Route[] = [
  { pattern: [], methods: { GET: (c) => ok(R.serviceRoot(c.bmc)) }, open: ["GET"] },
  { pattern: ["odata"], methods: { GET: () => ok({ "@odata.context": "/redfish/v1/$metadata", value: [] }) }, open: ["GET"] },
  { pattern: ["Systems"], methods: { GET: (c) => ok(R.systems(c.bmc)) } },
  { pattern: ["Systems", "{system}"], methods: { GET: (c) => ok(R.system(c.ctx, c.bmc)), PATCH: patchSystem } },
  { pattern: ["Systems", "{system}", "Actions", "Sim", "ComputerSystem.Reset"], methods: { POST: reset } },
  { pattern: ["Systems", "{system}", "ResetActionInfo"], methods: { GET: (c) => ok(R.resetActionInfo(c.bmc)) } },
  { pattern: ["Systems", "{system}", "EthernetInterfaces"], methods: { GET: (c) => ok(R.ethernetInterfaces(c.ctx, c.bmc)) } },
  {
    pattern: ["Systems", "{system}", "EthernetInterfaces", ":nic"],
    methods: { GET: (c) => found(c, R.ethernetInterface(c.ctx, c.bmc, c.params.nic)) },
  },
  { pattern: ["Systems", "{system}", "Processors"], methods: { GET: (c) => ok(R.processors(c.ctx, c.bmc)) } },
  {
    pattern: ["Systems", "{system}", "Processors", ":cpu"],
    methods: { GET: (c) => found(c, R.processor(c.ctx, c.bmc, c.params.cpu)) },
  },
  { pattern: ["Systems", "{system}", "LogServices"], methods: { GET: (c) => ok(R.logServices(c.bmc)) } },
  { pattern: ["Systems", "{system}", "LogServices", ":log"], methods: { GET: (c) => ok(R.selService(systemLog(c))) } },
  {
    pattern: ["Systems", "{system}", "LogServices", ":log", "Entries"],
    methods: { GET: (c) => ok(R.selEntries(c.ctx, systemLog(c), intParam(c.query, "$skip", 0), intParam(c.query, "$top", Number.POSITIVE_INFINITY))) },
  },
  {
    pattern: ["Systems", "{system}", "LogServices", ":log", "Entries", ":entry"],
    methods: {
      GET: (c) => {
        const e = c.ctx.engine.selOf(systemLog(c)).find((x) => String(x.id) === c.params.entry);
        if (!e) throw notFound(c.path);
        return ok(R.selEntryJson(c.bmc, e));
      },
    },
  },
  {
    pattern: ["Systems", "{system}", "LogServices", ":log", "Actions", "LogService.ClearLog"],
    methods: {
      POST: (c) => {
        actionParams("LogService.ClearLog", c.body, []);
        const bmc = systemLog(c);
        bmc.sel = [];
        c.ctx.engine.addSel(
          bmc,
          { severity: "OK", message: "Log area reset/cleared.", messageId: `${SIM_REGISTRY}.LogCleared`, sensorType: "Event Logging Disabled" },
          false,
        );
        return noContent;
      },
    },
  },
  { pattern: ["Systems", "{system}", "Bios"], methods: { GET: (c) => ok(B.bios(c.bmc)) }, available: B.hasBios },
  {
    pattern: ["Systems", "{system}", "Bios", "Settings"],
    methods: { GET: (c) => ok(B.biosSettings(c.bmc)), PATCH: (c) => (B.patchBiosSettings(c.bmc, c.body), noContent) },
    available: B.hasBios,
  },
  { pattern: ["Registries"], methods: { GET: (c) => ok(B.registries(c.bmc)) } },
  { pattern: ["Registries", ":id"], methods: { GET: (c) => found(c, B.registryFile(c.bmc, c.params.id)) } },
  { pattern: ["Registries", ":id", ":file"], methods: { GET: (c) => found(c, B.attributeRegistry(c.bmc, c.params.id, c.params.file)) } },
  { pattern: ["Systems", "{system}", "VirtualMedia"], methods: { GET: (c) => ok(R.virtualMediaCollection(c.bmc)) } },
  { pattern: ["Systems", "{system}", "VirtualMedia", "{media}"], methods: { GET: (c) => ok(R.virtualMediaCd(c.bmc)), PATCH: patchMedia } },
  {
    pattern: ["Systems", "{system}", "VirtualMedia", "{media}", "Actions", "VirtualMedia.InsertMedia"],
    methods: { POST: insertMedia },
    available: withMediaActions,
  },
  {
    pattern: ["Systems", "{system}", "VirtualMedia", "{media}", "Actions", "VirtualMedia.EjectMedia"],
    methods: { POST: ejectMedia },
    available: withMediaActions,
  },
  { pattern: ["Chassis"], methods: { GET: (c) => ok(R.chassisCollection(c.bmc)) } },
  { pattern: ["Chassis", "{chassis}"], methods: { GET: (c) => ok(R.chassis(c.ctx, c.bmc)) } },
  { pattern: ["Chassis", "{chassis}", "LogServices"], methods: { GET: (c) => ok(R.chassisLogServices(c.bmc)) }, available: dmtfLogs },
  { pattern: ["Chassis", "{chassis}", "NetworkAdapters"], methods: { GET: (c) => ok(R.networkAdapters(c.bmc)) }, available: R.hasNetworkAdapters },
  {
    pattern: ["Chassis", "{chassis}", "NetworkAdapters", "{adapter}"],
    methods: { GET: (c) => ok(R.networkAdapter(c.ctx, c.bmc)) },
    available: R.hasNetworkAdapters,
  },
  {
    pattern: ["Chassis", "{chassis}", "NetworkAdapters", "{adapter}", "NetworkDeviceFunctions"],
    methods: { GET: (c) => ok(R.networkDeviceFunctions(c.bmc)) },
    available: R.hasNetworkAdapters,
  },
  {
    pattern: ["Chassis", "{chassis}", "NetworkAdapters", "{adapter}", "NetworkDeviceFunctions", "{function}"],
    methods: { GET: (c) => ok(R.networkDeviceFunction(c.ctx, c.bmc)) },
    available: R.hasNetworkAdapters,
  },
  { pattern: ["Managers"], methods: { GET: (c) => ok(R.managers(c.bmc)) } },
  { pattern: ["Managers", "{manager}"], methods: { GET: (c) => ok(R.manager(c.bmc)) } },
  { pattern: ["Managers", "{manager}", "Actions", "Oem", O.HOST_BMC_ACCESS], methods: { POST: (c) => (O.setHostBmcAccess(c.bmc, c.body), noContent) } },
  { pattern: ["Managers", "{manager}", "NetworkProtocol"], methods: { GET: (c) => ok(R.networkProtocol(c.bmc)) } },
  { pattern: ["Managers", "{manager}", "LogServices"], methods: { GET: (c) => ok(R.managerLogServices(c.bmc)) }, available: dmtfLogs },
  { pattern: ["Managers", "{manager}", "LogServices", "Log"], methods: { GET: (c) => ok(R.managerLogService(c.bmc)) }, available: dmtfLogs },
  {
    pattern: ["Managers", "{manager}", "LogServices", "Log", "Entries"],
    methods: { GET: (c) => ok(R.managerLogEntries(c.ctx, c.bmc, intParam(c.query, "$skip", 0), intParam(c.query, "$top", Number.POSITIVE_INFINITY))) },
    available: dmtfLogs,
  },
  {
    pattern: ["Managers", "{manager}", "LogServices", "Log", "Entries", ":entry"],
    methods: {
      GET: (c) => {
        const e = c.ctx.engine.mgrLogOf(c.bmc).find((x) => String(x.id) === c.params.entry);
        if (!e) throw notFound(c.path);
        return ok(R.managerLogEntryJson(c.bmc, e));
      },
    },
    available: dmtfLogs,
  },
  { pattern: ["SessionService"], methods: { GET: () => ok(R.sessionService()) }, available: withSessions },
  {
    pattern: ["SessionService", "Sessions"],
    methods: {
      GET: (c) => {
        const ids = c.ctx.sessions.list(c.bmc).map((s) => `/redfish/v1/SessionService/Sessions/${s.id}`);
        return ok(R.collection("/redfish/v1/SessionService/Sessions", "SessionCollection", "Session Collection", ids));
      },
      POST: login,
    },
    open: ["POST"],
    available: withSessions,
  },
  {
    pattern: ["SessionService", "Sessions", ":id"],
    methods: {
      GET: (c) => {
        const s = c.ctx.sessions.get(c.bmc, c.params.id);
        if (!s) throw notFound(c.path);
        return ok(R.sessionJson(s));
      },
      DELETE: (c) => {
        const s = c.ctx.sessions.get(c.bmc, c.params.id);
        if (!s) throw notFound(c.path);
        c.ctx.sessions.delete(s);
        return noContent;
      },
    },
    available: withSessions,
  },
  { pattern: ["EventService"], methods: { GET: (c) => ok(R.eventService(c.bmc)) } },
  { pattern: ["EventService", "SSE"], methods: { GET: sse } },
  { pattern: ["EventService", "Actions", "EventService.SubmitTestEvent"], methods: { POST: testEvent } },
  {
    pattern: ["EventService", "Subscriptions"],
    methods: {
      GET: (c) => {
        const ids = [...(c.ctx.events.peekSubscriptions(c.bmc)?.keys() ?? [])].map((id) => `/redfish/v1/EventService/Subscriptions/${id}`);
        return ok(R.collection("/redfish/v1/EventService/Subscriptions", "EventDestinationCollection", "Event Subscriptions Collection", ids));
      },
      POST: subscribe,
    },
    available: withSubscriptions,
  },
  {
    pattern: ["EventService", "Subscriptions", ":id"],
    methods: {
      GET: (c) => {
        const s = c.ctx.events.peekSubscriptions(c.bmc)?.get(c.params.id);
        if (!s) throw notFound(c.path);
        return ok(R.subscriptionJson(s));
      },
      DELETE: (c) => {
        const subs = c.ctx.events.peekSubscriptions(c.bmc);
        if (!subs?.delete(c.params.id)) throw notFound(c.path);
        return noContent;
      },
    },
    available: withSubscriptions,
  },
  { pattern: ["TaskService"], methods: { GET: () => ok(R.taskService()) } },
  {
    pattern: ["TaskService", "Tasks"],
    methods: {
      GET: (c) => {
        const ids = c.ctx.tasks.list(c.bmc).map((t) => `/redfish/v1/TaskService/Tasks/${t.id}`);
        return ok(R.collection("/redfish/v1/TaskService/Tasks", "TaskCollection", "Task Collection", ids));
      },
    },
  },
  {
    pattern: ["TaskService", "Tasks", ":id"],
    methods: {
      GET: (c) => {
        const t = c.ctx.tasks.get(c.bmc, c.params.id);
        if (!t) throw notFound(c.path);
        return ok(c.ctx.tasks.json(t));
      },
    },
  },
  { pattern: ["TaskService", "TaskMonitors", ":id"], methods: { GET: taskMonitor } },
  { pattern: ["UpdateService"], methods: { GET: () => ok(R.updateService()) } },
  { pattern: ["UpdateService", "FirmwareInventory"], methods: { GET: (c) => ok(R.firmwareInventory(c.bmc)) } },
  {
    pattern: ["UpdateService", "FirmwareInventory", ":id"],
    methods: { GET: (c) => found(c, R.firmwareItem(c.bmc, c.params.id)) },
  },
  { pattern: ["UpdateService", "Actions", "UpdateService.SimpleUpdate"], methods: { POST: simpleUpdate } },
];

/**
 * The route for a path, and the machine it is about: "{system}" / "{chassis}" pick one of the machines the BMC
 * serves by its id, later "{…}" segments must be that machine's ids, "{manager}" is the BMC's own manager.
 */
function match(endpoint: Bmc, segs: string[]): { route: Route; params: Record<string, string>; bmc: Bmc } | undefined {
  outer: for (const route of ROUTES) {
    if (route.pattern.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let target = endpoint;
    for (let i = 0; i < segs.length; i++) {
      const p = route.pattern[i];
      if (p.startsWith(":")) params[p.slice(1)] = segs[i];
      else if (p === "{system}" || p === "{chassis}") {
        const key = p.slice(1, -1) as "system" | "chassis";
        const m = endpoint.members.find((x) => x.ids[key] === segs[i]);
        if (!m) continue outer;
        target = m;
      } else if (p === "{manager}") {
        if (segs[i] !== endpoint.ids.manager) continue outer;
      } else if (p.startsWith("{")) {
        if (segs[i] !== (target.ids as unknown as Record<string, string>)[p.slice(1, -1)]) continue outer;
      } else if (p !== segs[i]) continue outer;
    }
    if (route.available && !route.available(target)) continue;
    return { route, params, bmc: target };
  }
  return undefined;
}

// ------------------------------------------------------------------ plumbing

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const h: Record<string, string> = { "OData-Version": "4.0", "Cache-Control": "no-cache", ...headers };
  if (status === 204 || body === undefined) {
    res.writeHead(status, h);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  h["Content-Type"] = "application/json; charset=utf-8";
  if ((req.method === "GET" || req.method === "HEAD" || req.method === "PATCH") && status === 200) {
    const etag = R.etagOf(text);
    h.ETag = etag;
    const inm = req.headers["if-none-match"];
    if (req.method !== "PATCH" && typeof inm === "string" && inm.split(",").some((s) => s.trim() === etag)) {
      res.writeHead(304, h);
      res.end();
      return;
    }
  }
  h["Content-Length"] = String(Buffer.byteLength(text));
  res.writeHead(status, h);
  res.end(req.method === "HEAD" ? undefined : text);
}

function sendError(req: IncomingMessage, res: ServerResponse, err: RedfishError): void {
  const headers = { ...err.headers };
  if (err.status === 401) headers["WWW-Authenticate"] = 'Basic realm="Redfish"';
  send(req, res, err.status, err.body(), headers);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        reject(new RedfishError(413, [Msg.payloadTooLarge()]));
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Fault injection shared by Redfish and console traffic. Returns "hang" when the request must never be
 * answered (timeout fault), "fail" when a 5xx is due (errorRate), else "go".
 */
async function faultGate(ctx: SimContext, bmc: Bmc): Promise<"go" | "hang" | "fail"> {
  const lat = ctx.engine.config.requestLatency;
  const f = networkFaults(bmc.endpoint);
  let delay = lat ? lat[0] + Math.random() * (lat[1] - lat[0]) : 0;
  if (f?.latencyMs) delay += f.latencyMs;
  if (delay > 0) await sleep(delay);
  if (f?.timeout) return "hang";
  if (f && f.errorRate > 0 && Math.random() < f.errorRate) return "fail";
  return "go";
}

/** Network faults of a BMC: those set on any machine it serves (one machine per BMC in the lab dialect). */
export function networkFaults(endpoint: Bmc): Faults | undefined {
  if (endpoint.members.length === 1) return endpoint.faults;
  const all = endpoint.members.map((m) => m.faults).filter((f): f is Faults => f !== undefined);
  if (!all.length) return undefined;
  return {
    latencyMs: Math.max(...all.map((f) => f.latencyMs)),
    errorRate: Math.max(...all.map((f) => f.errorRate)),
    timeout: all.some((f) => f.timeout),
    stuckPower: false,
    unreachable: all.some((f) => f.unreachable),
  };
}

function hold(ctx: SimContext, res: ServerResponse): void {
  ctx.held.add(res);
  res.on("close", () => ctx.held.delete(res));
}

export async function handleRequest(ctx: SimContext, bmc: Bmc, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const gate = await faultGate(ctx, bmc);
    if (gate === "hang") return hold(ctx, res);
    if (gate === "fail") {
      if (Math.random() < 0.5) throw new RedfishError(500, [Msg.internalError()]);
      throw new RedfishError(503, [Msg.serviceTemporarilyUnavailable(1)], { "Retry-After": "1" });
    }
    // A DPU BMC behind this one (cascade.ts): the request is the DPU BMC's to answer, authentication included.
    const hop = cascadeHop(bmc, req.url ?? "/");
    if (hop) {
      req.url = hop.url;
      return handleRequest(ctx, hop.dpu, req, res);
    }
    const url = new URL(req.url ?? "/", "http://bmc");
    let path = url.pathname.replace(/\/+$/, "");
    if (path === "/redfish") return send(req, res, 200, { v1: "/redfish/v1/" });
    if (path !== "/redfish/v1" && !path.startsWith("/redfish/v1/")) throw notFound(url.pathname);
    let segs: string[];
    try {
      segs = path.split("/").slice(3).map(decodeURIComponent);
    } catch {
      throw notFound(url.pathname);
    }
    if (path === "/redfish/v1") path = "/redfish/v1/";
    const m = match(bmc, segs);
    if (!m) throw notFound(path);
    const method = (req.method === "HEAD" ? "GET" : req.method) as Method;
    const handler = m.route.methods[method];
    if (!handler) {
      const allow = Object.keys(m.route.methods).join(", ");
      throw new RedfishError(405, [Msg.methodNotAllowed(req.method ?? "?", path)], { Allow: allow });
    }
    let auth: AuthResult | null = null;
    if (!m.route.open?.includes(method)) {
      auth = ctx.sessions.authenticate(bmc, req);
      if (!auth.ok) throw new RedfishError(401, [auth.reason === "missing" ? Msg.noValidSession() : Msg.resourceAtUriUnauthorized(path)]);
    }
    let body: Json = {};
    if (method === "POST" || method === "PATCH") {
      const text = await readBody(req);
      if (text.trim() !== "") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new RedfishError(400, [Msg.malformedJSON()]);
        }
        if (!isObj(parsed)) throw new RedfishError(400, [Msg.malformedJSON()]);
        body = parsed;
      } else if (method === "PATCH") throw new RedfishError(400, [Msg.malformedJSON()]);
    }
    const reply = await handler({ ctx, bmc: m.bmc, req, res, params: m.params, query: url.searchParams, path, body, auth });
    if (reply === "streaming") return;
    send(req, res, reply.status, reply.body, reply.headers);
  } catch (err) {
    if (err instanceof RedfishError) return sendError(req, res, err);
    sendError(req, res, new RedfishError(500, [Msg.internalError()]));
    console.error("redfish-sim: handler error", err);
  }
}

/** WebSocket upgrade for the serial console at SerialConsole.WebSocket.ConsoleURI. */
export async function handleUpgrade(ctx: SimContext, bmc: Bmc, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const refuse = (status: number, text: string) => {
    if (socket.destroyed) return;
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  };
  const gate = await faultGate(ctx, bmc);
  if (gate === "hang") {
    ctx.heldSockets.add(socket);
    socket.on("close", () => ctx.heldSockets.delete(socket));
    return;
  }
  if (gate === "fail") return refuse(503, "Service Unavailable");
  let hop: ReturnType<typeof cascadeHop>;
  try {
    hop = cascadeHop(bmc, req.url ?? "/");
  } catch (e) {
    return refuse((e as RedfishError).status, "Not Found");
  }
  if (hop) {
    req.url = hop.url;
    return handleUpgrade(ctx, hop.dpu, wss, req, socket, head);
  }
  const url = new URL(req.url ?? "/", "http://bmc");
  // Only a BMC advertising SerialConsole.WebSocket serves one; the path names which of its machines.
  const machine = bmc.dialect.console === "websocket" ? bmc.members.find((m) => url.pathname === R.consolePathOf(m)) : undefined;
  if (!machine) return refuse(404, "Not Found");
  const auth = ctx.sessions.authenticate(bmc, req, url.searchParams.get("token"));
  if (!auth.ok) return refuse(401, "Unauthorized");
  if (ctx.consoles.clientCount(machine) >= 8) return refuse(503, "Too many console sessions");
  wss.handleUpgrade(req, socket, head, (ws) => ctx.consoles.attach(machine, ws));
}
