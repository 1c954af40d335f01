// Raw HTTP helpers for tests and benchmarks of the lab storage service: untyped requests (so tests can
// send malformed input), plus the lab-only controls (simulated writes, fault injection) that Anvil's
// storage driver deliberately does not know about.
import { startStorageService, type StorageServiceOptions } from "./index";

export interface RawReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary JSON replies
  body: any;
  headers: Headers;
}

export interface Lab {
  url: string;
  token: string;
  dataDir: string;
  close(): Promise<void>;
  req(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawReply>;
  /** Sends `raw` verbatim as the body (malformed JSON tests). */
  reqRaw(method: string, path: string, raw: string, headers?: Record<string, string>): Promise<RawReply>;
}

export async function startLab(opts: StorageServiceOptions = {}): Promise<Lab> {
  const svc = await startStorageService({ log: () => {}, ...opts });
  const reqRaw = async (method: string, path: string, raw: string | undefined, headers: Record<string, string> = {}) => {
    const res = await fetch(svc.url + path, {
      method,
      headers: { authorization: `Bearer ${svc.token}`, ...(raw !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: raw,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return {
    ...svc,
    reqRaw,
    req: (method, path, body, headers) => reqRaw(method, path, body === undefined ? undefined : JSON.stringify(body), headers),
  };
}

/** Creates a disk pool from `disks` unassigned disks (all when omitted) and a logical pool on it. */
export async function makePools(
  lab: Lab,
  lp: { name?: string; redundancy?: unknown; thinProvisioned?: boolean; overcommitRatio?: number } = {},
  disks?: number,
): Promise<{ diskPoolId: string; logicalPoolId: string }> {
  const all = await lab.req("GET", "/v1/disks?unassigned=true&limit=1000");
  const ids = all.body.items.slice(0, disks ?? all.body.items.length).map((d: { id: string }) => d.id);
  const name = lp.name ?? `p${Math.random().toString(36).slice(2, 8)}`;
  const dp = await lab.req("POST", "/v1/disk-pools", { name, diskIds: ids });
  if (dp.status !== 201) throw new Error(`disk pool: ${JSON.stringify(dp.body)}`);
  const body: Record<string, unknown> = { name, diskPoolId: dp.body.id, redundancy: lp.redundancy ?? { type: "replica", copies: 1 } };
  if (lp.thinProvisioned !== undefined) body.thinProvisioned = lp.thinProvisioned;
  if (lp.overcommitRatio !== undefined) body.overcommitRatio = lp.overcommitRatio;
  const l = await lab.req("POST", "/v1/logical-pools", body);
  if (l.status !== 201) throw new Error(`logical pool: ${JSON.stringify(l.body)}`);
  return { diskPoolId: dp.body.id, logicalPoolId: l.body.id };
}

/** Lab control: simulate guest writes so a volume's usedBytes grows. */
export async function writeVolume(url: string, token: string, volumeId: string, bytes: number): Promise<void> {
  const res = await fetch(`${url}/v1/volumes/${volumeId}/write`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ bytes }),
  });
  if (!res.ok) throw new Error(`write failed: ${res.status} ${await res.text()}`);
}

/** Lab control: replace the fault-injection state (omitted fields reset to "no fault"). */
export async function setFaults(
  url: string,
  token: string,
  faults: { errorRate?: number; latencyMs?: number; failNext?: number; phase?: "request" | "response" },
): Promise<void> {
  const res = await fetch(`${url}/admin/faults`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  if (!res.ok) throw new Error(`faults failed: ${res.status} ${await res.text()}`);
}
