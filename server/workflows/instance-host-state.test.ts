// An instance's state against what its host actually does, on the real lab with worker processes running the
// workflows (as in instance-crash.test.ts; this process only enqueues):
//  - the power sync: a host powered off behind Anvil's back (through its BMC's Redfish, directly) turns its running
//    instance stopped, with a lifecycle event; powered on again it stays stopped until the OS runs, then is running;
//  - the boot deadline of a create: recorded once, so a BFF killed while waiting for the OS and restarted with a far
//    longer ANVIL_BOOT_TIMEOUT_MS still gives up at the deadline the first one recorded.
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { instanceInput, useEngineLab } from "@/test/engine";
import { useWorkers } from "@/test/workers";
import { callerAs, instanceRow } from "@/test/fixtures";
import { waitOperation } from "@/test/instance-lab";
import { syncShard } from "./sync";

const db = useTestDb();

const { fx, L } = useEngineLab({ executor: "hoststate-setup", hosts: 1, clientOnly: true });
const workers = useWorkers();

const tenant = () => callerAs(fx, "tenantMember");
const create = () => tenant().instances.create(instanceInput(fx, L));

/** The lab host's BMC spoken to directly over Redfish, as a person at the BMC's web page would: Anvil is not involved. */
async function labBmc() {
  const row = L.lab.hosts[0]!;
  const auth = `Basic ${Buffer.from(`${row.bmc_username}:${row.bmc_password}`).toString("base64")}`;
  const rf = async (path: string, body?: unknown) => {
    const r = await fetch(new URL(path, row.bmc_address), {
      method: body ? "POST" : "GET",
      headers: { authorization: auth, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`Redfish ${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : ((await r.json().catch(() => null)) as Record<string, unknown> | null);
  };
  const systems = (await rf("/redfish/v1/Systems")) as { Members: { "@odata.id": string }[] };
  const path = systems.Members[0]!["@odata.id"];
  const system = async () => (await rf(path)) as { PowerState: string; BootProgress?: { LastState: string }; Actions: Record<string, { target: string }> };
  const target = (await system()).Actions["#ComputerSystem.Reset"]!.target;
  const until = async (what: string, ok: (sys: Awaited<ReturnType<typeof system>>) => boolean) => {
    for (let i = 0; i < 300; i++) {
      const sys = await system();
      if (ok(sys)) return sys;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the lab host never reached: ${what} (${JSON.stringify(await system())})`);
  };
  return {
    reset: (type: string) => rf(target, { ResetType: type }),
    until,
    /** Whether the host finds an OS on its next boot (the lab's admin API; the DPU's boot disk normally decides). */
    bootable: async (bootable: boolean) => {
      const r = await fetch(`${L.lab.redfish.adminUrl}/admin/bmcs/${row.name}/bootable`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ bootable }),
      });
      if (!r.ok) throw new Error(`admin bootable: ${r.status} ${await r.text()}`);
    },
  };
}

describe("an instance follows its host's power", () => {
  it("becomes stopped when its host is powered off outside Anvil, and running once started outside Anvil with its OS up", async () => {
    const w = await workers.start(`hoststate-${uniq()}`);
    try {
      const r = await create();
      expect((await waitOperation(db, r.operationId, 60_000)).status).toBe("succeeded");
      const inst = await instanceRow(db, r.id);
      expect(inst.state).toBe("running");
      const [host] = await db.select().from(s.nodes).where(eq(s.nodes.id, inst.nodeId!));
      const outside = async () =>
        (
          await db
            .select()
            .from(s.hardwareEvents)
            .where(and(eq(s.hardwareEvents.nodeId, host!.id), eq(s.hardwareEvents.kind, "lifecycle"), like(s.hardwareEvents.message, "%outside Anvil%")))
        ).map((e) => e.message);
      const bmc = await labBmc();

      // Off at the BMC: the next sync pass sees it and says so.
      await bmc.reset("ForceOff");
      await bmc.until("power off", (x) => x.PowerState === "Off");
      await syncShard(host!.syncShard, 0);
      let now = await instanceRow(db, r.id);
      expect(now.state).toBe("stopped");
      expect(now.stateReason).toBe(`Powered off outside Anvil: the power sync found host ${host!.name} off.`);
      expect(await outside()).toEqual([`Instance ${inst.name} was powered off outside Anvil (host seen off by the power sync); running → stopped.`]);

      // On again but finding no OS: the host is on, the instance is not running.
      await bmc.bootable(false);
      await bmc.reset("On");
      await bmc.until("power on", (x) => x.PowerState === "On");
      await syncShard(host!.syncShard, 0);
      expect((await instanceRow(db, r.id)).state).toBe("stopped");

      // Off, and on with its disk bootable again: once the OS runs, the instance is running.
      await bmc.reset("ForceOff");
      await bmc.until("power off", (x) => x.PowerState === "Off");
      await bmc.bootable(true);
      await bmc.reset("On");
      await bmc.until("OS running", (x) => x.BootProgress?.LastState === "OSRunning");
      await syncShard(host!.syncShard, 0);
      now = await instanceRow(db, r.id);
      expect(now.state).toBe("running");
      expect(now.stateReason).toBeNull();
      // A second pass has nothing more to say.
      await syncShard(host!.syncShard, 0);
      expect(await outside()).toEqual([
        `Instance ${inst.name} was powered off outside Anvil (host seen off by the power sync); running → stopped.`,
        `Instance ${inst.name} was started outside Anvil (host seen on, OS running by the power sync); stopped → running.`,
      ]);

      const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
      expect((await waitOperation(db, d.operationId, 60_000)).status).toBe("succeeded");
    } finally {
      await workers.stop(w);
    }
  }, 150_000);
});

describe("the boot deadline of a create", () => {
  it("survives a BFF restart: the restarted worker keeps the deadline the first one recorded", async () => {
    const replica = `deadline-${uniq()}`;
    // The first worker records a 2 s boot budget, then dies just before waiting for the OS.
    const w1 = await workers.start(replica, "before:wait for OS", { ANVIL_BOOT_TIMEOUT_MS: "2000" });
    const r = await create();
    expect(await w1.exited).toBe("SIGKILL");
    // Meanwhile the host is restarted without an OS to find: it will never report OSRunning.
    const bmc = await labBmc();
    await bmc.reset("ForceOff");
    await bmc.until("power off", (x) => x.PowerState === "Off");
    await bmc.bootable(false);
    await bmc.reset("On");
    await bmc.until("power on", (x) => x.PowerState === "On");
    // The restarted worker would allow 10 minutes if it started the budget afresh.
    const w2 = await workers.start(replica, undefined, { ANVIL_BOOT_TIMEOUT_MS: "600000" });
    try {
      const op = await waitOperation(db, r.operationId, 60_000);
      expect(op.status).toBe("failed");
      expect(op.error).toMatch(/did not boot its OS within 2 s \(last boot progress: /);
      const inst = await instanceRow(db, r.id);
      expect(inst.state).toBe("failed");
      expect(inst.nodeId).toBeNull(); // rolled back: the host is back in the pool
    } finally {
      await workers.stop(w2);
      await bmc.bootable(true);
    }
  }, 150_000);
});
