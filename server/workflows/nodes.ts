// Durable hardware workflows: bulk enroll, inspect (with DPU discovery), power (with parent/child coupling),
// DPU firmware/OS update with task progress. Each runs on the engine's "nodes" queue and reports on an operation.
// Workflow inputs, step outputs and errors are kept by the engine in its tables for good, so none of them ever carries
// a credential: the bulk-enroll CSV arrives sealed and is unsealed inside the one step that uses it, steps return
// nodes without their (sealed) credentials, and drivers are made from a fresh read of the nodes table.
import crypto from "node:crypto";
import { and, eq, gte, sql } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import { getDb } from "@/db/client";
import { nodes, operations, pools } from "@/db/schema";
import { type EnrollInput, normaliseBmcAddress } from "@/db/validation/nodes";
import { DBOS } from "@dbos-inc/dbos-sdk";
import { type CsvRow, parseEnrollCsv } from "@/domain/enroll-csv";
import { type ProvisionState, transition } from "@/domain/node-lifecycle";
import { type BmcDriver, type BmcInventory, type PowerAction, createBmcDriver } from "@/server/drivers/bmc";
import { createDpuAgentClient } from "@/server/drivers/dpu-agent/client";
import { logger } from "@/server/lib/log";
import { checkMgmtTarget } from "@/server/lib/mgmt-network";
import { unseal } from "@/server/lib/secrets";
import { DPU_CREDENTIALS_NEEDED, driverFor } from "./bmc-access";
import { cascadeUrls, type EnrollResult, dpuBmcUrls, enrollNode, probeMessage, shardOf } from "./enroll";
import { type BulkActor, catalog } from "./catalog";
import { step } from "./engine";
import { recordEvent } from "./events";
import { readSel } from "./sel";
import { finishOperation, setProgress } from "./operations";
import { defineSaga } from "./saga";

type NodeRow = typeof nodes.$inferSelect;

async function loadNode(id: string): Promise<NodeRow> {
  const [n] = await getDb().select().from(nodes).where(eq(nodes.id, id));
  if (!n) throw new Error("The node no longer exists.");
  return n;
}

/** A node as a step may return it (the engine keeps step outputs): without its credentials, sealed or not. */
export type NodeInfo = Omit<NodeRow, "bmcCredentials" | "agentToken">;
export async function loadNodeInfo(id: string): Promise<NodeInfo> {
  const { bmcCredentials: _c, agentToken: _t, ...info } = await loadNode(id);
  return info;
}

/** The node's BMC driver, from a fresh read of its (sealed) credentials — never from a step's recorded output. */
export async function bmcOf(id: string): Promise<BmcDriver> {
  return driverFor(await loadNode(id));
}

function inventorySummary(inv: BmcInventory): Record<string, unknown> {
  const { raw: _raw, ...rest } = inv;
  return rest as unknown as Record<string, unknown>;
}

/**
 * The host's firmware components (BMC, BIOS, NICs) from the BMC's UpdateService; a BMC without one (IPMI) tells only
 * its own firmware revision (mc info). null when the BMC says nothing: a missing inventory never fails an inspection.
 */
async function firmwareOfHost(d: BmcDriver, inv: BmcInventory): Promise<{ id: string; name: string; version: string }[] | null> {
  if (d.firmware) return d.firmware.inventory().catch(() => null);
  return inv.bmc.firmwareVersion ? [{ id: "BMC", name: "BMC firmware", version: inv.bmc.firmwareVersion }] : null;
}

/** Applies a lifecycle event if the node is still where we expect (another actor may have moved it). */
async function applyEvent(nodeId: string, event: Parameters<typeof transition>[1], extra: Partial<NodeRow> = {}) {
  const db = getDb();
  await db.transaction(async (tx) => {
    const [n] = await tx.select({ s: nodes.provisionState }).from(nodes).where(eq(nodes.id, nodeId)).for("update");
    if (!n) return;
    const to = transition(n.s as ProvisionState, event);
    await tx
      .update(nodes)
      .set({ provisionState: to, ...extra })
      .where(eq(nodes.id, nodeId));
    await recordEvent(tx, nodeId, { kind: "lifecycle", severity: event.endsWith("failed") ? "warning" : "info", message: `${n.s} --${event}--> ${to}` });
  });
}

