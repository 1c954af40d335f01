// Every transition of the node lifecycle table, every illegal one, and the action rules with their reasons.
import { describe, expect, it } from "vitest";
import {
  allowedEvents,
  DPU_CREDENTIALS_FIRST,
  IllegalTransition,
  NODE_EVENTS,
  type NodeFacts,
  nextState,
  nodeCan,
  PROVISION_STATES,
  transition,
} from "./node-lifecycle";

const legal: [string, string, string][] = [
  ["enroll", "manage", "verifying"],
  ["verifying", "verified", "manageable"],
  ["verifying", "verify_failed", "enroll"],
  ["verifying", "abort", "enroll"],
  ["manageable", "inspect", "inspecting"],
  ["manageable", "provide", "available"],
  ["inspecting", "inspected", "manageable"],
  ["inspecting", "inspect_failed", "manageable"],
  ["inspecting", "abort", "manageable"],
  ["available", "deploy", "deploying"],
  ["available", "manage", "manageable"],
  ["deploying", "deployed", "active"],
  ["deploying", "deploy_failed", "error"],
  ["deploying", "deploy_aborted", "cleaning"],
  ["active", "fenced", "error"],
  ["active", "undeploy", "deleting"],
  ["active", "rescue", "rescue"],
  ["deleting", "deleted", "cleaning"],
  ["deleting", "delete_failed", "error"],
  ["cleaning", "cleaned", "available"],
  ["cleaning", "clean_failed", "error"],
  ["error", "undeploy", "deleting"],
  ["error", "manage", "manageable"],
  ["rescue", "unrescue", "active"],
  ["rescue", "undeploy", "deleting"],
];

describe("node lifecycle table", () => {
  it.each(legal)("%s --%s--> %s", (from, ev, to) => {
    expect(transition(from as never, ev as never)).toBe(to);
  });

  it("forbids every pair not in the table, with a clear error naming what is allowed", () => {
    const allowed = new Set(legal.map(([f, e]) => `${f}|${e}`));
    let illegal = 0;
    for (const s of PROVISION_STATES)
      for (const e of NODE_EVENTS) {
        if (allowed.has(`${s}|${e}`)) continue;
        illegal++;
        expect(nextState(s, e)).toBeNull();
        expect(() => transition(s, e)).toThrow(IllegalTransition);
      }
    expect(illegal).toBe(PROVISION_STATES.length * NODE_EVENTS.length - legal.length);
    expect(() => transition("active", "provide")).toThrow('A node in state "active" cannot provide (allowed here: undeploy, rescue, fenced).');
  });

  it("lists allowed events per state", () => {
    expect(allowedEvents("manageable").sort()).toEqual(["inspect", "provide"]);
    expect(allowedEvents("enroll")).toEqual(["manage"]);
  });
});

const host = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  kind: "host",
  provisionState: "available",
  powerState: "off",
  maintenance: false,
  fault: null,
  ...over,
});

