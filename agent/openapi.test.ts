// Keeps agent/openapi.yaml honest: the set of (method, path) it documents must equal the routes the server
// serves, and every error code the code can raise for validation must be mentioned.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ROUTES } from "./server";

const yaml = readFileSync(new URL("./openapi.yaml", import.meta.url), "utf8");

function documented(): string[] {
  const out: string[] = [];
  let inPaths = false;
  let path = "";
  for (const line of yaml.split("\n")) {
    if (/^paths:/.test(line)) inPaths = true;
    else if (/^\S/.test(line)) inPaths = false;
    if (!inPaths) continue;
    const p = /^ {2}(\/\S+):\s*$/.exec(line);
    if (p) path = p[1];
    const m = /^ {4}(get|put|post|delete|patch):/.exec(line);
    if (m) out.push(`${m[1].toUpperCase()} ${path}`);
  }
  return out.sort();
}

describe("openapi.yaml", () => {
  it("documents exactly the routes the server serves", () => {
    const served = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    expect(documented()).toEqual(served);
  });

  it("marks only the liveness probe as unauthenticated", () => {
    expect(ROUTES.filter((r) => !r.auth).map((r) => r.path)).toEqual(["/v1/health/live"]);
    expect(yaml.match(/security: \[\]/g)).toHaveLength(1);
  });

  it("mentions every error code the agent raises", () => {
    for (const code of [
      "rule_overlap",
      "rule_duplicate",
      "rule_invalid_ports",
      "rule_invalid_cidr",
      "user_data_too_large",
      "mac_in_use",
      "boot_disk_exists",
      "target_in_use",
      "nic_exists",
      "payload_too_large",
      "injected_fault",
      "spdk_error",
      "unsupported_transport",
      "unplug_timeout",
      "no_free_root_port",
      "remote_ip_is_local",
      "duplicate_neighbor",
      "duplicate_remote_ip",
      "duplicate_name",
      "gateway_outside_subnet",
      "router_subnet_overlap",
      "router_mac_in_use",
      "gateway_in_use",
      "invalid_vni",
      "address_outside_provider_network",
      "external_ip_in_use",
      "duplicate_floating_ip",
      "duplicate_fixed_ip",
      "fixed_ip_unknown",
      "no_uplink",
    ]) {
      expect(yaml, code).toContain(code);
    }
  });
});
