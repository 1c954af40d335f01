// Unit tests of the IPMI driver's parsers and error classification, on ipmitool output that
// ipmi_sim cannot produce (chassis faults, Pre-Init SEL times, privilege and cipher errors).
import { describe, expect, it } from "vitest";
import { bootdevArgs, classifyIpmitoolFailure, failureText, parseBootFlags, parseChassisHealth, parseGuid, parseIpmiAddress, parseSelList } from "./ipmi";

const ctx = { address: "10.0.0.5:623", username: "admin", what: "read the power state", timeoutMs: 5000 };
const fail = (stderr: string, extra: Partial<Parameters<typeof classifyIpmitoolFailure>[0]> = {}) =>
  classifyIpmitoolFailure({ exitCode: 1, killed: false, stderr, stdout: "", ...extra }, ctx);

describe("IPMI parsing", () => {
  it("derives health from chassis status fault flags", () => {
    const status = (over: Record<string, string>) =>
      Object.entries({
        "System Power": "on",
        "Power Overload": "false",
        "Main Power Fault": "false",
        "Power Control Fault": "false",
        "Drive Fault": "false",
        "Cooling/Fan Fault": "false",
        ...over,
      })
        .map(([k, v]) => `${k.padEnd(21)}: ${v}`)
        .join("\n");
    expect(parseChassisHealth(status({}))).toEqual({ health: "ok" });
    expect(parseChassisHealth(status({ "Cooling/Fan Fault": "true" }))).toEqual({ health: "warning", reason: "cooling/fan fault" });
    expect(parseChassisHealth(status({ "Main Power Fault": "true", "Drive Fault": "true" }))).toEqual({
      health: "critical",
      reason: "main power fault; drive fault",
    });
    expect(parseChassisHealth("garbage").health).toBe("unknown");
  });

  it("parses sel list with and without a set BMC clock", () => {
    const events = parseSelList(
      [
        "   1 |  Pre-Init  |0000001040| Temperature #0x30 | Upper Critical going high | Asserted",
        "  1a | 11/23/26 | 19:47:52 UTC | Power Supply #0x51 | Power Supply AC lost | Asserted",
        "  1b | 11/23/2026 | 19:48:00 | Fan #0x40 | Lower Non-critical going low | Deasserted",
        "SEL has no entries",
      ].join("\n"),
    );
    expect(events.map((e) => [e.id, e.created?.toISOString() ?? null, e.severity, e.sensorType])).toEqual([
      ["0001", null, "critical", "Temperature"],
      ["001a", "2026-11-23T19:47:52.000Z", "critical", "Power Supply"],
      ["001b", "2026-11-23T19:48:00.000Z", "ok", "Fan"],
    ]);
  });

  it("normalises both GUID forms ipmitool prints", () => {
    expect(parseGuid("System GUID   : 00112233445566778899AABBCCDDEEFF")).toBe("00112233-4455-6677-8899-aabbccddeeff");
    expect(parseGuid("System GUID  : EFCDAB89-6745-23a1-efcd-ab89674523a1\nGUID Encoding : IPMI")).toBe("efcdab89-6745-23a1-efcd-ab89674523a1");
    expect(parseGuid("Get GUID command failed")).toBeNull();
  });

  it("builds bootdev arguments", () => {
    expect(bootdevArgs("x", "disk", { persistent: false })).toEqual(["chassis", "bootdev", "disk"]);
    expect(bootdevArgs("x", "bios", { persistent: true, uefi: true })).toEqual(["chassis", "bootdev", "bios", "options=persistent,efiboot"]);
    expect(() => bootdevArgs("x", "uefi_http", { persistent: false })).toThrow(/cannot select boot device "uefi_http"/);
  });

  it("parses addresses", () => {
    expect(parseIpmiAddress("10.0.0.5")).toEqual({ host: "10.0.0.5", port: 623 });
    expect(parseIpmiAddress("bmc-7.rack3:6230")).toEqual({ host: "bmc-7.rack3", port: 6230 });
    expect(parseIpmiAddress("[fd00::5]:624")).toEqual({ host: "fd00::5", port: 624 });
    expect(() => parseIpmiAddress("10.0.0.5:0")).toThrow(/invalid UDP port/);
  });
});

