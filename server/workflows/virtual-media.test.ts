// Boot from ISO (node.virtual_media_boot) against the lab's Redfish simulator and the real engine: the host boots
// once from the virtual CD (the lab's disk is not bootable, so reaching the OS proves the CD was mounted and chosen)
// and the image is ejected after; an image the BMC cannot fetch, or one that does not boot, leaves the node as it was
// (nothing mounted, no override left); what the rules forbid (a DPU, an IPMI BMC, a node with an instance, a URL off
// the management network) is refused before anything starts.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { nodeFixture } from "@/test/authz-fixtures";
import { bmcAdmin } from "@/test/bmc-admin";
import { releaseStaleAddresses, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { callerAs, fieldOf } from "@/test/fixtures";
import { sharedImageServer } from "@/test/image-server";
import { waitOperation } from "@/test/instance-lab";
import { rejection } from "@/test/rejection";

let sim: RedfishSim;
const db = useTestDb();
beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 3, powerTransitionMs: 60, bootMs: 50 });
  await releaseStaleAddresses(
    db,
    sim.bmcs.map((b) => b.url),
  );
});
afterAll(async () => {
  await sim?.close();
});
const fx = useEngine("vm");
const admin = () => callerAs(fx, "operatorAdmin");
const host = (i: number) => sim.byId(`node-000${i}`)!;

async function enroll(i: number) {
  const h = host(i);
  const name = `vm-${i}-${crypto.randomUUID().slice(0, 6)}`;
  const r = await admin().nodes.enroll({ name, driver: "redfish", address: h.url, username: h.username, password: h.password, verifyTls: false });
  expect(r.ok).toBe(true);
  const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
  return n!;
}
const nodeRow = async (id: string) => (await db.select().from(s.nodes).where(eq(s.nodes.id, id)))[0]!;