// ------------------------------------------------------------------------------------------------
// Bulk enroll from CSV: rows are probed with bounded concurrency; the result lists every row. The CSV (BMC passwords,
// agent tokens) arrives sealed (server/lib/secrets.ts) and is unsealed only inside the "enroll rows" step, whose output
// is the per-row result: the engine's tables never hold it in plaintext.
// ------------------------------------------------------------------------------------------------
type RowResult = { line: number; name: string; ok: boolean; message: string; nodeId?: string };

export const bulkEnroll = defineSaga(catalog.nodeEnrollBulk, {
  async run(saga, opId, sealedCsv, actor) {
    const rows = await saga.step("enroll rows", () => enrollRows(opId, sealedCsv, actor));
    const ok = rows.filter((r) => r.ok).length;
    await step("finish", () =>
      finishOperation(saga.db, opId, ok === rows.length ? "succeeded" : ok === 0 ? "failed" : "succeeded", {
        error: ok === rows.length ? undefined : `${rows.length - ok} of ${rows.length} rows were not enrolled`,
        result: { enrolled: ok, failed: rows.length - ok, rows },
      }),
    );
  },
});

async function enrollRows(opId: string, sealedCsv: string, actor: BulkActor): Promise<RowResult[]> {
  const db = getDb();
  // A run enqueued before CSVs were sealed carries the text itself (a CSV never starts with "v1.").
  const parsed = parseEnrollCsv(sealedCsv.startsWith("v1.") ? unseal(sealedCsv) : sealedCsv);
  if ("error" in parsed) throw new Error(parsed.error);
  const [op] = await db.select({ createdAt: operations.createdAt }).from(operations).where(eq(operations.id, opId));
  const poolRows = await db.select({ id: pools.id, name: pools.name }).from(pools);
  const poolByName = new Map(poolRows.map((p) => [p.name.toLowerCase(), p.id]));
  const principal = actor.userId ? { userId: actor.userId, email: actor.email ?? "", name: "", platformRole: null, sessionId: null, tokenScope: null } : null;
  const out: RowResult[] = [];
  let done = 0;
  const rows = parsed.rows;
  const work = async (row: CsvRow): Promise<RowResult> => {
    if (!row.ok) return { line: row.line, name: row.name, ok: false, message: row.error };
    const poolId = row.pool ? poolByName.get(row.pool.toLowerCase()) : null;
    if (row.pool && !poolId) return { line: row.line, name: row.name, ok: false, message: `pool: no pool named ${row.pool}` };
    // A re-run after a crash finds the rows it enrolled before: that name at that BMC, enrolled since this run began.
    const done = op && (await enrolledSince(row.input as EnrollInput, op.createdAt));
    if (done) return { line: row.line, name: row.name, ok: true, message: done.withDpu ? "enrolled with its DPU" : "enrolled", nodeId: done.id };
    const r: EnrollResult = await enrollNode(db, { ...row.input, poolId: poolId ?? null } as EnrollInput, { principal, requestId: actor.requestId });
    return r.ok
      ? { line: row.line, name: row.name, ok: true, message: r.dpuId ? "enrolled with its DPU" : "enrolled", nodeId: r.nodeId }
      : { line: row.line, name: row.name, ok: false, message: `${r.field}: ${r.message}` };
  };
  const concurrency = Number(process.env.ANVIL_ENROLL_CONCURRENCY ?? 32);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, rows.length) }, async () => {
      while (next < rows.length) {
        const i = next++;
        out[i] = await work(rows[i]!);
        if (++done % 50 === 0) await setProgress(db, opId, (done / rows.length) * 100);
      }
    }),
  );
  return out;
}

/** The node enrolled for this input (same name, same BMC) at or after `since`, if any. */
async function enrolledSince(input: EnrollInput, since: Date): Promise<{ id: string; withDpu: boolean } | null> {
  const address = normaliseBmcAddress(input.driver, input.address);
  if (!address.ok) return null;
  const db = getDb();
  const [n] = await db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.name, input.name), eq(nodes.bmcAddress, address.value), gte(nodes.createdAt, since)));
  if (!n) return null;
  const [dpu] = await db.select({ id: nodes.id }).from(nodes).where(eq(nodes.parentNodeId, n.id));
  return { id: n.id, withDpu: !!dpu };
}

