// Boot a host once from an ISO through Redfish VirtualMedia: mount the image, set a one-time boot override to the CD,
// power on (or reset a running host), wait until the BMC reports the OS booting, then eject so the next boot is the
// host's own disk again. On a failure the image is ejected and the override cleared (the undos), so the node is left
// as it was; a host already powered on stays on (powering it off would be a second surprise).
import { nodes } from "@/db/schema";
import { eq } from "drizzle-orm";
import { getDb } from "@/db/client";
import type { BmcDriver, BmcVirtualMedia } from "@/server/drivers/bmc";
import { checkMgmtTarget } from "@/server/lib/mgmt-network";
import { catalog } from "./catalog";
import { step } from "./engine";
import { recordEvent } from "./events";
import { bmcOf, loadNodeInfo, recordPower, waitPower } from "./nodes";
import { finishOperation } from "./operations";
import { defineSaga } from "./saga";

/** BootProgress states that say the machine found something to boot on the CD and is running it. */
const BOOTED = new Set(["OSBootStarted", "OSRunning"]);

/** How long the host may take from power-on to booting the ISO's OS (ANVIL_VIRTUAL_MEDIA_BOOT_MS; real servers: minutes). */
function bootWaitMs(): number {
  const v = Number(process.env.ANVIL_VIRTUAL_MEDIA_BOOT_MS);
  return Number.isFinite(v) && v > 0 ? v : 600_000;
}

async function mediaOf(nodeId: string, name: string): Promise<{ d: BmcDriver; vm: BmcVirtualMedia }> {
  const d = await bmcOf(nodeId);
  if (!d.virtualMedia) throw new Error(`The ${d.protocol} BMC of ${name} has no virtual media; only a Redfish BMC can mount an ISO.`);
  return { d, vm: d.virtualMedia };
}

export const virtualMediaBoot = defineSaga(catalog.nodeVirtualMediaBoot, {
  async run(saga, nodeId, imageUrl, opId) {
    const db = saga.db;
    const n = await step("load", () => loadNodeInfo(nodeId));
    const ejectImage = async () => (await mediaOf(nodeId, n.name)).vm.eject();
    // The insert can fail half-way (an old image ejected, the new one refused): its undo copes with either.
    await saga.step(
      "insert image",
      async () => {
        // Checked again when it runs (the request was checked too): the name may resolve elsewhere by now.
        const where = await checkMgmtTarget(imageUrl);
        if (!where.ok) throw new Error(where.message);
        await (await mediaOf(nodeId, n.name)).vm.insert(imageUrl);
      },
      { undo: { name: "undo insert", fn: ejectImage }, undoIfFailed: true },
    );
    await saga.step("boot from CD once", async () => (await bmcOf(nodeId)).setBootDevice("cdrom", { persistent: false }), {
      undo: {
        name: "undo boot override",
        fn: async () => {
          const d = await bmcOf(nodeId);
          // Without a clear (IPMI never gets here), "disk once" is the closest to no override.
          if (d.clearBootOverride) await d.clearBootOverride();
          else await d.setBootDevice("disk", { persistent: false });
        },
      },
    });
    const wasOn = await saga.step("power on or reset", async () => {
      const d = await bmcOf(nodeId);
      // Set again right before the power-on: this step re-run after a crash may find the override already consumed by
      // the boot its first run started, and would otherwise reset the host into its own disk.
      await d.setBootDevice("cdrom", { persistent: false });
      const on = (await d.getPowerState()) === "on";
      await d.setPower(on ? "reboot" : "on");
      await recordPower(nodeId, await waitPower(nodeId, "on", 120_000), `boot from ${imageUrl}`);
      return on;
    });
    const bootState = await saga.step("wait for the boot", async () => {
      const d = await bmcOf(nodeId);
      if (!d.bootProgress) return null; // the BMC does not say: the power-on is all we can see
      const deadline = Date.now() + bootWaitMs();
      let last: string | null = null;
      // A reset shows the old OS's state for a moment; the new boot has started once the state left it.
      await new Promise((r) => setTimeout(r, wasOn ? 1000 : 0));
      while (Date.now() < deadline) {
        last = (await d.bootProgress()).bootState;
        if (last && BOOTED.has(last)) return last;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(
        `${n.name} did not start an OS from ${imageUrl} within ${Math.round(bootWaitMs() / 1000)} s (boot progress: ${last ?? "none"}); see its serial console.`,
      );
    });
    await saga.step("eject image", ejectImage);
    await step("finish", async () => {
      await recordEvent(db, nodeId, {
        kind: "lifecycle",
        severity: "info",
        message: `Booted once from ${imageUrl}${bootState ? ` (${bootState})` : ""}; the image is ejected, the next boot uses the node's own disk.`,
      });
      await finishOperation(db, opId, "succeeded", { result: { imageUrl, bootState } });
    });
  },
  async failed({ reason }, nodeId, imageUrl) {
    const db = getDb();
    await db.update(nodes).set({ lastError: reason }).where(eq(nodes.id, nodeId));
    await recordEvent(db, nodeId, { kind: "lifecycle", severity: "warning", message: `Boot from ${imageUrl} failed: ${reason}` });
  },
});
