// Typed client of a DPU agent's REST API (agent/openapi.yaml), used by the instance workflows to attach disks,
// publish cloud-init seeds and create NICs on the DPU that fronts a host. Every call has a timeout; 5xx answers
// and network failures are retried a bounded number of times (the agent's PUTs are idempotent: same name + same
// body is a no-op), 4xx answers are not (retrying a validation error cannot help). Errors carry the agent's own
// code/message/field so an operation step can show a person what the DPU said. Connections go through the
// management-network policy (server/lib/mgmt-network.ts): an agent URL outside it is refused, never contacted.
import { fetch } from "undici";
import type { z } from "zod";
import type { CidataSpecSchema, DiskSpecSchema, NicRulesOutcome, NicSpecSchema, OverlaySpecSchema } from "@/agent/schemas";
import { mgmtDispatcher, mgmtRefusalIn } from "@/server/lib/mgmt-network";
import { errorBrand, hasBrand, setBrand } from "@/server/lib/brand";

export type DiskSpecInput = z.input<typeof DiskSpecSchema>;
export type CidataSpecInput = z.input<typeof CidataSpecSchema>;
export type NicSpecInput = z.input<typeof NicSpecSchema>;
export type RuleSetInput = NicSpecInput["rules"];
export type OverlaySpecInput = z.input<typeof OverlaySpecSchema>;

/** A resource as the agent reports it back (spec plus state fields); kept loose on purpose — the agent owns the shape. */
export type AgentResource = { name: string } & Record<string, unknown>;

export interface DpuAgentClientOptions {
  /** Base URL of the agent, e.g. http://127.0.0.1:8443 (nodes.agentUrl). */
  baseUrl: string;
  /** Bearer token (the unsealed nodes.agentToken). */
  token: string;
  /** Per-attempt timeout in ms; default 10 000. */
  timeoutMs?: number;
  /** Extra attempts after the first on 5xx / network errors; default 2. */
  retries?: number;
  /** Delay before the first retry in ms, doubled each time; default 200. */
  retryDelayMs?: number;
}

/** Failure of an agent call: HTTP status (0 for network/timeout), the agent's error code and message. */
export class DpuAgentError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "DpuAgentError";
    setBrand(this, DPU_AGENT_ERROR);
  }
  /** True when retrying later could succeed (network, timeout, 5xx; not an address the policy refuses). */
  get transient(): boolean {
    return (this.status === 0 && this.code !== "forbidden") || this.status >= 500;
  }
}

const DPU_AGENT_ERROR = errorBrand("DpuAgentError");
/** Whether `e` is a DpuAgentError from any copy of this module (see server/lib/brand.ts). */
export function isDpuAgentError(e: unknown): e is DpuAgentError {
  return hasBrand(e, DPU_AGENT_ERROR);
}

