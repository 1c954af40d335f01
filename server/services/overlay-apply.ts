// The instance workflows' side of the VXLAN overlay: after an instance gained or lost its NIC on a DPU (create,
// delete, recovery onto a spare, rebuild), `applyOverlaySoon()` enqueues an overlay pass (server/workflows/overlay.ts)
// so the other DPUs of the VNI learn the change at once instead of at the next sweep.
import { logger } from "@/server/lib/log";
import { catalog } from "@/server/workflows/catalog";
import { engineRunning } from "@/server/workflows/engine";
import { enqueuePass } from "@/server/workflows/start";

/** Enqueues an overlay pass (or finds one waiting: enqueuePass). Never fails the caller: without an engine here, or if the enqueue fails, the sweep does it. */
export async function applyOverlaySoon(): Promise<void> {
  if (!engineRunning()) return;
  await enqueuePass(catalog.overlayReconcile, ["change"]).catch((e: Error) =>
    logger.warn({ error: e.message }, "could not enqueue an overlay pass; the sweep will apply the change"),
  );
}