describe("ipmitool error classification", () => {
  it("tells credentials, privilege, cipher, reachability and support apart", () => {
    expect(fail("> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session")).toMatchObject({
      code: "auth",
      message: "BMC 10.0.0.5:623 refused the credentials for user admin (wrong password)",
      transient: false,
    });
    expect(fail("Set Session Privilege Level to ADMINISTRATOR failed: Requested privilege level exceeds limit")).toMatchObject({
      code: "auth",
      message: expect.stringContaining("lacks the privilege"),
    });
    expect(fail("Error in open session response message : no matching cipher suite\nError: Unable to establish IPMI v2 / RMCP+ session").code).toBe(
      "unsupported",
    );
    expect(fail("Get Auth Capabilities error\nError: Unable to establish IPMI v2 / RMCP+ session")).toMatchObject({
      code: "unreachable",
      transient: true,
    });
    expect(fail("Set Chassis Power Control to Diag failed: Invalid data field in request")).toMatchObject({ code: "unsupported" });
    expect(fail("Get Device ID command failed: Node busy")).toMatchObject({ code: "bmc_error", transient: true });
    // no response at all (ipmitool's retries ran out) is worth another try; an answered refusal is not
    expect(fail("Error setting Chassis Boot Parameter 4")).toMatchObject({ code: "timeout", transient: true });
    expect(fail("Error Getting Chassis Boot Parameter 5")).toMatchObject({ code: "timeout", transient: true });
    expect(fail("Unable to set Chassis Power Control to Up/On")).toMatchObject({ code: "timeout", transient: true });
    expect(fail("Set Chassis Boot Parameter 5 failed: Invalid data field in request")).toMatchObject({ code: "unsupported", transient: false });
    expect(fail("", { killed: true, exitCode: null })).toMatchObject({ code: "timeout", transient: true });
    const enoent = Object.assign(new Error("spawn ipmitool ENOENT"), { code: "ENOENT" });
    expect(fail("", { spawnError: enoent }).message).toContain("apt-get install ipmitool");
  });
});

describe("boot flags read back and zero-exit failures", () => {
  it("parses parameter 5 as `chassis bootparam get 5` prints it", () => {
    // What a BMC that keeps the flag bits says after `chassis bootdev pxe options=persistent,efiboot`.
    expect(parseBootFlags("Boot parameter version: 1\nBoot parameter 5 is valid/unlocked\nBoot parameter data: e004000000\n Boot Flags :\n")).toEqual({
      valid: true,
      persistent: true,
      uefi: true,
      device: "pxe",
    });
    // OpenIPMI's ipmi_sim: only the device selector (byte 1 always 0).
    expect(parseBootFlags("Boot parameter data: 0008000000")).toEqual({ valid: false, persistent: false, uefi: false, device: "disk" });
    expect(parseBootFlags("Boot parameter data: 8014000000")?.device).toBe("cdrom");
    expect(parseBootFlags("Boot parameter data: 8018000000")?.device).toBe("bios");
    expect(parseBootFlags("Boot parameter data: 0000000000")?.device).toBe("none");
    expect(parseBootFlags("Boot parameter data: 800c000000")?.device).toBe("other"); // safe-mode disk: never set by Anvil
    expect(parseBootFlags("Error: no data")).toBeNull();
  });

  it("finds the failure a zero-exit ipmitool run printed, ignoring -v chatter", () => {
    expect(failureText("Set Chassis Boot Parameter 5 failed: Unspecified error\n")).toBe("Set Chassis Boot Parameter 5 failed: Unspecified error");
    const chatter = [
      "Loading IANA PEN Registry...",
      "Running Get VSO Capabilities my_addr 0x20, transit 0, target 0x20",
      "Invalid completion code received: Invalid command",
      "Discovered IPMB address 0x0",
      "Get HPM.x Capabilities request failed, compcode = d4",
      "Close Session command failed: Invalid session ID in request",
    ].join("\n");
    expect(failureText(chatter)).toBeUndefined();
    expect(failureText(`${chatter}\nSet Chassis Power Control to Soft failed: Unspecified error`)).toBe(
      "Set Chassis Power Control to Soft failed: Unspecified error",
    );
  });

  it("does not take a refusal in the BMC's present state for a missing capability", () => {
    const now = fail("Set Chassis Power Control to Soft failed: Command not supported in present state");
    expect(now.code).toBe("bmc_error");
    expect(now.transient).toBe(false);
    expect(now.message).toContain("in its present state");
    expect(fail("Set Chassis Power Control to Diag failed: Invalid data field in request").code).toBe("unsupported");
  });
});
