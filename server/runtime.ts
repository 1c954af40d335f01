// What runs beside the HTTP handler in each BFF process: WebSocket upgrades (the serial console, later) and
// background services (the dev lab, workflows, BMC polling). server.ts calls these; each later feature
// registers itself here.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
type Stopper = () => Promise<void>;

const upgradeHandlers: UpgradeHandler[] = [];
const stoppers: Stopper[] = [];

export function registerUpgrade(h: UpgradeHandler) {
  upgradeHandlers.push(h);
}

/** Returns true when one of our handlers took the upgrade (otherwise Next's HMR may take it). */
export function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  return upgradeHandlers.some((h) => h(req, socket, head));
}

/**
 * What a lab beside Anvil needs from the start: its loopback addresses allowed on the management network before the
 * engine starts polling, then starting once the engine runs. The lab composes the product, not the reverse: server.ts
 * hands it in (sim/dev-lab.ts labFromEnv), so nothing in server/ imports the lab.
 */
export interface BackgroundLab {
  allowAddresses(): void;
  start(): Promise<{ summary: string; close(): Promise<void> }>;
}

/**
 * Starts background services: the serial console WebSocket, the workflow engine (queues, schedules, recovery of
 * interrupted work) and, when given, the lab with its hosts enrolled and ready. Returns lines for the start banner.
 */
export async function startBackground(opts: { dev: boolean; lab?: BackgroundLab }): Promise<string[]> {
  // The serial console WebSocket (/api/console/<nodeId>); see server/console/README.md.
  await (await import("./console/register")).registerConsole({ registerUpgrade, onStop });
  // The lab lives on loopback, which the management-network policy refuses unless allowed (server/lib/mgmt-network.ts);
  // allowed before the engine starts polling. A malformed ANVIL_MGMT_ALLOW / ANVIL_MGMT_DENY stops the start here.
  opts.lab?.allowAddresses();
  // Not ready until the lab is up: marked before the engine starts, which makes /readyz answer "ok" once it runs, so
  // no poller sees the gap between the two as ready.
  const g = globalThis as { __anvilLabStarting?: boolean };
  if (opts.lab) g.__anvilLabStarting = true;
  const mgmt = (await import("./lib/mgmt-network")).mgmtPolicy();
  const { startEngine, stopEngine } = await import("./workflows/engine");
  const { workflows } = await import("./workflows/registry");
  const engine = await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL! });
  stoppers.push(stopEngine);
  const lines = [`Workflow engine: ${engine.executorId}`, `Management network: ${mgmt.summary}`];
  if (opts.lab) {
    const lab = await opts.lab.start();
    g.__anvilLabStarting = false;
    stoppers.push(lab.close);
    lines.push(`Lab: ${lab.summary}`);
  }
  // Live BMC events (event streams of the BMCs of this process's shards; docs/operations.md "Live BMC events").
  const live = (await import("./live-events/service")).startLiveEvents();
  stoppers.push(() => live.stop());
  // Storage work interrupted by an earlier crash is finished (or undone) now, then every 5 minutes by schedule.
  const { reconcileNow } = await import("./workflows/maintenance");
  await reconcileNow().catch((e) => lines.push(`Storage reconcile failed: ${(e as Error).message}`));
  return lines;
}

export function onStop(s: Stopper) {
  stoppers.push(s);
}

export async function stopBackground(): Promise<void> {
  for (const s of stoppers.reverse()) await s().catch(() => {});
}
