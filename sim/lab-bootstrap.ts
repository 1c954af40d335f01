// One lab bootstrap for the dev command (sim/dev-lab.ts), the tests (test/instance-lab.ts, test/storage.ts) and the
// benchmarks: point Anvil's storage driver at a lab storage service, enroll the lab's hosts through the real
// enrollment (the BMC probe included), then inspect them through the real workflow and make them available. What
// differs between the callers is a parameter: the lab's options, the node names, the pools, what happens to a host
// that does not enroll. The workflow engine must be running for the inspection.
import { eq, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes } from "@/db/schema";
import type { EnrollInput } from "@/db/validation/nodes";
import { transition } from "@/domain/node-lifecycle";
import { enrollNode } from "@/server/workflows/enroll";
import { getEngine } from "@/server/workflows/engine";
import { recordEvent } from "@/server/workflows/events";
import { catalog } from "@/server/workflows/catalog";
import { startOperation } from "@/server/workflows/start";
import { type Lab, type LabHostRow, type LabOptions, startLab, pointStorageAtLab } from "./lab";

/** Hosts enrolled at once: bounds the burst of BMC probes of a large lab. */
const ENROLL_CONCURRENCY = 20;

/** The enrollment request for one lab host row (the CSV columns an operator would upload). */
export function labEnrollInput(h: LabHostRow, node: { name: string; poolId: string | null }): EnrollInput {
  return {
    name: node.name,
    poolId: node.poolId,
    driver: h.driver,
    address: h.bmc_address,
    username: h.bmc_username,
    password: h.bmc_password,
    verifyTls: h.verify_tls,
    dedicatedPower: h.dedicated_power,
    // A DPU behind its host's BMC (cascade) has no address: its own credentials alone, and enrolment finds it there.
    dpu:
      h.dpu_bmc_address || h.dpu_bmc_password
        ? {
            address: h.dpu_bmc_address ?? "",
            username: h.dpu_bmc_username ?? "",
            password: h.dpu_bmc_password ?? "",
            agentUrl: h.agent_url ?? "",
            agentToken: h.agent_token ?? "",
          }
        : undefined,
  } as EnrollInput;
}

export interface EnrollLabOptions {
  /** the node name a host is enrolled as (default: the host's lab name) */
  name?: (h: LabHostRow) => string;
  poolId: (h: LabHostRow) => string | null;
  /** request id of the enrollment's audit rows */
  requestId: string;
}

export interface EnrolledLab {
  /** node ids by lab host name (node-0001 …) */
  nodeIds: Map<string, string>;
  /** hosts the enrollment refused, with the reason */
  failed: { host: string; message: string }[];
}

/** Enrolls lab hosts (some ENROLL_CONCURRENCY at a time); a refused host is reported, not thrown. */
export async function enrollLabHosts(db: Db, hosts: readonly LabHostRow[], opts: EnrollLabOptions): Promise<EnrolledLab> {
  const out: EnrolledLab = { nodeIds: new Map(), failed: [] };
  for (let i = 0; i < hosts.length; i += ENROLL_CONCURRENCY) {
    await Promise.all(
      hosts.slice(i, i + ENROLL_CONCURRENCY).map(async (h) => {
        const input = labEnrollInput(h, { name: opts.name?.(h) ?? h.name, poolId: opts.poolId(h) });
        const r = await enrollNode(db, input, { principal: null, requestId: opts.requestId });
        if (r.ok) out.nodeIds.set(h.name, r.nodeId);
        else out.failed.push({ host: h.name, message: r.message });
      }),
    );
  }
  return out;
}

/**
 * Inspects enrolled hosts through the node-inspect workflow, then provides the ones it left manageable (available
 * for tenants). `event`: a hardware event recorded for each host made available, saying who did it.
 */
export async function inspectAndProvide(db: Db, ids: readonly string[], opts: { createdBy: string | null; event?: string }): Promise<void> {
  await Promise.all(
    ids.map(async (id) => {
      const [n] = await db.select({ name: nodes.name }).from(nodes).where(eq(nodes.id, id));
      if (!n) return;
      await db
        .update(nodes)
        .set({ provisionState: transition("manageable", "inspect") })
        .where(eq(nodes.id, id));
      const op = await startOperation(db, catalog.nodeInspect, { target: { id, name: n.name }, createdBy: opts.createdBy, args: (opId) => [id, opId] });
      await op.enqueue();
      await getEngine().result(op.id);
      const [after] = await db.select({ provisionState: nodes.provisionState }).from(nodes).where(eq(nodes.id, id));
      if (after?.provisionState !== "manageable") return;
      await db
        .update(nodes)
        .set({ provisionState: transition("manageable", "provide") })
        .where(eq(nodes.id, id));
      if (opts.event) await recordEvent(db, id, { kind: "lifecycle", severity: "info", message: `manageable --provide--> available (${opts.event})` });
    }),
  );
}

/** Which of these node names are enrolled already. */
async function enrolledNames(db: Db, names: readonly string[]): Promise<Set<string>> {
  if (!names.length) return new Set();
  const rows = await db
    .select({ name: nodes.name })
    .from(nodes)
    .where(inArray(nodes.name, [...names]));
  return new Set(rows.map((r) => r.name));
}

export interface BootstrapOptions extends Omit<EnrollLabOptions, "poolId"> {
  lab: LabOptions;
  /** the pool id a host is enrolled into, by the host's lab pool name */
  poolId: (labPool: string) => string | null;
  /** enroll only the first n hosts (default all) */
  enroll?: number;
  /** skip the hosts whose node name is enrolled already (a restarted dev lab finds them again) */
  skipEnrolled?: boolean;
  /** called once the lab is up, before anything is enrolled (e.g. to write its manifest) */
  started?: (lab: Lab) => void | Promise<void>;
  /** createdBy of the inspect operations; also said in the "available" event when `event` is set */
  createdBy: string | null;
  event?: string;
}

export interface BootstrappedLab extends EnrolledLab {
  lab: Lab;
  /** how many of the wanted hosts were enrolled before (skipEnrolled) */
  skipped: number;
}

/**
 * Starts a lab, points the storage driver at its storage service, enrolls its hosts (or the first `enroll` of them,
 * but for those enrolled before when `skipEnrolled`), inspects them and makes them available. On a refused host it goes on: the caller decides.
 */
export async function bootstrapLab(db: Db, opts: BootstrapOptions): Promise<BootstrappedLab> {
  const lab = await startLab(opts.lab);
  try {
    pointStorageAtLab(lab.storage);
    await opts.started?.(lab);
    const name = opts.name ?? ((h: LabHostRow) => h.name);
    const want = lab.hosts.slice(0, opts.enroll ?? lab.hosts.length);
    const have = opts.skipEnrolled ? await enrolledNames(db, want.map(name)) : new Set<string>();
    const fresh = want.filter((h) => !have.has(name(h)));
    const enrolled = await enrollLabHosts(db, fresh, { name, poolId: (h) => opts.poolId(h.pool), requestId: opts.requestId });
    await inspectAndProvide(db, [...enrolled.nodeIds.values()], { createdBy: opts.createdBy, event: opts.event });
    return { lab, ...enrolled, skipped: want.length - fresh.length };
  } catch (e) {
    await lab.close();
    throw e;
  }
}