export interface DpuAgentClient {
  health(): Promise<Record<string, unknown>>;
  listDisks(): Promise<AgentResource[]>;
  getDisk(name: string): Promise<AgentResource | null>;
  putDisk(name: string, spec: DiskSpecInput): Promise<AgentResource>;
  /** Idempotent: a disk that is already gone counts as deleted. */
  deleteDisk(name: string): Promise<void>;
  listCidata(): Promise<AgentResource[]>;
  putCidata(name: string, spec: CidataSpecInput): Promise<AgentResource>;
  deleteCidata(name: string): Promise<void>;
  listNics(): Promise<AgentResource[]>;
  getNic(name: string): Promise<AgentResource | null>;
  putNic(name: string, spec: NicSpecInput): Promise<AgentResource>;
  putNicRules(name: string, rules: RuleSetInput): Promise<AgentResource>;
  /** Several NICs' rules in one request (at most MAX_NIC_RULES_BATCH): per NIC, the hash it now enforces or its error. */
  putNicRulesBatch(items: { name: string; rules: RuleSetInput }[]): Promise<NicRulesOutcome[]>;
  deleteNic(name: string): Promise<void>;
  /** The overlays the agent holds, one per VNI, each with the agent's hash of it. */
  listOverlays(): Promise<Record<string, unknown>[]>;
  /** Replaces a VNI's remote VTEPs and ARP table (idempotent). */
  putOverlay(vni: number, spec: OverlaySpecInput): Promise<Record<string, unknown>>;
  /** Idempotent: an overlay that is already gone counts as deleted. */
  deleteOverlay(vni: number): Promise<void>;
  /** Removes everything the agent manages (node cleaning); returns what it removed. */
  reset(): Promise<unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createDpuAgentClient(opts: DpuAgentClientOptions): DpuAgentClient {
  const base = opts.baseUrl.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const retries = opts.retries ?? 2;
  const retryDelayMs = opts.retryDelayMs ?? 200;

  async function once(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Awaited<ReturnType<typeof fetch>>;
    try {
      res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${opts.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        dispatcher: mgmtDispatcher(),
      });
    } catch (err) {
      const refused = mgmtRefusalIn(err);
      if (refused) throw new DpuAgentError(0, "forbidden", `DPU agent at ${base}: ${refused.message}`);
      const e = err as Error;
      const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
      throw new DpuAgentError(
        0,
        timedOut ? "timeout" : "unreachable",
        timedOut
          ? `DPU agent at ${base} did not answer ${method} ${path} within ${timeoutMs} ms`
          : `DPU agent at ${base} is unreachable: ${(e.cause as Error | undefined)?.message ?? e.message}`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
      throw new DpuAgentError(
        res.status,
        err?.code ?? `http_${res.status}`,
        `DPU agent: ${err?.message ?? (text.slice(0, 200) || res.statusText)}`,
        err?.field,
      );
    }
    return { status: res.status, json };
  }

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await once(method, path, body)).json;
      } catch (err) {
        if (!isDpuAgentError(err) || !err.transient || attempt >= retries) throw err;
        await sleep(retryDelayMs * 2 ** attempt);
      }
    }
  }

  /** GET that maps 404 to null. */
  async function getOrNull(path: string): Promise<AgentResource | null> {
    try {
      return (await call("GET", path)) as AgentResource;
    } catch (err) {
      if (isDpuAgentError(err) && err.status === 404) return null;
      throw err;
    }
  }

  /** DELETE that treats 404 as done, so compensations can run twice safely. */
  async function del(path: string): Promise<void> {
    try {
      await call("DELETE", path);
    } catch (err) {
      if (isDpuAgentError(err) && err.status === 404) return;
      throw err;
    }
  }

  const seg = (name: string) => encodeURIComponent(name);
  const items = async (path: string) => ((await call("GET", path)) as { items: AgentResource[] }).items;

  return {
    health: async () => (await call("GET", "/v1/health")) as Record<string, unknown>,
    listDisks: () => items("/v1/disks"),
    getDisk: (name) => getOrNull(`/v1/disks/${seg(name)}`),
    putDisk: async (name, spec) => (await call("PUT", `/v1/disks/${seg(name)}`, spec)) as AgentResource,
    deleteDisk: (name) => del(`/v1/disks/${seg(name)}`),
    listCidata: () => items("/v1/cidata"),
    putCidata: async (name, spec) => (await call("PUT", `/v1/cidata/${seg(name)}`, spec)) as AgentResource,
    deleteCidata: (name) => del(`/v1/cidata/${seg(name)}`),
    listNics: () => items("/v1/nics"),
    getNic: (name) => getOrNull(`/v1/nics/${seg(name)}`),
    putNic: async (name, spec) => (await call("PUT", `/v1/nics/${seg(name)}`, spec)) as AgentResource,
    putNicRules: async (name, rules) => (await call("PUT", `/v1/nics/${seg(name)}/rules`, rules)) as AgentResource,
    putNicRulesBatch: async (items) => ((await call("PUT", "/v1/nic-rules", { items })) as { items: NicRulesOutcome[] }).items,
    deleteNic: (name) => del(`/v1/nics/${seg(name)}`),
    listOverlays: async () => ((await call("GET", "/v1/overlay/vxlan")) as { items: Record<string, unknown>[] }).items,
    putOverlay: async (vni, spec) => (await call("PUT", `/v1/overlay/vxlan/${vni}`, spec)) as Record<string, unknown>,
    deleteOverlay: (vni) => del(`/v1/overlay/vxlan/${vni}`),
    reset: async () => ((await call("POST", "/v1/reset")) as { removed: unknown }).removed,
  };
}
