// Targets of the lab storage service over real HTTP: NVMe-oF TCP and iSCSI exports, multi-attach rules,
// list filters, unexport, and the initiator "connect" emulation the DPU agent's sim backend uses.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NQN_PREFIX } from "./index";
import { type Lab, makePools, startLab } from "./test-kit";

const HOST_A = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-4000-8000-000000000001";
const HOST_B = "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-4000-8000-000000000002";
const HOST_C = "nqn.2014-08.org.nvmexpress:uuid:cccccccc-0000-4000-8000-000000000003";
const ISCSI_A = "iqn.2026-01.io.anvil:host-a";

let lab: Lab;
let pool: string;
beforeEach(async () => {
  lab = await startLab({});
  pool = (await makePools(lab)).logicalPoolId;
});
afterEach(async () => {
  await lab.close();
});

async function volume(name: string, multiAttach = false): Promise<string> {
  const r = await lab.req("POST", "/v1/volumes", { name, logicalPoolId: pool, sizeBytes: 1 << 30, multiAttach });
  return r.body.id;
}
const exportTo = (volumeId: string, initiator: string, protocol = "nvme-tcp") => lab.req("POST", "/v1/targets", { volumeId, protocol, initiator });

describe("NVMe-oF TCP targets", () => {
  it("exports a volume as a subsystem with a generated NQN and refuses a second host unless multi-attach", async () => {
    const vol = await volume("boot");
    const t = await exportTo(vol, HOST_A);
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({
      volumeId: vol,
      protocol: "nvme-tcp",
      nqn: `nqn.2026-01.io.anvil:vol-${vol}`,
      iqn: null,
      address: "127.0.0.1",
      port: 4420,
      initiator: HOST_A,
      lastConnectedAt: null,
    });
    expect((await lab.req("GET", `/v1/volumes/${vol}`)).body).toMatchObject({ status: "exported", targetCount: 1 });

    // Same initiator again: the existing export comes back (a retried workflow step converges).
    const again = await exportTo(vol, HOST_A);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(t.body.id);

    const second = await exportTo(vol, HOST_B);
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: "not_multi_attach", field: "initiator" });
    expect(second.body.error.message).toContain(HOST_A);

    const iscsi = await exportTo(vol, ISCSI_A, "iscsi");
    expect(iscsi.status).toBe(409);
    expect(iscsi.body.error.code).toBe("protocol_conflict");

    const del = await lab.req("DELETE", `/v1/volumes/${vol}`);
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe("volume_exported");
    expect(del.body.error.details.targetIds).toEqual([t.body.id]);

    expect((await lab.req("DELETE", `/v1/targets/${t.body.id}`)).status).toBe(204);
    expect((await lab.req("GET", `/v1/targets/${t.body.id}`)).status).toBe(404);
    expect((await lab.req("GET", `/v1/volumes/${vol}`)).body.status).toBe("available");
    expect((await lab.req("DELETE", `/v1/volumes/${vol}`)).status).toBe(204);
  });

  it("multi-attach volumes export to several hosts; connect admits exactly the exported initiators", async () => {
    const shared = await volume("shared", true);
    const other = await volume("other");
    const targets = [];
    for (const h of [HOST_A, HOST_B]) {
      const r = await exportTo(shared, h);
      expect(r.status).toBe(201);
      targets.push(r.body);
    }
    await exportTo(other, HOST_A);
    expect(targets[0].nqn).toBe(targets[1].nqn);

    const byVolume = await lab.req("GET", `/v1/targets?volumeId=${shared}`);
    expect(byVolume.body.items.map((t: { initiator: string }) => t.initiator)).toEqual([HOST_A, HOST_B]);
    const byHost = await lab.req("GET", `/v1/targets?initiator=${encodeURIComponent(HOST_A)}`);
    expect(byHost.body.items.map((t: { volumeId: string }) => t.volumeId)).toEqual([shared, other]);
    const both = await lab.req("GET", `/v1/targets?volumeId=${shared}&initiator=${encodeURIComponent(HOST_B)}`);
    expect(both.body.items).toHaveLength(1);
    expect((await lab.req("GET", "/v1/targets?protocol=iscsi")).body.items).toHaveLength(0);

    const nqn = `${NQN_PREFIX}${shared}`;
    const ok = await lab.req("POST", "/v1/targets/connect", { nqn, initiator: HOST_B });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      protocol: "nvme-tcp",
      nqn,
      address: "127.0.0.1",
      port: 4420,
      volumeId: shared,
      targetId: targets[1].id,
      namespace: { id: 1, uuid: shared, sizeBytes: 1 << 30, blockSizeBytes: 512, multiAttach: true },
    });
    expect((await lab.req("GET", `/v1/targets/${targets[1].id}`)).body.lastConnectedAt).not.toBeNull();

    const denied = await lab.req("POST", "/v1/targets/connect", { nqn, initiator: HOST_C });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: "initiator_not_allowed", field: "initiator" });

    // Unexporting one host locks that host out and leaves the other one in.
    await lab.req("DELETE", `/v1/targets/${targets[0].id}`);
    expect((await lab.req("POST", "/v1/targets/connect", { nqn, initiator: HOST_A })).status).toBe(403);
    expect((await lab.req("POST", "/v1/targets/connect", { nqn, initiator: HOST_B })).status).toBe(200);
  });

  it("connect to an unknown or unexported subsystem is 404", async () => {
    const vol = await volume("idle");
    const idle = await lab.req("POST", "/v1/targets/connect", { nqn: `${NQN_PREFIX}${vol}`, initiator: HOST_A });
    expect(idle.status).toBe(404);
    expect(idle.body.error.code).toBe("unknown_subsystem");
    expect((await lab.req("POST", "/v1/targets/connect", { nqn: "nqn.2026-01.io.anvil:vol-nope", initiator: HOST_A })).status).toBe(404);
    expect((await lab.req("POST", "/v1/targets/connect", { nqn: "nqn.1999-01.other:thing", initiator: HOST_A })).status).toBe(404);
  });
});

