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

/** Starts background services (the workflow engine: queues, schedules, recovery of interrupted work). */
export async function startBackground(_opts: { dev: boolean }): Promise<string | undefined> {
  // The serial console WebSocket (/api/console/<nodeId>); see server/console/README.md.
  await (await import("./console/register")).registerConsole({ registerUpgrade, onStop });
  const { startEngine, stopEngine } = await import("./workflows/engine");
  const engine = await startEngine({ databaseUrl: process.env.DATABASE_URL! });
  stoppers.push(stopEngine);
  return `workflow engine ${engine.executorId}`;
}

export function onStop(s: Stopper) {
  stoppers.push(s);
}

export async function stopBackground(): Promise<void> {
  for (const s of stoppers.reverse()) await s().catch(() => {});
}
