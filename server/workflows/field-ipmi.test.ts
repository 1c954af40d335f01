// Power actions an IPMI BMC does not have (issue #13), through the API, the workflow engine and a real Postgres,
// against OpenIPMI's ipmi_sim: enrolment stores what the driver reports the BMC accepts, so the node's actions offer
// no soft reboot (IPMI has no such command); an NMI the BMC refuses fails its operation once with "This BMC does not
// support NMI …" (not a retry and "exceeded its maximum of 2 retries"), and after the next inspection the node's
// actions no longer offer it either — with that reason, which the node page shows on the disabled button. The
// inspection also records the BMC's firmware revision as the host's firmware inventory.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { waitOperation } from "@/test/instance-lab";
import { callerAs } from "@/test/fixtures";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";

let sim: IpmiSim;
const db = useTestDb();

beforeAll(async () => {
  sim = await startIpmiSim({ initialPower: "off", fru: { productManufacturer: "Anvil Systems", productName: "Anvil Host 1U", productSerial: "SRV-7" } });
});
afterAll(async () => {
  await sim?.stop();
});
const fx = useEngine("field-ipmi");

const admin = () => callerAs(fx, "operatorAdmin");

const waitOp = (id: string) => waitOperation(db, id);

/** Chassis Control requests "pulse diagnostic interrupt" the BMC received. */
const diagRequests = () => sim.messages().filter((m) => m.netfn === 0x00 && m.cmd === 0x02 && m.data[0] === 0x04).length;

describe("power actions an IPMI BMC lacks", () => {
  it("are not offered once known, and a refused one fails once with the reason", async () => {
    const name = uniq("ipmi-host");
    const r = await admin().nodes.enroll({ name, driver: "ipmi", address: sim.address, username: sim.username, password: sim.password });
    expect(r.ok).toBe(true);
    const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
    const id = n!.id;

    let detail = await admin().nodes.get({ id });
    expect(detail.allowed["power.soft_reboot"]).toEqual({ ok: false, reason: "This BMC does not support soft reboot." });
    expect(detail.allowed["power.on"]).toEqual({ ok: true });

    const [on] = await admin().nodes.power({ ids: [id], action: "on" });
    expect((await waitOp(on!.operationId!)).status).toBe("succeeded");

    detail = await admin().nodes.get({ id });
    expect(detail.allowed["power.nmi"]).toEqual({ ok: true }); // nothing says otherwise yet
    const before = diagRequests();
    const [nmi] = await admin().nodes.power({ ids: [id], action: "nmi" });
    const op = await waitOp(nmi!.operationId!);
    expect(op.status).toBe("failed");
    expect(op.error).toMatch(/^This BMC does not support NMI \(diagnostic interrupt\) \(BMC .+ refused it: .*Invalid data field in request\)$/);
    expect(diagRequests()).toBe(before + 1); // asked once: not retried

    const [inspect] = await admin().nodes.inspect({ ids: [id] });
    expect((await waitOp(inspect!.operationId!)).status).toBe("succeeded");
    detail = await admin().nodes.get({ id });
    expect(detail.allowed["power.nmi"]).toEqual({ ok: false, reason: "This BMC does not support NMI (diagnostic interrupt)." });
    expect(detail.allowed["power.reboot"]).toEqual({ ok: true });
    // IPMI knows only its own firmware revision (mc info): that is the host's firmware inventory.
    const [inspected] = await db.select().from(s.nodes).where(eq(s.nodes.id, id));
    expect((inspected!.inventory as { firmware?: unknown }).firmware).toEqual([{ id: "BMC", name: "BMC firmware", version: expect.stringMatching(/\S/) }]);
    // The server refuses it too (the same rule), without starting an operation.
    const [again] = await admin().nodes.power({ ids: [id], action: "nmi" });
    expect(again).toMatchObject({ ok: false, message: "This BMC does not support NMI (diagnostic interrupt)." });
    expect(again!.operationId).toBeUndefined();
  });
});
