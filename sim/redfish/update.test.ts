// UpdateService.SimpleUpdate on a DPU BMC: 202 + task monitor, 202/Retry-After while running, the finished
// Task at the end, the new Version in FirmwareInventory; bad requests and failing images.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "./index";
import { rf, waitFor } from "./test-helpers";
import { bumpVersion, versionFromImage } from "./tasks";

let sim: RedfishSim;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 2, updateMs: 300 });
});
afterAll(async () => {
  await sim.close();
});

const dpu = () => sim.byId("node-0001-dpu")!;

async function simpleUpdateTarget(): Promise<string> {
  const root = await rf(dpu(), "/redfish/v1/");
  const us = await rf(dpu(), root.json.UpdateService["@odata.id"]);
  return us.json.Actions["#UpdateService.SimpleUpdate"].target;
}

describe("SimpleUpdate", () => {
  it("derives versions from image names, or bumps the current one", () => {
    expect(versionFromImage("http://files/bf-bundle-2.9.1-40_24.11_ubuntu-22.04_prod.bfb")).toBe("2.9.1-40");
    expect(versionFromImage("http://files/firmware.bin")).toBeNull();
    expect(bumpVersion("32.43.1014")).toBe("32.43.1015");
  });

  it("installs a BFB on DPU_OS through a task monitor and changes the version", async () => {
    const target = await simpleUpdateTarget();
    const before = await rf(dpu(), "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS");
    const r = await rf(dpu(), target, {
      body: {
        ImageURI: "http://127.0.0.1:9/bf-bundle-2.9.2-31_25.01_ubuntu-22.04_prod.bfb",
        TransferProtocol: "HTTP",
        Targets: ["redfish/v1/UpdateService/FirmwareInventory/DPU_OS"],
      },
    });
    expect(r.status).toBe(202);
    const monitor = r.headers.get("location")!;
    expect(monitor).toMatch(/^\/redfish\/v1\/TaskService\/TaskMonitors\/\d+$/);

    const running = await rf(dpu(), monitor);
    expect(running.status).toBe(202);
    expect(Number(running.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(running.json.TaskState).toBe("Running");
    expect(running.json.PercentComplete).toBeLessThan(100);

    const done = await waitFor("task done", async () => {
      const m = await rf(dpu(), monitor);
      return m.status === 200 && m;
    });
    expect(done.json).toMatchObject({ TaskState: "Completed", TaskStatus: "OK", PercentComplete: 100 });
    const task = await rf(dpu(), done.json["@odata.id"]);
    expect(task.json.TaskState).toBe("Completed");

    const after = await rf(dpu(), "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS");
    expect(after.json.Version).toBe("2.9.2-31");
    expect(after.json.Version).not.toBe(before.json.Version);
    const tasks = await rf(dpu(), "/redfish/v1/TaskService/Tasks");
    expect(tasks.json.Members.map((m: any) => m["@odata.id"])).toContain(done.json["@odata.id"]);
  });

  it("bumps DPU_NIC when the image name carries no version", async () => {
    const target = await simpleUpdateTarget();
    const before = (await rf(dpu(), "/redfish/v1/UpdateService/FirmwareInventory/DPU_NIC")).json.Version;
    const r = await rf(dpu(), target, { body: { ImageURI: "https://127.0.0.1:9/fw.bin", Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_NIC"] } });
    expect(r.status).toBe(202);
    await waitFor("done", async () => (await rf(dpu(), r.headers.get("location")!)).status === 200);
    expect((await rf(dpu(), "/redfish/v1/UpdateService/FirmwareInventory/DPU_NIC")).json.Version).toBe(bumpVersion(before));
  });

  it("rejects bad requests with 400 and ExtendedInfo", async () => {
    const target = await simpleUpdateTarget();
    const missing = await rf(dpu(), target, { body: { Targets: [] } });
    expect(missing.status).toBe(400);
    expect(missing.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ActionParameterMissing$/);
    const badTarget = await rf(dpu(), target, { body: { ImageURI: "http://x/y.bfb", Targets: ["/redfish/v1/UpdateService/FirmwareInventory/GPU"] } });
    expect(badTarget.status).toBe(400);
    expect(badTarget.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ActionParameterValueNotInList$/);
    const badProto = await rf(dpu(), target, { body: { ImageURI: "http://x/y.bfb", TransferProtocol: "Pigeon" } });
    expect(badProto.status).toBe(400);
    const notUri = await rf(dpu(), target, { body: { ImageURI: "just-a-file.bfb" } });
    expect(notUri.status).toBe(400);
  });

  it("a corrupt image ends the task in Exception and leaves the version alone", async () => {
    const target = await simpleUpdateTarget();
    const before = (await rf(dpu(), "/redfish/v1/UpdateService/FirmwareInventory/DPU_ATF")).json.Version;
    const r = await rf(dpu(), target, {
      body: { ImageURI: "http://127.0.0.1:9/atf-corrupt-5.0.0.bin", Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_ATF"] },
    });
    const done = await waitFor("task end", async () => {
      const m = await rf(dpu(), r.headers.get("location")!);
      return m.status === 200 && m;
    });
    expect(done.json.TaskState).toBe("Exception");
    expect(done.json.Messages.some((m: any) => /VerificationFailed/.test(m.MessageId))).toBe(true);
    expect((await rf(dpu(), "/redfish/v1/UpdateService/FirmwareInventory/DPU_ATF")).json.Version).toBe(before);
  });
});