describe("iSCSI targets", () => {
  it("exports with a generated IQN on port 3260 and admits the initiator IQN", async () => {
    const vol = await volume("iscsi-vol");
    const t = await exportTo(vol, ISCSI_A, "iscsi");
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({ protocol: "iscsi", iqn: `iqn.2026-01.io.anvil:vol-${vol}`, nqn: null, port: 3260 });
    const ok = await lab.req("POST", "/v1/targets/connect", { iqn: t.body.iqn, initiator: ISCSI_A });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ protocol: "iscsi", port: 3260, namespace: { id: 0 } });
    expect((await lab.req("POST", "/v1/targets/connect", { iqn: t.body.iqn, initiator: "iqn.2026-01.io.anvil:intruder" })).status).toBe(403);
    // Asking for the NVMe subsystem of an iSCSI-exported volume finds nothing.
    expect((await lab.req("POST", "/v1/targets/connect", { nqn: `${NQN_PREFIX}${vol}`, initiator: ISCSI_A })).status).toBe(404);
  });

  it("rejects initiators that do not match the protocol's naming and ambiguous connects", async () => {
    const vol = await volume("v");
    const wrong = await exportTo(vol, ISCSI_A, "nvme-tcp");
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.field).toBe("initiator");
    expect(wrong.body.error.message).toContain("NVMe qualified name");
    expect((await exportTo(vol, "host-1", "iscsi")).status).toBe(400);
    expect((await exportTo(vol, HOST_A, "fc")).body.error.field).toBe("protocol");
    expect((await exportTo("nope", HOST_A)).status).toBe(404);
    const ambiguous = await lab.req("POST", "/v1/targets/connect", { nqn: "a", iqn: "b", initiator: HOST_A });
    expect(ambiguous.status).toBe(400);
    expect((await lab.req("POST", "/v1/targets/connect", { initiator: HOST_A })).status).toBe(400);
  });
});
