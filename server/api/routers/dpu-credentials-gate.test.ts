// A DPU recorded without its own BMC credentials: the nodes router refuses its BMC actions with the domain's reason
// (PRECONDITION_FAILED, before any BMC is called) and `get` disables them with the same words, so the page and the
// server agree. Its BMC address points nowhere: had the router called the BMC, the message would be a different one.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { DPU_CREDENTIALS_FIRST } from "@/domain/node-lifecycle";
import { callerAs, failure, insertHost, useFixtures } from "@/test/fixtures";
import { uniq } from "@/test/db";

const fx = useFixtures();

async function waitingDpu() {
  const h = await insertHost(fx.db, { provisionState: "manageable", powerState: "on" });
  return insertHost(fx.db, {
    name: uniq("dpu"),
    kind: "dpu",
    parentNodeId: h.id,
    provisionState: "manageable",
    powerState: "on",
    bmcCredentials: null,
    bmcCredentialsFingerprint: null,
  });
}

describe("a DPU waiting for its BMC credentials", () => {
  it("is refused boot device, firmware, power and steps with the reason to set them, and its page shows that reason", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const d = await waitingDpu();
    const boot = await failure(admin.nodes.setBootDevice({ id: d.id, device: "pxe" }));
    expect(boot).toMatchObject({ code: "PRECONDITION_FAILED", message: DPU_CREDENTIALS_FIRST });
    const fw = await failure(admin.nodes.firmwareUpdate({ id: d.id, imageUri: "http://127.0.0.1:1/bf.bfb" }));
    expect(fw).toMatchObject({ code: "PRECONDITION_FAILED", message: DPU_CREDENTIALS_FIRST });
    expect(await admin.nodes.power({ ids: [d.id], action: "off" })).toEqual([expect.objectContaining({ ok: false, message: DPU_CREDENTIALS_FIRST })]);
    // A step on the host's DPUs (Ironic's execute_on_child_nodes) is refused for it the same way, before its BMC.
    const step = await admin.nodes.runStep({ id: d.parentNodeId!, step: "set_boot_device", args: { device: "pxe" }, executeOnChildNodes: true });
    expect(step).toEqual([expect.objectContaining({ id: d.id, ok: false, message: DPU_CREDENTIALS_FIRST })]);
    // Nothing was started or recorded for it.
    expect(await fx.db.select().from(s.operations).where(eq(s.operations.targetId, d.id))).toEqual([]);

    const detail = await admin.nodes.get({ id: d.id });
    for (const a of ["power.on", "power.off", "power.reboot", "setBootDevice", "firmwareUpdate"])
      expect(detail.allowed[a], a).toEqual({ ok: false, reason: DPU_CREDENTIALS_FIRST });
    const host = await admin.nodes.get({ id: d.parentNodeId! });
    expect(host.children.find((c) => c.id === d.id)?.allowed["power.off"]).toEqual({ ok: false, reason: DPU_CREDENTIALS_FIRST });
    // The host itself, with its own credentials, is not affected.
    expect(host.allowed["power.off"]).toEqual({ ok: true });
  });
});
