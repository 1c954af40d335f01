// An enqueue-only engine: a process that serves requests but runs no workflows (a web-only replica, or a test
// driving separate worker processes) starts workflows through DBOS's client, straight into the shared queues in
// Postgres; whichever replica polls the queue first runs them. Installs itself as the process's engine, so routers
// (which call getEngine().enqueue) work unchanged.
import { DBOSClient } from "@dbos-inc/dbos-sdk";
import type { Engine, EnqueueOptions } from "./engine";

const g = globalThis as unknown as { __anvilEngine?: Engine; __anvilEngineClient?: DBOSClient };

export async function startEngineClient(opts: { databaseUrl: string; executorId?: string }): Promise<Engine> {
  if (g.__anvilEngine) return g.__anvilEngine;
  const client = await DBOSClient.create({
    systemDatabaseUrl: opts.databaseUrl,
    systemDatabaseSchemaName: "dbos",
    systemDatabasePoolSize: 4,
    applicationName: "anvil",
  });
  const engine: Engine = {
    executorId: opts.executorId ?? "enqueue-only",
    async enqueue(name: string, args: unknown[], o: EnqueueOptions = {}) {
      const h = await client.enqueue({ workflowName: name, queueName: o.queue ?? "nodes", workflowID: o.workflowID }, ...args);
      return h.workflowID;
    },
    async result<T>(id: string) {
      return (await client.retrieveWorkflow<T>(id).getResult()) as T;
    },
    async cancel(id: string) {
      await client.cancelWorkflow(id);
    },
  };
  g.__anvilEngine = engine;
  g.__anvilEngineClient = client;
  return engine;
}

export async function stopEngineClient(): Promise<void> {
  const client = g.__anvilEngineClient;
  if (!client) return;
  g.__anvilEngine = undefined;
  g.__anvilEngineClient = undefined;
  await client.destroy();
}