describe("boot from ISO", () => {
  it("mounts the ISO, boots from it once, then ejects it", async () => {
    const images = await sharedImageServer();
    images.serve("/rescue.iso", Buffer.alloc(4096, 7));
    const image = `${images.url}/rescue.iso`;
    const n = await enroll(1);
    expect(n.powerState).toBe("off");
    const { operationId } = await admin().nodes.virtualMediaBoot({ id: n.id, imageUrl: image });
    const op = await waitOperation(db, operationId);
    expect(op.status, op.error ?? "").toBe("succeeded");
    expect(op.steps.map((x) => [x.name, x.status])).toEqual([
      ["insert image", "done"],
      ["boot from CD once", "done"],
      ["power on or reset", "done"],
      ["wait for the boot", "done"],
      ["eject image", "done"],
    ]);
    const bmc = await bmcAdmin(sim, "GET", host(1).id);
    // The lab's disk is not bootable: an OS running means it came from the CD.
    expect(bmc).toMatchObject({ powerState: "On", bootedFrom: "Cd", bootProgress: "OSRunning", bootable: false, virtualMedia: null });
    expect(bmc.bootOverride.enabled).toBe("Disabled"); // the Once override was consumed by that boot
    expect((await nodeRow(n.id)).powerState).toBe("on");
    const events = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, n.id));
    expect(events.some((e) => e.message.startsWith(`Booted once from ${image}`))).toBe(true);
    const audits = await db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, n.id));
    expect(audits.filter((a) => a.action === "node.virtual_media_boot").map((a) => a.details)).toEqual([{ operationId, imageUrl: image }]);

    // A running host is reset into the ISO.
    const again = await admin().nodes.virtualMediaBoot({ id: n.id, imageUrl: image });
    const op2 = await waitOperation(db, again.operationId);
    expect(op2.status, op2.error ?? "").toBe("succeeded");
    expect(await bmcAdmin(sim, "GET", host(1).id)).toMatchObject({ bootedFrom: "Cd", bootProgress: "OSRunning", virtualMedia: null });
  });

  it("an image the BMC cannot fetch fails the insert with its reason and leaves the node as it was", async () => {
    const n = await enroll(2);
    const { operationId } = await admin().nodes.virtualMediaBoot({ id: n.id, imageUrl: "http://127.0.0.1:9/rescue.iso" });
    const op = await waitOperation(db, operationId);
    expect(op.status).toBe("failed");
    expect(op.error).toMatch(/127\.0\.0\.1:9\/rescue\.iso' could not be established \(ECONNREFUSED\)/);
    const ran = op.steps.filter((x) => x.status === "done" || x.status === "failed").map((x) => [x.name, x.status]);
    expect(ran).toEqual([
      ["insert image", "failed"],
      ["undo insert", "done"],
    ]);
    expect(await bmcAdmin(sim, "GET", host(2).id)).toMatchObject({
      powerState: "Off",
      virtualMedia: null,
      bootOverride: { enabled: "Disabled", target: "None" },
    });
    const row = await nodeRow(n.id);
    expect(row.powerState).toBe("off");
    expect(row.lastError).toMatch(/could not be established/);
  });

  it("an ISO that does not boot: the image is ejected and the override cleared (the undos)", async () => {
    const images = await sharedImageServer();
    images.serve("/corrupt.iso", Buffer.alloc(4096, 0));
    const n = await enroll(3);
    const saved = process.env.ANVIL_VIRTUAL_MEDIA_BOOT_MS;
    process.env.ANVIL_VIRTUAL_MEDIA_BOOT_MS = "1500";
    try {
      const { operationId } = await admin().nodes.virtualMediaBoot({ id: n.id, imageUrl: `${images.url}/corrupt.iso` });
      const op = await waitOperation(db, operationId);
      expect(op.status).toBe("failed");
      expect(op.error).toMatch(/did not start an OS from .*corrupt\.iso within 2 s \(boot progress: SystemHardwareInitializationComplete\)/);
      // The undos, in reverse order of their steps; the final eject never ran.
      const ran = op.steps.filter((x) => x.status === "done" || x.status === "failed").map((x) => [x.name, x.status]);
      expect(ran).toEqual([
        ["insert image", "done"],
        ["boot from CD once", "done"],
        ["power on or reset", "done"],
        ["wait for the boot", "failed"],
        ["undo boot override", "done"],
        ["undo insert", "done"],
      ]);
    } finally {
      process.env.ANVIL_VIRTUAL_MEDIA_BOOT_MS = saved;
    }
    // Nothing mounted, no override: the next boot is the node's own disk. The host stays on (it was powered for the boot).
    expect(await bmcAdmin(sim, "GET", host(3).id)).toMatchObject({ virtualMedia: null, bootOverride: { enabled: "Disabled" } });
  });

  it("refuses a DPU, an IPMI BMC, a node with an instance and a URL off the management network, starting nothing", async () => {
    const reason = (id: string, imageUrl = "http://127.0.0.1:1/x.iso") => rejection(admin().nodes.virtualMediaBoot({ id, imageUrl }), TRPCError);
    const dpu = await nodeFixture(fx, { kind: "dpu" });
    expect(await reason(dpu.id)).toMatchObject({ code: "PRECONDITION_FAILED", message: expect.stringMatching(/DPU boots its own OS/) });
    const ipmi = await nodeFixture(fx, { bmcDriver: "ipmi", bmcAddress: `127.0.0.1:${1000 + Math.floor(Math.random() * 9000)}` });
    expect(await reason(ipmi.id)).toMatchObject({ code: "PRECONDITION_FAILED", message: "IPMI has no virtual media; only a Redfish BMC can mount an ISO." });
    const busy = await nodeFixture(fx, { provisionState: "active" });
    expect((await reason(busy.id)).message).toBe("The node runs an instance or is being cleaned; release it first.");
    const plain = await nodeFixture(fx);
    const off = await reason(plain.id, "http://169.254.169.254/x.iso");
    expect(off.code).toBe("BAD_REQUEST");
    expect(fieldOf(off)).toBe("imageUrl");
    expect((await reason(plain.id, "ftp://127.0.0.1/x.iso")).code).toBe("BAD_REQUEST");
    const secret = await reason(plain.id, "http://admin:hunter2@127.0.0.1/x.iso");
    expect([secret.code, fieldOf(secret)]).toEqual(["BAD_REQUEST", "imageUrl"]);
    expect(secret.message).toContain("Put no user name or password in the URL.");
    const ops = await db.select().from(s.operations).where(eq(s.operations.targetId, plain.id));
    expect(ops).toEqual([]);
  });
});