/**
 * Drops finished bulk enrollments from the engine's tables (their operation row keeps every row's result). Runs at
 * engine start: runs from before CSVs were sealed carry BMC passwords and agent tokens in plaintext in their input and
 * step outputs, and a finished run has nothing left to recover.
 */
export async function forgetFinishedBulkEnrolls(): Promise<number> {
  const done = await DBOS.listWorkflows({
    workflowName: "node.enroll_bulk",
    status: ["SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"],
    loadInput: false,
    loadOutput: false,
  });
  if (done.length) await DBOS.deleteWorkflows(done.map((w) => w.workflowID));
  if (done.length) logger.info({ count: done.length }, "finished bulk enrollments dropped from the engine's tables");
  return done.length;
}

// ------------------------------------------------------------------------------------------------
// Inspect: read inventory through the BMC, discover the DPU(s) and create/update them as children.
// ------------------------------------------------------------------------------------------------
/** Whether two BMC URLs are on the same BMC (scheme, host and port). */
function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** A DPU the inspection found: read through its BMC with its own credentials, or recorded as waiting for them. */
type DiscoveredDpu =
  | { address: string; credentialsNeeded: true; cascade: boolean }
  | {
      address: string;
      credentialsNeeded: false;
      /** Behind the host's BMC (a cascade): reached through its proxy, with the DPU BMC's own credentials. */
      cascade: boolean;
      /** A system of the host's own BMC, recorded with that BMC's credentials. */
      hostBmc: boolean;
      power: string;
      health: string;
      inventory: Record<string, unknown>;
      firmware: unknown;
      agentUrl: string | null;
    };

