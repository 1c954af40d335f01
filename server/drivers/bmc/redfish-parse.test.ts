// Unit tests of the Redfish driver's pure pieces: SSE framing, Redfish Event → BmcLiveEvent, HTTP status and
// network error → BmcError, Retry-After, Task states, LogEntry mapping and ordering, BMC base URLs.
import { describe, expect, it } from "vitest";
import { bmcBaseOf, logEntryToEvent, mapHealth, mapPowerState, sortEvents, taskStateOf } from "./redfish";
import { eventsFromRedfish, SseParser } from "./redfish-events";
import { httpError, networkError, redfishErrorText, retryAfterMs } from "./redfish-http";

const A = "https://10.0.0.5";

describe("SseParser", () => {
  it("assembles frames split across chunks, with CRLF, comments and multi-line data", () => {
    const p = new SseParser();
    expect(p.push(": Redfish event stream\r\n\r\nid: 7\r\nda")).toEqual([]);
    expect(p.push('ta: {"a":\r\ndata: 1}\r\n\r\nid: 8\ndata: x\n')).toEqual([{ id: "7", data: '{"a":\n1}' }]);
    expect(p.push("\n")).toEqual([{ id: "8", data: "x" }]);
    expect(p.push("event: ping\n\n")).toEqual([]); // no data: nothing to deliver
  });
});

