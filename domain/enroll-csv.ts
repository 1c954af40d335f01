// Bulk enrollment CSV: parse (RFC 4180 via csv-parse) and validate each row into an enroll input, keeping a
// per-row error instead of failing the whole file. Columns (header required, order free):
//   name,pool,driver,bmc_address,bmc_username,bmc_password,verify_tls,dpu_bmc_address,dpu_bmc_username,
//   dpu_bmc_password,agent_url,agent_token,dedicated_power,dpu_bmc_driver (redfish, the default, or ipmi),
//   traits (the host's, separated by spaces or semicolons: "CUSTOM_GPU; HW_CPU_X86_AVX2", normalized as on its page)
// `sim/lab.ts` writes exactly this format for its fleet.
import { parse } from "csv-parse/sync";
import { type EnrollInput, enrollSchema } from "@/db/validation/nodes";

export const CSV_COLUMNS = [
  "name",
  "pool",
  "driver",
  "bmc_address",
  "bmc_username",
  "bmc_password",
  "verify_tls",
  "dpu_bmc_address",
  "dpu_bmc_username",
  "dpu_bmc_password",
  "agent_url",
  "agent_token",
  "dedicated_power",
  "dpu_bmc_driver",
  "traits",
] as const;
const REQUIRED = ["name", "driver", "bmc_address", "bmc_username", "bmc_password"];
export const MAX_CSV_ROWS = 20_000;

export type CsvRow =
  | { line: number; name: string; ok: true; pool: string | null; input: Omit<EnrollInput, "poolId"> }
  | { line: number; name: string; ok: false; error: string };

function bool(v: string | undefined, dflt: boolean): boolean | null {
  if (v === undefined || v.trim() === "") return dflt;
  const t = v.trim().toLowerCase();
  if (["true", "yes", "1", "y"].includes(t)) return true;
  if (["false", "no", "0", "n"].includes(t)) return false;
  return null;
}

export function parseEnrollCsv(text: string): { rows: CsvRow[] } | { error: string } {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      relax_column_count: false,
      bom: true,
    });
  } catch (e) {
    // csv-parse quotes the offending field ("…, value is \"…\"") — which may be a password: say where, never what.
    return { error: `The file is not valid CSV: ${(e as Error).message.replace(/,?\s*value is [\s\S]*$/, "")}` };
  }
  if (records.length === 0) return { error: "The file has a header but no rows." };
  if (records.length > MAX_CSV_ROWS) return { error: `The file has ${records.length} rows; at most ${MAX_CSV_ROWS} at a time.` };
  const header = Object.keys(records[0]!);
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length) return { error: `The header lacks required column(s): ${missing.join(", ")}. Expected: ${CSV_COLUMNS.join(",")}` };
  const unknown = header.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (unknown.length) return { error: `Unknown column(s): ${unknown.join(", ")}. Expected: ${CSV_COLUMNS.join(",")}` };

  const rows: CsvRow[] = records.map((r, i) => {
    const line = i + 2;
    const name = r.name ?? "";
    const verifyTls = bool(r.verify_tls, true);
    const dedicated = bool(r.dedicated_power, false);
    if (verifyTls === null) return { line, name, ok: false, error: "verify_tls: use true or false" };
    if (dedicated === null) return { line, name, ok: false, error: "dedicated_power: use true or false" };
    // DPU credentials alone are enough: enrollment finds the DPU the host's BMC names and calls it with them.
    const hasDpu = !!(r.dpu_bmc_address || r.dpu_bmc_username || r.dpu_bmc_password || r.agent_url || r.dpu_bmc_driver);
    const candidate = {
      name,
      driver: (r.driver ?? "").toLowerCase(),
      address: r.bmc_address ?? "",
      username: r.bmc_username ?? "",
      password: r.bmc_password ?? "",
      verifyTls,
      dedicatedPower: dedicated,
      // A space separates traits here (a cell holds a list), so "custom gpu" is two traits, not CUSTOM_GPU.
      traits: (r.traits ?? "").split(/[\s;]+/).filter(Boolean),
      dpu: hasDpu
        ? {
            driver: (r.dpu_bmc_driver || "redfish").toLowerCase(),
            address: r.dpu_bmc_address ?? "",
            username: r.dpu_bmc_username ?? "",
            password: r.dpu_bmc_password ?? "",
            agentUrl: r.agent_url ?? "",
            agentToken: r.agent_token ?? "",
          }
        : undefined,
    };
    const parsed = enrollSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path[0] === "traits" ? "traits" : issue.path.join(".");
      const col =
        {
          address: "bmc_address",
          username: "bmc_username",
          password: "bmc_password",
          "dpu.driver": "dpu_bmc_driver",
          "dpu.address": "dpu_bmc_address",
          "dpu.username": "dpu_bmc_username",
          "dpu.password": "dpu_bmc_password",
        }[path] ?? path;
      return { line, name, ok: false, error: `${col}: ${issue.message}` };
    }
    const { poolId: _p, ...input } = parsed.data;
    return { line, name, ok: true, pool: r.pool?.trim() || null, input };
  });
  const seen = new Map<string, number>();
  for (const row of rows) {
    if (!row.ok) continue;
    const prev = seen.get(row.name.toLowerCase());
    if (prev) Object.assign(row, { ok: false, error: `name ${row.name} repeats line ${prev}` });
    else seen.set(row.name.toLowerCase(), row.line);
  }
  return { rows };
}