describe("nodeCan", () => {
  it("explains why a node in maintenance or with a fault cannot be provided or deployed", () => {
    expect(nodeCan.provide(host({ provisionState: "manageable", maintenance: true }))).toEqual({
      ok: false,
      reason: "The node is in maintenance; end maintenance first.",
    });
    expect(nodeCan.deploy(host({ fault: "BMC unreachable" }))).toEqual({ ok: false, reason: "The node has a fault: BMC unreachable" });
    expect(nodeCan.deploy(host())).toEqual({ ok: true });
  });

  it("power rules follow the power state and the lifecycle", () => {
    expect(nodeCan.power(host({ powerState: "on" }), "on")).toMatchObject({ ok: false, reason: "It is already on." });
    expect(nodeCan.power(host({ powerState: "off" }), "reboot")).toMatchObject({ ok: false });
    expect(nodeCan.power(host({ powerState: "off" }), "on")).toEqual({ ok: true });
    expect(nodeCan.power(host({ provisionState: "enroll" }), "on")).toMatchObject({ ok: false, reason: "Verify the node's BMC first (manage)." });
    expect(nodeCan.power(host({ provisionState: "deploying", powerState: "on" }), "off")).toMatchObject({ ok: false });
    expect(nodeCan.power(host({ provisionState: "inspecting", powerState: "on" }), "off")).toEqual({ ok: true });
  });

  it("does not offer power actions the node's BMC lacks, saying so", () => {
    // What the IPMI driver stores with the inventory after its BMC refused NMI (no IPMI command for soft reboot).
    const ipmi = host({ powerState: "on", powerActions: ["on", "off", "soft_off", "reboot", "power_cycle"] });
    expect(nodeCan.power(ipmi, "soft_reboot")).toEqual({ ok: false, reason: "This BMC does not support soft reboot." });
    expect(nodeCan.power(ipmi, "nmi")).toEqual({ ok: false, reason: "This BMC does not support NMI (diagnostic interrupt)." });
    expect(nodeCan.power(ipmi, "reboot")).toEqual({ ok: true });
    // Not reported (older inventories, Redfish today): every action stays offered.
    expect(nodeCan.power(host({ powerState: "on", powerActions: null }), "nmi")).toEqual({ ok: true });
  });

  it("DPUs follow their host", () => {
    const dpu = host({ kind: "dpu", provisionState: "manageable", powerState: "on" });
    expect(nodeCan.inspect(dpu).ok).toBe(false);
    expect(nodeCan.delete(dpu)).toEqual({ ok: false, reason: "Delete the host; its DPUs go with it." });
    expect(nodeCan.firmwareUpdate(dpu)).toEqual({ ok: true });
    // A host's own firmware (BMC, BIOS, NIC): when no instance runs on it, powered or not.
    expect(nodeCan.firmwareUpdate(host())).toEqual({ ok: true });
    expect(nodeCan.firmwareUpdate(host({ provisionState: "active", powerState: "on" }))).toEqual({
      ok: false,
      reason: "The host runs an instance or Anvil is working on it; update its firmware when it is free.",
    });
    expect(nodeCan.firmwareUpdate(host({ provisionState: "enroll" })).ok).toBe(false);
    expect(nodeCan.firmwareUpdate({ ...dpu, powerState: "off" })).toEqual({ ok: false, reason: "The DPU must be powered on to take an update." });
  });

  it("a DPU without its own BMC credentials offers no BMC action, with the reason to set them", () => {
    const waiting = host({ kind: "dpu", provisionState: "manageable", powerState: "unknown", bmcCredentialsMissing: true });
    const reason = { ok: false, reason: DPU_CREDENTIALS_FIRST };
    expect(DPU_CREDENTIALS_FIRST).toBe("Set this DPU's BMC credentials first.");
    for (const p of ["on", "off", "reboot", "power_cycle"] as const) expect(nodeCan.power(waiting, p)).toEqual(reason);
    expect(nodeCan.setBootDevice(waiting)).toEqual(reason);
    expect(nodeCan.firmwareUpdate({ ...waiting, powerState: "on" })).toEqual(reason);
    // Once they are set, the same DPU is offered its actions again.
    const ready = { ...waiting, powerState: "on", bmcCredentialsMissing: false };
    expect(nodeCan.power(ready, "off")).toEqual({ ok: true });
    expect(nodeCan.setBootDevice(ready)).toEqual({ ok: true });
    expect(nodeCan.firmwareUpdate(ready)).toEqual({ ok: true });
  });

  it("delete and move are refused while an instance runs", () => {
    expect(nodeCan.delete(host({ provisionState: "active" })).ok).toBe(false);
    expect(nodeCan.moveToPool(host({ hasInstance: true })).ok).toBe(false);
    expect(nodeCan.delete(host({ provisionState: "manageable" }))).toEqual({ ok: true });
  });

  it("boot from ISO: a Redfish host not running an instance, with the reason otherwise", () => {
    expect(nodeCan.virtualMediaBoot(host({ provisionState: "manageable", bmcDriver: "redfish" }))).toEqual({ ok: true });
    expect(nodeCan.virtualMediaBoot(host({ provisionState: "manageable", bmcDriver: "ipmi" }))).toEqual({
      ok: false,
      reason: "IPMI has no virtual media; only a Redfish BMC can mount an ISO.",
    });
    expect(nodeCan.virtualMediaBoot(host({ kind: "dpu", provisionState: "manageable" })).ok).toBe(false);
    expect(nodeCan.virtualMediaBoot(host({ provisionState: "manageable", hasInstance: true })).ok).toBe(false);
    expect(nodeCan.virtualMediaBoot(host({ provisionState: "active" })).ok).toBe(false);
    expect(nodeCan.virtualMediaBoot(host({ provisionState: "enroll" }))).toEqual({ ok: false, reason: "Verify the node's BMC first (manage)." });
    expect(nodeCan.virtualMediaBoot(host({ provisionState: "inspecting" }))).toEqual({ ok: false, reason: "Wait for the current operation to finish." });
  });

  it("an unavailable event names the operator events that are possible", () => {
    expect(nodeCan.inspect(host({ provisionState: "available" }))).toEqual({ ok: false, reason: "Not possible while the node is available; it can: manage." });
    expect(nodeCan.manage(host({ provisionState: "inspecting" }))).toEqual({ ok: false, reason: "Wait for the current operation to finish." });
  });
});