export const inspectNode = defineSaga(catalog.nodeInspect, {
  async run(saga, nodeId, opId) {
    const db = saga.db;
    await step("load", () => loadNodeInfo(nodeId));
    const inv = await saga.step("read inventory", async () => {
      const d = await bmcOf(nodeId);
      const inventory = await d.getInventory();
      const power = await d.getPowerState();
      const health = await d.getHealth();
      const firmware = await firmwareOfHost(d, inventory);
      return { inventory: { ...inventorySummary(inventory), firmware } as unknown as BmcInventory, power, health };
    });
    const dpus = await saga.step("discover DPUs", async () => {
      const urls = new Set(dpuBmcUrls(inv.inventory));
      const cascaded = new Set(cascadeUrls(inv.inventory));
      const host = await loadNode(nodeId);
      const existing = await db
        .select()
        .from(nodes)
        .where(and(eq(nodes.parentNodeId, nodeId), eq(nodes.kind, "dpu")));
      for (const e of existing) urls.add(e.bmcAddress);
      const found: DiscoveredDpu[] = [];
      for (const raw of urls) {
        // A child keeps the protocol it was enrolled with (an IPMI DPU BMC's address is host:port); what the host's
        // Redfish BMC names is a Redfish URL.
        const known = existing.find((e) => e.bmcAddress === raw);
        const norm = known ? { ok: true as const, value: known.bmcAddress } : normaliseBmcAddress("redfish", raw);
        if (!norm.ok) continue;
        const prior = known ?? existing.find((e) => e.bmcAddress === norm.value);
        // A DPU's BMC is called only with its own credentials: one found now, or one still waiting for them, is
        // recorded without calling it (the host's credentials are never tried on another BMC). A DPU that is a system
        // of the host's own BMC (DMTF public-smartnic) is reached with that BMC's credentials: the same BMC.
        // A DPU behind the host's BMC (a cascade) is on the same origin but is another BMC, with credentials of its own.
        const cascade = cascaded.has(norm.value) || prior?.bmcAccess === "cascade";
        const sameBmc = !prior && !cascade && sameOrigin(norm.value, host.bmcAddress);
        if (!prior?.bmcCredentials && !sameBmc) {
          found.push({ address: norm.value, credentialsNeeded: true, cascade });
          continue;
        }
        const creds = JSON.parse(unseal(prior?.bmcCredentials ?? host.bmcCredentials!));
        const d: BmcDriver = createBmcDriver({
          driver: prior?.bmcDriver ?? "redfish",
          address: norm.value,
          credentials: creds,
          verifyTls: host.bmcVerifyTls,
          timeoutMs: 10_000,
        });
        try {
          const di = await d.getInventory();
          const firmware = (d as BmcDriver & { firmware?: { inventory(): Promise<unknown> } }).firmware
            ? await (d as BmcDriver & { firmware: { inventory(): Promise<unknown> } }).firmware.inventory().catch(() => null)
            : null;
          found.push({
            address: norm.value,
            credentialsNeeded: false,
            cascade,
            hostBmc: sameBmc,
            power: await d.getPowerState(),
            health: (await d.getHealth()).health,
            inventory: inventorySummary(di),
            firmware,
            agentUrl: (di as BmcInventory & { agentUrl?: string | null }).agentUrl ?? null,
          });
        } catch (e) {
          throw new Error(`The DPU BMC at ${norm.value} did not answer: ${probeMessage(e, norm.value)}`);
        } finally {
          await d.close().catch(() => {});
        }
      }
      return found;
    });
    await saga.step("record", async () => {
      await db.transaction(async (tx) => {
        const [h] = await tx.select().from(nodes).where(eq(nodes.id, nodeId)).for("update");
        if (!h) throw new Error("The node was deleted during inspection.");
        await tx
          .update(nodes)
          .set({
            inventory: inv.inventory as unknown as Record<string, unknown>,
            powerState: inv.power,
            health: inv.health.health,
            inspectedAt: new Date(),
            bmcSeenAt: new Date(),
          })
          .where(eq(nodes.id, nodeId));
        const children = await tx.select().from(nodes).where(eq(nodes.parentNodeId, nodeId));
        let n = children.length;
        for (const f of dpus) {
          const prior = children.find((c) => c.bmcAddress === f.address);
          if (f.credentialsNeeded) {
            if (prior) continue;
            const id = crypto.randomUUID();
            await tx.insert(nodes).values({
              id,
              name: n === 0 ? `${h.name}-dpu` : `${h.name}-dpu${n + 1}`,
              kind: "dpu",
              parentNodeId: nodeId,
              poolId: h.poolId,
              bmcDriver: "redfish",
              bmcAddress: f.address,
              bmcAccess: f.cascade ? "cascade" : "direct",
              bmcVerifyTls: h.bmcVerifyTls,
              provisionState: "manageable",
              fault: DPU_CREDENTIALS_NEEDED,
              syncShard: shardOf(id),
            });
            n++;
            await recordEvent(tx, id, {
              kind: "lifecycle",
              severity: "warning",
              message: `Discovered as a DPU of ${h.name} ${f.cascade ? `behind its BMC (cascade, at ${f.address})` : `at ${f.address}`}; its BMC waits for its own credentials (the host's are not reused).`,
            });
            continue;
          }
          const inventory = { ...f.inventory, firmware: f.firmware };
          if (prior) {
            await tx
              .update(nodes)
              .set({
                inventory,
                powerState: f.power,
                health: f.health,
                agentUrl: prior.agentUrl ?? f.agentUrl,
                bmcAccess: f.cascade ? "cascade" : prior.bmcAccess,
                inspectedAt: new Date(),
                bmcSeenAt: new Date(),
              })
              .where(eq(nodes.id, prior.id));
            continue;
          }
          if (!f.hostBmc) continue;
          const id = crypto.randomUUID();
          await tx.insert(nodes).values({
            id,
            name: n === 0 ? `${h.name}-dpu` : `${h.name}-dpu${n + 1}`,
            kind: "dpu",
            parentNodeId: nodeId,
            poolId: h.poolId,
            bmcDriver: "redfish",
            bmcAddress: f.address,
            bmcVerifyTls: h.bmcVerifyTls,
            bmcCredentials: h.bmcCredentials,
            bmcCredentialsFingerprint: h.bmcCredentialsFingerprint,
            provisionState: "manageable",
            powerState: f.power,
            health: f.health,
            inventory,
            agentUrl: f.agentUrl,
            inspectedAt: new Date(),
            bmcSeenAt: new Date(),
            syncShard: shardOf(id),
          });
          n++;
          await recordEvent(tx, id, { kind: "lifecycle", severity: "info", message: `Discovered as a DPU of ${h.name} at ${f.address}, a system of its BMC.` });
        }
      });
    });
    // Each DPU's underlay address (VTEP), as its agent reports it (GET /v1/health underlayIp); an operator's value
    // wins. An agent that does not answer leaves the recorded value as it was: inspection does not depend on it.
    await step("read DPU underlay", () => recordUnderlayIps(nodeId));
    // The BMC's log so far, into the node's events (no duplicates on a re-run: sel.ts). Inspection does not depend on
    // it: a BMC whose log cannot be read is inspected all the same, and the sync reads the log again later.
    await step("read SEL", () =>
      readSel(nodeId).catch((e: Error) => {
        logger.warn({ node: nodeId, err: e.message }, "SEL not read at inspect");
        return 0;
      }),
    );
    await step("finish", async () => {
      // A re-run after a crash finds the node inspected already.
      if ((await loadNode(nodeId)).provisionState === "inspecting") await applyEvent(nodeId, "inspected", { lastError: null });
      await finishOperation(db, opId, "succeeded", { result: { dpus: dpus.map((d) => d.address) } });
    });
  },
  async failed({ reason: msg }, nodeId) {
    await applyEvent(nodeId, "inspect_failed", { lastError: msg }).catch(() => {});
    await recordEvent(getDb(), nodeId, { kind: "lifecycle", severity: "warning", message: `Inspection failed: ${msg}` }).catch(() => {});
  },
});

