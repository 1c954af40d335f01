// The group → role rules of single sign-on (pure): parsing the mapping, reading the groups claim, highest role wins,
// SSO grants follow the groups while hand grants are never changed.
import { describe, expect, it } from "vitest";
import { desiredGrants, groupsFromClaims, membershipChanges, parseGroupList, parseTenantGroups, platformRoleChange } from "./sso-mapping";

const mapping = {
  operatorAdminGroups: ["ops-admins"],
  operatorViewerGroups: ["noc"],
  tenantGroups: parseTenantGroups("acme-admins=acme:tenant-admin, acme-devs=acme:tenant-member,globex=globex:tenant-member"),
};

describe("SSO group mapping", () => {
  it("parses the lists and refuses a malformed tenant rule, naming it", () => {
    expect(parseGroupList(" a, b,,c ")).toEqual(["a", "b", "c"]);
    expect(parseGroupList(undefined)).toEqual([]);
    expect(mapping.tenantGroups).toEqual([
      { group: "acme-admins", tenant: "acme", role: "tenant-admin" },
      { group: "acme-devs", tenant: "acme", role: "tenant-member" },
      { group: "globex", tenant: "globex", role: "tenant-member" },
    ]);
    expect(() => parseTenantGroups("acme-admins=acme:owner")).toThrow(/"acme-admins=acme:owner" is not group=tenant-slug:role/);
    expect(() => parseTenantGroups("acme-admins")).toThrow(/ANVIL_OIDC_TENANT_GROUPS/);
  });

  it("reads the groups claim as a list, a string, or a dotted path", () => {
    expect(groupsFromClaims({ groups: ["a", 1, "b", ""] }, "groups")).toEqual(["a", "b"]);
    expect(groupsFromClaims({ groups: "a b,c" }, "groups")).toEqual(["a", "b", "c"]);
    expect(groupsFromClaims({ realm_access: { roles: ["x"] } }, "realm_access.roles")).toEqual(["x"]);
    expect(groupsFromClaims({ groups: { a: 1 } }, "groups")).toEqual([]);
    expect(groupsFromClaims({}, "groups")).toEqual([]);
  });

  it("grants the highest role each group gives", () => {
    const d = desiredGrants(["noc", "ops-admins", "acme-devs", "acme-admins"], mapping);
    expect(d.platformRole).toBe("operator-admin");
    expect([...d.tenants]).toEqual([["acme", "tenant-admin"]]);
    expect(desiredGrants(["noc", "globex"], mapping)).toEqual({ platformRole: "operator-viewer", tenants: new Map([["globex", "tenant-member"]]) });
    expect(desiredGrants([], mapping)).toEqual({ platformRole: null, tenants: new Map() });
  });

  it("changes SSO memberships to match and leaves hand grants alone", () => {
    const current = [
      { tenantId: "t1", tenantSlug: "acme", role: "tenant-member" as const, source: "sso" as const },
      { tenantId: "t2", tenantSlug: "globex", role: "tenant-member" as const, source: "sso" as const },
      { tenantId: "t3", tenantSlug: "initech", role: "tenant-admin" as const, source: "manual" as const },
      { tenantId: "t4", tenantSlug: "hooli", role: "tenant-member" as const, source: "manual" as const },
    ];
    const want = new Map([
      ["acme", "tenant-admin" as const],
      ["hooli", "tenant-admin" as const],
      ["umbrella", "tenant-member" as const],
    ]);
    expect(membershipChanges(current, want)).toEqual([
      { kind: "set_role", tenantId: "t1", tenantSlug: "acme", from: "tenant-member", to: "tenant-admin" },
      { kind: "revoke", tenantId: "t2", tenantSlug: "globex", role: "tenant-member" },
      { kind: "grant", tenantSlug: "umbrella", role: "tenant-member" },
    ]);
  });

  it("changes the platform role only when it came from SSO or there is none", () => {
    expect(platformRoleChange({ role: null, fromSso: false }, "operator-viewer")).toEqual({ role: "operator-viewer" });
    expect(platformRoleChange({ role: "operator-viewer", fromSso: true }, null)).toEqual({ role: null });
    expect(platformRoleChange({ role: "operator-viewer", fromSso: true }, "operator-viewer")).toBeUndefined();
    expect(platformRoleChange({ role: "operator-viewer", fromSso: false }, "operator-admin")).toBeUndefined();
    expect(platformRoleChange({ role: "operator-admin", fromSso: false }, null)).toBeUndefined();
    expect(platformRoleChange({ role: null, fromSso: false }, null)).toBeUndefined();
  });
});
