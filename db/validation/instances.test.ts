// Tests of the instance create input: names, user data (cloud-config must be a YAML mapping, scripts pass,
// size limit), defaults.
import { describe, expect, it, vi } from "vitest";
import { instanceCreateSchema, userDataProblem } from "./instances";

const valid = {
  name: "web-1",
  poolId: "00000000-0000-4000-8000-000000000001",
  imageId: "00000000-0000-4000-8000-000000000002",
  subnetId: "00000000-0000-4000-8000-000000000003",
};

describe("instance create input", () => {
  it("accepts a minimal create and fills defaults", () => {
    const r = instanceCreateSchema.parse(valid);
    expect(r).toMatchObject({ userData: "", securityGroupIds: [], sshKeyIds: [], recoveryPolicy: "manual" });
  });

  it("names the field for bad names and unknown keys", () => {
    const bad = instanceCreateSchema.safeParse({ ...valid, name: "Web_1" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["name"]);
    expect(instanceCreateSchema.safeParse({ ...valid, nodeId: valid.poolId }).success).toBe(false);
  });

  it("checks user data the way cloud-init reads it", () => {
    expect(userDataProblem("")).toBeNull();
    expect(userDataProblem("#cloud-config\npackages: [nginx]\n")).toBeNull();
    expect(userDataProblem("#cloud-config\n")).toBeNull();
    expect(userDataProblem("#!/bin/sh\necho hi\n")).toBeNull();
    expect(userDataProblem("packages: [nginx]\n")).toMatch(/#cloud-config/);
    expect(userDataProblem("#cloud-config\npackages: [nginx\n")).toMatch(/^Not valid YAML/);
    expect(userDataProblem("#cloud-config\n- a\n- b\n")).toMatch(/mapping/);
    expect(userDataProblem(`#cloud-config\nx: "${"a".repeat(70 * 1024)}"\n`)).toMatch(/64 KiB/);
    const r = instanceCreateSchema.safeParse({ ...valid, userData: "#cloud-config\n  bad: [\n" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["userData"]);
  });

  it("keeps a tenant's user data out of the server's output: problems go to the caller only", async () => {
    const printed: string[] = [];
    const onWarning = (w: Error) => printed.push(`warning: ${w.message}`);
    process.on("warning", onWarning);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    const consoles = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args) => {
        printed.push(args.join(" "));
      }),
    );
    try {
      const secret = "tenant-secret-4711";
      // An unknown tag and an unknown directive are warnings in the yaml package (emitted to stderr by default).
      expect(userDataProblem(`#cloud-config\npassword: !vault ${secret}\n`)).toBeNull();
      expect(userDataProblem(`#cloud-config\n%FOO ${secret}\n---\na: 1\n`)).toBeNull();
      expect(userDataProblem(`#cloud-config\nkey: [${secret}\n`)).toMatch(/^Not valid YAML: .*line 3/);
      expect(userDataProblem(`#cloud-config\na: &a [${secret}]\nb: [*a, *a, *a]\n`)).toBeNull();
      await new Promise((r) => setImmediate(r)); // process warnings are emitted on a later tick
    } finally {
      process.off("warning", onWarning);
      stderr.mockRestore();
      for (const c of consoles) c.mockRestore();
    }
    expect(printed).toEqual([]);
  });
});
