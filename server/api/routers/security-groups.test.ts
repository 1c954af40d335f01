// Security groups and ports against a real Postgres: rule field errors (port order, ports on icmp, CIDR family, a
// remote group of another tenant is "No such security group"), rule changes reaching every port that uses the group
// (rules_version), remote-group expansion in a port's compiled rules, delete refusals, cross-tenant NOT_FOUND.
import { beforeAll, describe, expect, it } from "vitest";
import { RuleSetSchema } from "@/agent/rules";
import * as s from "@/db/schema";
import { ruleSetAllows } from "@/server/domain/rule-compiler";
import { uniq } from "@/test/db";
import { appAndDbGroups, callerAs, failure, fieldOf, makeNetwork, portRulesVersion, useFixtures } from "@/test/fixtures";

const fx = useFixtures({ vpcs: 100, subnets: 200, securityGroups: 200, addresses: 1000 });
let vpcId: string;
let subnetId: string;
let defaultGroupId: string;
beforeAll(async () => {
  ({ vpcId, subnetId, defaultGroupId } = await makeNetwork(fx));
});

const version = (id: string) => portRulesVersion(fx.db, id);

describe("security groups and ports", () => {
  it("an SSH rule reaches every port using the group; the compiled rules allow exactly that", async () => {
    const m = callerAs(fx, "tenantMember");
    const t = fx.tenant.slug;
    const web = await m.securityGroups.create({ tenant: t, vpcId, name: uniq("web") });
    const p1 = await m.ports.create({ tenant: t, subnetId, name: uniq("p"), securityGroupIds: [web.id, defaultGroupId] });
    const p2 = await m.ports.create({ tenant: t, subnetId, name: uniq("p"), securityGroupIds: [web.id] });
    const bystander = await m.ports.create({ tenant: t, subnetId, name: uniq("p") });
    const before = await Promise.all([p1.id, p2.id, bystander.id].map(version));
    await m.securityGroups.addRule({
      tenant: t,
      groupId: web.id,
      direction: "ingress",
      ethertype: "ipv4",
      protocol: "tcp",
      portMin: 22,
      portMax: 22,
      remoteCidr: "0.0.0.0/0",
    });
    const after = await Promise.all([p1.id, p2.id, bystander.id].map(version));
    expect(after[0]).toBe(before[0]! + 1);
    expect(after[1]).toBe(before[1]! + 1);
    // bystander is only in the default group; its rules did not change through "web"
    expect(after[2]).toBe(before[2]);
    expect((await m.securityGroups.affectedPorts({ tenant: t, id: web.id })).map((p) => p.id).sort()).toEqual([p1.id, p2.id].sort());

    const { ruleSet } = await m.ports.rules({ tenant: t, id: p2.id });
    expect(RuleSetSchema.safeParse(ruleSet).success).toBe(true);
    expect(ruleSetAllows(ruleSet, { direction: "ingress", protocol: "tcp", port: 22, remote: "198.51.100.7" })).toBe(true);
    expect(ruleSetAllows(ruleSet, { direction: "ingress", protocol: "tcp", port: 80, remote: "198.51.100.7" })).toBe(false);

    // p1 is also in "default": ingress from the default group's members (p1 and bystander), expanded to /32s
    const r1 = (await m.ports.rules({ tenant: t, id: p1.id })).ruleSet;
    expect(ruleSetAllows(r1, { direction: "ingress", protocol: "udp", port: 53, remote: bystander.address })).toBe(true);
    expect(ruleSetAllows(r1, { direction: "ingress", protocol: "udp", port: 53, remote: p2.address })).toBe(false);
    expect(ruleSetAllows(r1, { direction: "egress", protocol: "udp", port: 53, remote: "8.8.8.8" })).toBe(true);
    expect(ruleSetAllows((await m.ports.rules({ tenant: t, id: p2.id })).ruleSet, { direction: "egress", protocol: "udp", port: 53, remote: "8.8.8.8" })).toBe(
      false,
    );

    // a new member of "default" changes the rules of ports that name "default" as a remote group
    const v1 = await version(p1.id);
    await m.ports.create({ tenant: t, subnetId, name: uniq("p") });
    expect(await version(p1.id)).toBe(v1 + 1);
  });

  it.each([
    [{ protocol: "tcp", portMin: 30, portMax: 20, remoteCidr: "0.0.0.0/0" }, "portMax", "before the first"],
    [{ protocol: "icmp", portMin: 1, portMax: 2, remoteCidr: "0.0.0.0/0" }, "portMin", "TCP and UDP only"],
    [{ protocol: "tcp", portMin: 22, remoteCidr: "fd00::/8" }, "remoteCidr", "not an IPv4 range"],
    [{ protocol: "tcp", portMin: 22 }, "remoteCidr", "remote CIDR or a remote security group"],
    [{ protocol: "tcp", portMin: 22, remoteCidr: "10.0.0.1/8" }, "remoteCidr", "host bits"],
    [{ protocol: "tcp", portMin: 0, remoteCidr: "0.0.0.0/0" }, "portMin", "1–65535"],
  ])("rule %j → field error on %s, nothing added", async (over, field, text) => {
    const m = callerAs(fx, "tenantMember");
    const g = await m.securityGroups.create({ tenant: fx.tenant.slug, vpcId, name: uniq("g") });
    const err = await failure(m.securityGroups.addRule({ tenant: fx.tenant.slug, groupId: g.id, direction: "ingress", ethertype: "ipv4", ...over } as never));
    expect(err.message).toContain(text);
    expect(fieldOf(err)).toBe(field);
    expect((await m.securityGroups.get({ tenant: fx.tenant.slug, id: g.id })).rules).toEqual([]);
  });

  it("a remote group of another tenant is 'No such security group'", async () => {
    const o = callerAs(fx, "otherTenantMember");
    await fx.db.insert(s.quotas).values({ tenantId: fx.otherTenant.id, vpcs: 10 }).onConflictDoNothing();
    const ov = await o.vpcs.create({ tenant: fx.otherTenant.slug, name: "theirs", cidr: "10.0.0.0/16" });
    const theirGroup = (await o.vpcs.get({ tenant: fx.otherTenant.slug, id: ov.id })).defaultGroup!.id;
    const m = callerAs(fx, "tenantMember");
    const g = await m.securityGroups.create({ tenant: fx.tenant.slug, vpcId, name: uniq("g") });
    const err = await failure(
      m.securityGroups.addRule({ tenant: fx.tenant.slug, groupId: g.id, direction: "ingress", ethertype: "ipv4", protocol: "any", remoteGroupId: theirGroup }),
    );
    expect(err.message).toBe("No such security group");
    expect(fieldOf(err)).toBe("remoteGroupId");
    // and their group cannot be attached to our port either
    const err2 = await failure(m.ports.create({ tenant: fx.tenant.slug, subnetId, name: uniq("p"), securityGroupIds: [theirGroup] }));
    expect(err2.message).toBe("No such security group");
    // nor read or changed by us
    expect((await failure(m.securityGroups.get({ tenant: fx.tenant.slug, id: theirGroup }))).code).toBe("NOT_FOUND");
    expect((await failure(o.securityGroups.get({ tenant: fx.otherTenant.slug, id: g.id }))).code).toBe("NOT_FOUND");
    expect(
      (
        await failure(
          o.securityGroups.addRule({
            tenant: fx.otherTenant.slug,
            groupId: g.id,
            direction: "ingress",
            ethertype: "ipv4",
            protocol: "any",
            remoteCidr: "0.0.0.0/0",
          }),
        )
      ).code,
    ).toBe("NOT_FOUND");
  });

  it("delete refusals name the reason: default group, attached ports, rules naming it", async () => {
    const m = callerAs(fx, "tenantMember");
    const t = fx.tenant.slug;
    expect((await failure(m.securityGroups.delete({ tenant: t, id: defaultGroupId }))).message).toContain("deleted with its VPC");
    const { app, db } = await appAndDbGroups(fx, vpcId);
    expect((await failure(m.securityGroups.delete({ tenant: t, id: app.id }))).message).toContain(`Rules of ${db.name} name ${app.name}`);
    const port = await m.ports.create({ tenant: t, subnetId, name: uniq("p"), securityGroupIds: [db.id] });
    expect((await failure(m.securityGroups.delete({ tenant: t, id: db.id }))).message).toContain("attached to 1 port");
    await m.ports.update({ tenant: t, id: port.id, securityGroupIds: [] });
    await m.securityGroups.delete({ tenant: t, id: db.id });
    await m.securityGroups.delete({ tenant: t, id: app.id });
  });

  it("ports: fixed address, locally administered unique MACs, address released on delete", async () => {
    const m = callerAs(fx, "tenantMember");
    const t = fx.tenant.slug;
    const p = await m.ports.create({ tenant: t, subnetId, name: uniq("fixed"), address: "10.0.1.77" });
    expect(p.address).toBe("10.0.1.77");
    expect(Number.parseInt(p.mac.slice(0, 2), 16) & 0x03).toBe(0x02);
    const err = await failure(m.ports.create({ tenant: t, subnetId, name: uniq("dup"), address: "10.0.1.77" }));
    expect(fieldOf(err)).toBe("address");
    expect(err.message).toContain("already in use");
    expect((await failure(m.ports.create({ tenant: t, subnetId, name: uniq("gw"), address: "10.0.1.1" }))).message).toContain("gateway");
    await m.ports.delete({ tenant: t, id: p.id });
    const again = await m.ports.create({ tenant: t, subnetId, name: uniq("again"), address: "10.0.1.77" });
    expect(again.address).toBe("10.0.1.77");
    expect((await failure(callerAs(fx, "otherTenantMember").ports.get({ tenant: fx.otherTenant.slug, id: again.id }))).code).toBe("NOT_FOUND");
  });
});
