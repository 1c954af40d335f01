// Bulk-enrollment CSV parsing: good rows, per-row errors, header problems.
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, parseEnrollCsv } from "./enroll-csv";

const header = CSV_COLUMNS.join(",");

describe("parseEnrollCsv", () => {
  it("parses rows into enroll inputs with their pool", () => {
    const csv = `${header}\nnode-1,general,redfish,http://127.0.0.1:9001,admin,pw,false,http://127.0.0.1:9002,,,http://127.0.0.1:9003,tok,false,redfish,\n`;
    const r = parseEnrollCsv(csv);
    expect("rows" in r).toBe(true);
    if (!("rows" in r)) return;
    expect(r.rows[0]).toMatchObject({
      ok: true,
      line: 2,
      pool: "general",
      input: { name: "node-1", driver: "redfish", verifyTls: false, dpu: { agentToken: "tok" } },
    });
  });

  it("takes the DPU BMC's own credentials from dpu_bmc_username/dpu_bmc_password, with or without its address", () => {
    const csv = [
      "name,driver,bmc_address,bmc_username,bmc_password,dpu_bmc_address,dpu_bmc_username,dpu_bmc_password",
      "n1,redfish,http://127.0.0.1:9001,admin,hostpw,,dpuadmin,dpupw",
      "n2,redfish,http://127.0.0.1:9004,admin,hostpw,http://127.0.0.1:9005,dpuadmin,dpupw",
      "n3,redfish,http://127.0.0.1:9006,admin,hostpw,,,",
    ].join("\n");
    const r = parseEnrollCsv(csv);
    if (!("rows" in r)) throw new Error(r.error);
    expect(r.rows[0]).toMatchObject({ ok: true, input: { password: "hostpw", dpu: { address: "", username: "dpuadmin", password: "dpupw" } } });
    expect(r.rows[1]).toMatchObject({ ok: true, input: { dpu: { address: "http://127.0.0.1:9005", username: "dpuadmin", password: "dpupw" } } });
    // No DPU column filled: no DPU section at all (inspection finds the DPU and asks for its credentials).
    expect(r.rows[2]).toMatchObject({ ok: true });
    expect(r.rows[2]!.ok && r.rows[2]!.input.dpu).toBeUndefined();
  });

  it("reads the DPU BMC's protocol from dpu_bmc_driver (Redfish unless it says ipmi) and names the column of a bad one", () => {
    const csv = [
      "name,driver,bmc_address,bmc_username,bmc_password,dpu_bmc_driver,dpu_bmc_address,dpu_bmc_username,dpu_bmc_password",
      "i1,redfish,http://127.0.0.1:9001,admin,pw,IPMI,10.0.1.5:623,dpu,dpupw",
      "i2,redfish,http://127.0.0.1:9002,admin,pw,snmp,10.0.1.6,dpu,dpupw",
      "i3,redfish,http://127.0.0.1:9003,admin,pw,ipmi,http://10.0.1.7,dpu,dpupw",
      "i4,redfish,http://127.0.0.1:9004,admin,pw,ipmi,,dpu,dpupw",
    ].join("\n");
    const r = parseEnrollCsv(csv);
    if (!("rows" in r)) throw new Error(r.error);
    expect(r.rows[0]).toMatchObject({ ok: true, input: { dpu: { driver: "ipmi", address: "10.0.1.5:623" } } });
    expect(r.rows[1]).toMatchObject({ ok: false, error: expect.stringMatching(/^dpu_bmc_driver: /) });
    expect(r.rows[2]).toMatchObject({ ok: false, error: expect.stringMatching(/^dpu_bmc_address: Enter the BMC's host or host:port/) });
    expect(r.rows[3]).toMatchObject({ ok: false, error: expect.stringMatching(/^dpu_bmc_address: Enter the IPMI DPU BMC's host/) });
  });

  it("reads the host's traits from the traits column, split on spaces or semicolons and normalized; a bad one names the column", () => {
    const csv = [
      "name,driver,bmc_address,bmc_username,bmc_password,traits",
      'with,ipmi,10.0.0.1,admin,pw,"custom-gpu; HW_CPU_X86_AVX2  custom_gpu"',
      "without,ipmi,10.0.0.2,admin,pw,",
      "bad,ipmi,10.0.0.3,admin,pw,CUSTOM_GPU;GPU!",
      "digit,ipmi,10.0.0.4,admin,pw,9LIVES",
    ].join("\n");
    const r = parseEnrollCsv(csv);
    if (!("rows" in r)) throw new Error(r.error);
    expect(r.rows[0]).toMatchObject({ ok: true, input: { traits: ["CUSTOM_GPU", "HW_CPU_X86_AVX2"] } });
    expect(r.rows[1]).toMatchObject({ ok: true, input: { traits: [] } });
    expect(r.rows[2]).toEqual({
      line: 4,
      name: "bad",
      ok: false,
      error: 'traits: "GPU!" is not a trait: letters, digits and underscores, starting with a letter (e.g. CUSTOM_GPU).',
    });
    expect(r.rows[3]).toMatchObject({ line: 5, ok: false, error: expect.stringMatching(/^traits: "9LIVES" is not a trait/) });
    // Without the column, no traits.
    const plain = parseEnrollCsv("name,driver,bmc_address,bmc_username,bmc_password\nn,ipmi,10.0.0.1,admin,pw");
    expect("rows" in plain && plain.rows[0]).toMatchObject({ ok: true, input: { traits: [] } });
  });

  it("gives each bad row its own error and keeps the good ones", () => {
    const csv = [
      "name,driver,bmc_address,bmc_username,bmc_password",
      "good,ipmi,10.0.0.1:623,admin,pw",
      "bad addr,redfish,ftp://x,admin,pw",
      "n3,redfish,not a url,admin,pw",
      "n4,snmp,10.0.0.2,admin,pw",
      "n5,ipmi,10.0.0.3,,pw",
      "good,ipmi,10.0.0.4,admin,pw",
    ].join("\n");
    const r = parseEnrollCsv(csv);
    if (!("rows" in r)) throw new Error(r.error);
    expect(r.rows.map((x) => x.ok)).toEqual([true, false, false, false, false, false]);
    expect(r.rows[1]).toMatchObject({ ok: false, error: expect.stringMatching(/^name: /) });
    expect(r.rows[2]).toMatchObject({ ok: false, error: expect.stringMatching(/^bmc_address: Enter the BMC's base URL/) });
    expect(r.rows[3]).toMatchObject({ ok: false, error: expect.stringMatching(/^driver: /) });
    expect(r.rows[4]).toMatchObject({ ok: false, error: "bmc_username: Required" });
    expect(r.rows[5]).toMatchObject({ ok: false, error: "name good repeats line 2" });
  });

  it("says where the CSV is broken without quoting the field, which may be a password", () => {
    const r = parseEnrollCsv(`name,driver,bmc_address,bmc_username,bmc_password\nx,ipmi,10.0.0.1,admin,CanaryPw4f9a"rest\n`);
    expect(r).toMatchObject({ error: expect.stringMatching(/not valid CSV: .*line 2/) });
    expect(JSON.stringify(r)).not.toContain("CanaryPw4f9a");
  });

  it("refuses a file with missing or unknown columns, or broken quoting", () => {
    expect(parseEnrollCsv("name,driver\nx,ipmi")).toMatchObject({ error: expect.stringMatching(/lacks required column\(s\): bmc_address/) });
    expect(parseEnrollCsv(`${header},colour\n`)).toMatchObject({ error: expect.stringMatching(/no rows|Unknown column/) });
    expect(parseEnrollCsv(`name,driver,bmc_address,bmc_username,bmc_password\n"x,ipmi,1,2,3`)).toMatchObject({ error: expect.stringMatching(/not valid CSV/) });
  });
});
