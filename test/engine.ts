// Test helper: the real workflow engine for a workflow test file, with the fixtures, started before the file's tests
// and stopped after them; optionally with a provisioning-ready instance lab (test/instance-lab.ts). Hooks a file
// registers before calling these run before them and are torn down after them (e.g. simulators the engine drives).
import { DBOS } from "@dbos-inc/dbos-sdk";
import { afterAll, beforeAll } from "vitest";
import { startEngine, stopEngine } from "../server/workflows/engine";
import { startEngineClient, stopEngineClient } from "../server/workflows/engine-client";
import { workflows } from "../server/workflows/registry";
import { uniq, useTestDb } from "./db";
import { type Fixtures, makeFixtures } from "./fixtures";
import { type InstanceLab, startInstanceLab } from "./instance-lab";

async function startWorkflows(executor: string) {
  const executorId = `${executor}-${uniq()}`;
  await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId, schedules: false });
  // The test files share one database, and each file's engine has an executor id of its own that never comes back.
  // A reconciler pass (rules, overlay: queues of concurrency 1) that an earlier file's engine had dequeued when it
  // stopped stays PENDING under that dead executor and holds its queue for good — in production the replica
  // heartbeats hand such work to a live replica. Passes are recomputed from the database, so the orphans go.
  const orphans = await DBOS.listWorkflows({ queueName: ["rules", "overlay"], status: ["PENDING", "ENQUEUED"] });
  for (const w of orphans) if (w.executorId && w.executorId !== executorId) await DBOS.cancelWorkflow(w.workflowID);
}

/**
 * The fixtures and the engine running every workflow in this process (executor id `<executor>-<random>`), with `env`
 * set first. The fixtures object is filled in when the hook runs: read it in tests and later hooks.
 */
export function useEngine(executor: string, env: Record<string, string> = {}): Fixtures {
  const fx = {} as Fixtures;
  beforeAll(async () => {
    Object.assign(process.env, env);
    Object.assign(fx, await makeFixtures(useTestDb()));
    await startWorkflows(executor);
  }, 60_000);
  afterAll(async () => {
    await stopEngine();
  });
  return fx;
}

/**
 * The fixtures, the engine and an instance lab of `hosts` hosts (set up by workflows run here). With `clientOnly`
 * this process then stops running workflows and only enqueues them (worker processes run them).
 */
export function useEngineLab(opts: { executor: string; hosts: number; env?: Record<string, string>; clientOnly?: boolean }): { fx: Fixtures; L: InstanceLab } {
  const fx = {} as Fixtures;
  const L = {} as InstanceLab;
  beforeAll(async () => {
    Object.assign(process.env, opts.env);
    Object.assign(fx, await makeFixtures(useTestDb()));
    await startWorkflows(opts.executor);
    Object.assign(L, await startInstanceLab(fx, { hosts: opts.hosts }));
    if (opts.clientOnly) {
      await stopEngine();
      await startEngineClient({ databaseUrl: process.env.DATABASE_URL! });
    }
  }, 120_000);
  afterAll(async () => {
    await (opts.clientOnly ? stopEngineClient() : stopEngine());
    await L.close?.();
  });
  return { fx, L };
}

/** The tenant's instances.create input on the lab: a new name, the lab's pool, image and subnet; `extra` adds or overrides. */
export const instanceInput = (fx: Fixtures, L: InstanceLab, extra: Record<string, unknown> = {}) => ({
  tenant: fx.tenant.slug,
  name: uniq("srv"),
  poolId: L.poolId,
  imageId: L.imageId,
  subnetId: L.subnetId,
  ...extra,
});