describe("eventsFromRedfish", () => {
  it("classifies power, health and log events", () => {
    const rec = (MessageId: string, origin: string, Severity = "OK") => ({
      EventId: MessageId,
      EventTimestamp: "2025-01-01T00:00:00Z",
      Severity,
      Message: "m",
      MessageId,
      OriginOfCondition: { "@odata.id": origin },
    });
    const evs = eventsFromRedfish(
      {
        Id: "1",
        Events: [
          rec("ResourceEvent.1.3.ResourcePoweringOn", "/redfish/v1/Systems/1"),
          rec("ResourceEvent.1.3.ResourceStatusChangedCritical", "/redfish/v1/Systems/1", "Critical"),
          rec("Vendor.1.0.PsuFail", "/redfish/v1/Systems/1/LogServices/SEL/Entries/9", "Warning"),
          rec("Base.1.0.Other", "/redfish/v1/EventService"),
        ],
      },
      "1",
    );
    expect(evs.map((e) => [e.kind, e.powerState ?? e.health ?? null, e.severity])).toEqual([
      ["power", "powering_on", "ok"],
      ["health", "critical", "critical"],
      ["log", null, "warning"],
      ["other", null, "ok"],
    ]);
    expect(evs[0].at?.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    expect(eventsFromRedfish("nonsense", undefined)).toEqual([]);
  });
});

describe("error mapping", () => {
  const body = (msgs: string[], code = "Base.1.18.GeneralError") => ({
    error: { code, message: "general", "@Message.ExtendedInfo": msgs.map((Message) => ({ MessageId: "Base.1.18.X", Message, Resolution: "None." })) },
  });

  it("maps HTTP statuses to Anvil codes with the BMC's messages", () => {
    expect(httpError(A, { status: 401, json: null }, "read the power state", false)).toMatchObject({ code: "auth", transient: false });
    expect(httpError(A, { status: 403, json: null }, "reboot", false).message).toMatch(/does not allow this user/);
    expect(httpError(A, { status: 404, json: null }, "ResetType 'On'", true).code).toBe("unsupported");
    expect(httpError(A, { status: 404, json: null }, "read a thing", false).code).toBe("bmc_error");
    expect(httpError(A, { status: 405, json: null }, "x", false).code).toBe("unsupported");
    expect(httpError(A, { status: 501, json: null }, "x", false).code).toBe("unsupported");
    const bad = httpError(
      A,
      { status: 400, json: body(["The value 'Foo' for the parameter ResetType is not in the list of acceptable values.", "Second."]) },
      "ResetType 'Foo'",
      true,
    );
    expect(bad).toMatchObject({ code: "invalid", transient: false });
    expect(bad.message).toBe(`BMC ${A} refused ResetType 'Foo': The value 'Foo' for the parameter ResetType is not in the list of acceptable values.; Second.`);
    const five = httpError(A, { status: 503, json: body(["Busy."]) }, "read the power state", false, 3);
    expect(five).toMatchObject({ code: "bmc_error", transient: true });
    expect(five.message).toBe(`BMC ${A} failed to read the power state: HTTP 503: Busy. (after 3 attempts)`);
  });

  it("keeps a useful Resolution and drops boilerplate", () => {
    const j = {
      error: {
        "@Message.ExtendedInfo": [
          { Message: "Locked.", Resolution: "Unlock the account in the BMC UI." },
          { Message: "B.", Resolution: "Resubmit the request." },
        ],
      },
    };
    expect(redfishErrorText(j)).toBe("Locked. (Unlock the account in the BMC UI.); B.");
    expect(redfishErrorText({ error: { message: "only message" } })).toBe("only message");
    expect(redfishErrorText(null)).toBeUndefined();
  });

  it("maps network failures: refused/reset → unreachable, timeouts, TLS, wrong scheme", () => {
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(networkError(A, err("ECONNREFUSED"), "x", false, 1000, true)).toMatchObject({ code: "unreachable", transient: true });
    expect(networkError(A, err("ECONNRESET"), "x", false, 1000, true).code).toBe("unreachable");
    expect(networkError(A, new Error("aborted"), "x", true, 1000, true)).toMatchObject({ code: "timeout", transient: true });
    expect(networkError(A, err("UND_ERR_HEADERS_TIMEOUT"), "x", false, 1000, true).code).toBe("timeout");
    const tls = networkError(A, err("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), "x", false, 1000, true);
    expect(tls).toMatchObject({ code: "tls", transient: false });
    expect(tls.message).toMatch(/turn off certificate verification/);
    expect(networkError(A, err("EPROTO", "wrong version number"), "x", false, 1000, true).code).toBe("bad_response");
    // undici wraps socket errors: the cause's code counts
    expect(networkError(A, Object.assign(new Error("fetch failed"), { cause: err("ECONNREFUSED") }), "x", false, 1000, true).message).toMatch(
      /refused the connection/,
    );
  });

  it("reads Retry-After in seconds or as an HTTP date", () => {
    expect(retryAfterMs("2")).toBe(2000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    const ms = retryAfterMs(new Date(Date.now() + 5000).toUTCString());
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});

describe("Redfish values", () => {
  it("maps power states, health and task states", () => {
    expect(["On", "Off", "PoweringOn", "PoweringOff", "Paused", "Bogus"].map(mapPowerState)).toEqual([
      "on",
      "off",
      "powering_on",
      "powering_off",
      "on",
      "unknown",
    ]);
    expect(["OK", "Warning", "Critical", undefined].map(mapHealth)).toEqual(["ok", "warning", "critical", "unknown"]);
    expect(taskStateOf({ TaskState: "Running" })).toBe("running");
    expect(taskStateOf({ TaskState: "Completed", TaskStatus: "OK" })).toBe("completed");
    expect(taskStateOf({ TaskState: "Completed", TaskStatus: "Critical" })).toBe("failed");
    expect(taskStateOf({ TaskState: "Exception" })).toBe("failed");
    expect(taskStateOf({ Id: "result" })).toBe("completed");
  });

  it("maps and orders log entries", () => {
    const e = logEntryToEvent({
      Id: "12",
      Created: "2025-03-01T10:00:00Z",
      Severity: "Critical",
      Message: "PSU1 lost",
      MessageId: "X.1.0.PsuLost",
      SensorType: "Power Supply / Converter",
      SensorNumber: 5,
      EntryCode: "Deassert",
    });
    expect(e).toEqual({
      id: "12",
      created: new Date("2025-03-01T10:00:00Z"),
      severity: "critical",
      message: "PSU1 lost",
      messageId: "X.1.0.PsuLost",
      sensorType: "Power Supply / Converter",
      sensor: "5",
      direction: "deasserted",
    });
    expect(logEntryToEvent({ Id: "x", Created: "garbage" }).created).toBeNull();
    const t = (id: string, at: string | null) => ({ id, created: at ? new Date(at) : null, severity: "ok" as const, message: id });
    expect(
      sortEvents([t("10", "2025-01-02T00:00:00Z"), t("9", "2025-01-02T00:00:00Z"), t("1", null), t("3", "2025-01-01T00:00:00Z")]).map((x) => x.id),
    ).toEqual(["1", "3", "9", "10"]);
  });

  it("finds a BMC's base URL in an absolute Redfish URL", () => {
    expect(bmcBaseOf("http://127.0.0.1:4000/redfish/v1/Systems/Bluefield")).toBe("http://127.0.0.1:4000");
    expect(bmcBaseOf("https://bmc.example/prefix/redfish/v1/Systems/1")).toBe("https://bmc.example/prefix");
    expect(bmcBaseOf("/redfish/v1/Systems/1")).toBeUndefined();
  });
});