/** Asks each DPU agent of the host for its underlay address and records it where no operator set one. */
export async function recordUnderlayIps(hostId: string): Promise<void> {
  const db = getDb();
  const dpus = await db
    .select()
    .from(nodes)
    .where(and(eq(nodes.parentNodeId, hostId), eq(nodes.kind, "dpu")));
  for (const d of dpus) {
    if (!d.agentUrl || !d.agentToken || d.underlayIpSource === "operator") continue;
    const reported = await createDpuAgentClient({ baseUrl: d.agentUrl, token: unseal(d.agentToken), timeoutMs: 5000, retries: 0 })
      .health()
      .then((h) => h.underlayIp)
      .catch((e: Error) => {
        logger.warn({ dpu: d.name, error: e.message }, "DPU agent did not report its underlay address at inspect");
        return undefined;
      });
    if (typeof reported !== "string" || !ipaddr.isValid(reported)) continue;
    const ip = ipaddr.parse(reported).toString();
    if (ip === d.underlayIp) continue;
    await db
      .update(nodes)
      .set({ underlayIp: ip, underlayIpSource: "agent" })
      .where(and(eq(nodes.id, d.id), sql`${nodes.underlayIpSource} is distinct from 'operator'`));
    await recordEvent(db, d.id, { kind: "lifecycle", severity: "info", message: `Underlay address (VTEP) ${ip}, as the DPU agent reports it.` });
  }
}

// ------------------------------------------------------------------------------------------------
// Power, with Ironic's parent/child coupling: a DPU needs its host powered; a host powering off takes its
// DPUs down unless they have a dedicated supply.
// ------------------------------------------------------------------------------------------------
const TARGET: Record<PowerAction, "on" | "off"> = { on: "on", off: "off", soft_off: "off", reboot: "on", soft_reboot: "on", power_cycle: "on", nmi: "on" };

export async function waitPower(nodeId: string, want: "on" | "off", timeoutMs: number): Promise<string> {
  const d = await bmcOf(nodeId);
  const deadline = Date.now() + timeoutMs;
  let s = "unknown";
  while (Date.now() < deadline) {
    s = await d.getPowerState();
    if (s === want) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`The BMC accepted the request but the power is still ${s} after ${Math.round(timeoutMs / 1000)} s.`);
}

export async function recordPower(nodeId: string, power: string, why: string) {
  const db = getDb();
  const [before] = await db.select({ p: nodes.powerState }).from(nodes).where(eq(nodes.id, nodeId));
  await db.update(nodes).set({ powerState: power, powerChangedAt: new Date(), bmcSeenAt: new Date() }).where(eq(nodes.id, nodeId));
  if (before && before.p !== power) await recordEvent(db, nodeId, { kind: "power", severity: "info", message: `Power ${before.p} → ${power} (${why}).` });
}

export const powerNode = defineSaga(catalog.nodePower, {
  async run(saga, nodeId, action, opId, actorEmail) {
    const db = saga.db;
    const n = await step("load", () => loadNodeInfo(nodeId));
    const who = actorEmail ? `by ${actorEmail}` : "by Anvil";
    if (n.kind === "dpu" && TARGET[action] === "on" && n.parentNodeId) {
      const parent = await step("load host", () => loadNodeInfo(n.parentNodeId!));
      if (parent.powerState !== "on") {
        await saga.step("power on the host first", async () => {
          await (await bmcOf(parent.id)).setPower("on");
          const s = await waitPower(parent.id, "on", 120_000);
          await recordPower(parent.id, s, `for its DPU ${n.name}`);
        });
      }
    }
    await saga.step(`request ${action.replace("_", " ")}`, async () => (await bmcOf(n.id)).setPower(action), { retries: 1 });
    if (action !== "nmi") {
      await saga.step(`wait until ${TARGET[action]}`, async () => {
        const s = await waitPower(n.id, TARGET[action], action === "soft_off" ? 300_000 : 120_000);
        await recordPower(n.id, s, `${action.replace("_", " ")} ${who}`);
      });
    }
    if (n.kind === "host" && TARGET[action] === "off") {
      await saga.step("DPUs follow their host", async () => {
        const kids = await db
          .select()
          .from(nodes)
          .where(and(eq(nodes.parentNodeId, n.id), eq(nodes.dedicatedPower, false)));
        for (const k of kids) await recordPower(k.id, "off", `host ${n.name} powered off and the DPU has no dedicated supply`);
      });
    }
    await step("finish", () => finishOperation(db, opId, "succeeded"));
  },
  async failed({ reason: msg }, nodeId) {
    await getDb().update(nodes).set({ lastError: msg }).where(eq(nodes.id, nodeId));
  },
});

// ------------------------------------------------------------------------------------------------
// DPU firmware / OS update through UpdateService.SimpleUpdate, following the BMC's task to the end.
// ------------------------------------------------------------------------------------------------
interface FirmwareCap {
  inventory(): Promise<{ id: string; name?: string; version: string }[]>;
  simpleUpdate(imageUri: string, targets?: string[]): Promise<{ taskUrl: string }>;
  taskStatus(taskUrl: string): Promise<{ state: "running" | "completed" | "failed"; percent: number | null; messages: string[] }>;
}

export const firmwareUpdate = defineSaga(catalog.dpuFirmwareUpdate, {
  async run(saga, dpuId, imageUri, targets, opId) {
    const db = saga.db;
    const n = await step("load", () => loadNodeInfo(dpuId));
    const fw = async () => {
      const cap = ((await bmcOf(dpuId)) as BmcDriver & { firmware?: FirmwareCap }).firmware;
      if (!cap) throw new Error(`The ${n.bmcDriver} BMC of ${n.name} offers no firmware update service.`);
      return cap;
    };
    const { taskUrl } = await saga.step("start update", async () => {
      // Checked again when the update starts (the request was checked too): the name may resolve elsewhere by now.
      const where = await checkMgmtTarget(imageUri);
      if (!where.ok) throw new Error(where.message);
      return (await fw()).simpleUpdate(imageUri, targets.length ? targets : undefined);
    });
    await step("event", () =>
      recordEvent(db, dpuId, { kind: "firmware", severity: "info", message: `Update from ${imageUri} started (${targets.join(", ") || "all components"}).` }),
    );
    await saga.step("apply", async () => {
      for (;;) {
        const t = await (await fw()).taskStatus(taskUrl);
        if (t.percent !== null) await setProgress(db, opId, t.percent);
        if (t.state === "completed") return;
        if (t.state === "failed") throw new Error(`The BMC reports the update failed: ${t.messages.join("; ") || "no message"}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    const versions = await saga.step("read new versions", async () => {
      const v = await (await fw()).inventory();
      const [row] = await db.select({ inventory: nodes.inventory }).from(nodes).where(eq(nodes.id, dpuId));
      await db
        .update(nodes)
        .set({ inventory: { ...(row?.inventory ?? {}), firmware: v } })
        .where(eq(nodes.id, dpuId));
      return v;
    });
    await step("finish", async () => {
      await recordEvent(db, dpuId, {
        kind: "firmware",
        severity: "ok",
        message: `Update finished: ${versions.map((v) => `${v.id} ${v.version}`).join(", ")}.`,
      });
      await finishOperation(db, opId, "succeeded", { result: { versions } });
    });
  },
  async failed({ reason: msg }, dpuId) {
    await recordEvent(getDb(), dpuId, { kind: "firmware", severity: "warning", message: `Update failed: ${msg}` });
  },
});
