// Floating IPs and SNAT against a real Postgres: provider networks gain a gateway, its MAC and a range; tenants
// allocate (lowest free, exclusive under concurrency, a clear error when exhausted), attach to an instance NIC, move,
// detach and release, with refusals that change nothing; a VPC names an external gateway. The overlay each DPU gets
// (desiredOverlays): its own SNAT address and provider MAC, only the floating IPs of its own ports, a move changing
// both DPUs' specs, a detach removing it — every spec passing the agent's OverlaySpecSchema.
import { and, eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { OverlaySpecSchema } from "@/agent/schemas";
import * as s from "@/db/schema";
import { providerMac, syncSnatAddresses } from "@/server/services/provider-addresses";
import { desiredOverlays, routerMac } from "@/server/workflows/overlay";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, type Fixtures, insertHost, insertInstance, insertPool, makeFixtures, useFixtures } from "@/test/fixtures";

const fx = useFixtures({ vpcs: 100, subnets: 100, securityGroups: 200, addresses: 1000 });
const t = () => fx.tenant.slug;
const member = () => callerAs(fx, "tenantMember");
const operator = () => callerAs(fx, "operatorAdmin");

let nextVlan = 2000 + Math.floor(Math.random() * 800);
/** A provider network of this file (VLAN 2000–2999, a /24 or smaller of 100.64.0.0/10), made by an operator. */
async function providerNetwork(prefix = 24, opts: { gateway?: boolean } = {}) {
  const v = nextVlan++;
  const base = `100.${64 + ((v - 2000) >> 8)}.${(v - 2000) & 255}`;
  return operator().networksAdmin.createProviderNetwork({
    name: uniq("pn"),
    cidr: `${base}.0/${prefix}`,
    vlanId: v,
    ...(opts.gateway === false ? {} : { gateway: `${base}.1`, gatewayMac: "52:54:00:00:00:01" }),
  });
}

/** A VPC (10.0.0.0/16, a unique name) with one overlay subnet 10.0.1.0/24, made by the tenant's admin. */
async function network(f: Fixtures) {
  const admin = callerAs(f, "tenantAdmin");
  const vpcId = (await admin.vpcs.create({ tenant: f.tenant.slug, name: uniq("vpc"), cidr: "10.0.0.0/16" })).id;
  const subnetId = (await admin.subnets.create({ tenant: f.tenant.slug, vpcId, name: "web", cidr: "10.0.1.0/24" })).id;
  return { vpcId, subnetId };
}

/** The "running" instances this file made up (no agent behind their DPUs). */
const madeUp: string[] = [];
// The run shares one database: other files' rules and overlay passes must not keep trying DPUs with no agent.
afterAll(async () => {
  for (const id of madeUp) await fx.db.update(s.instances).set({ state: "deleted" }).where(eq(s.instances.id, id));
});

/** An instance NIC of fx.tenant on `subnetId`, running on a host with its own DPU (underlay address given). */
async function server(subnetId: string, poolId: string, underlay: string) {
  const host = await insertHost(fx.db, { poolId });
  const dpu = await insertHost(fx.db, { kind: "dpu", parentNodeId: host.id, underlayIp: underlay });
  const port = await member().ports.create({ tenant: t(), subnetId, name: uniq("nic") });
  await fx.db.update(s.ports).set({ nodeId: host.id }).where(eq(s.ports.id, port.id));
  const inst = await insertInstance(fx.db, { tenantId: fx.tenant.id, poolId, portId: port.id, nodeId: host.id, state: "running" });
  madeUp.push(inst.id);
  return { port, inst, host, dpu, ip: port.address };
}

describe("provider networks: gateway, MAC, range", () => {
  it("a network without a gateway is not usable until an operator sets one; bad gateways are field errors", async () => {
    const pn = await providerNetwork(24, { gateway: false });
    const page = await operator().networksAdmin.providerNetworks({ limit: 200 });
    const row = page.items.find((r) => r.id === pn.id)!;
    expect(row.usableReason).toContain("has no gateway yet");
    expect(row.total).toBe(254);
    const alloc = await failure(member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id }));
    expect(alloc.code).toBe("PRECONDITION_FAILED");
    expect(alloc.message).toContain("has no gateway yet");
    expect(await member().floatingIps.networks({ tenant: t() })).not.toContainEqual(expect.objectContaining({ id: pn.id }));

    const base = pn.cidr.replace(/0\/24$/, "");
    for (const [input, field, text] of [
      [{ gateway: "198.51.100.1", gatewayMac: "52:54:00:00:00:01" }, "gateway", "not inside"],
      [{ gateway: `${base}255`, gatewayMac: "52:54:00:00:00:01" }, "gateway", "broadcast"],
      [{ gateway: `${base}1` }, "gatewayMac", "with its address"],
      [{ gateway: `${base}1`, gatewayMac: "01:00:5e:00:00:01" }, "gatewayMac", "unicast"],
      [{ gateway: `${base}1`, gatewayMac: "52:54:00:00:00:01", rangeStart: `${base}100` }, "rangeEnd", "both ends"],
      [{ gateway: `${base}1`, gatewayMac: "52:54:00:00:00:01", rangeStart: `${base}100`, rangeEnd: `${base}50` }, "rangeEnd", "before the start"],
    ] as const) {
      const err = await failure(operator().networksAdmin.updateProviderNetwork({ id: pn.id, ...input }));
      expect(err.message).toContain(text);
      expect(fieldOf(err)).toBe(field);
    }
    const [unchanged] = await fx.db.select().from(s.providerNetworks).where(eq(s.providerNetworks.id, pn.id));
    expect(unchanged!.gateway).toBeNull();

    await operator().networksAdmin.updateProviderNetwork({
      id: pn.id,
      gateway: `${base}1`,
      gatewayMac: "52:54:00:AA:BB:CC",
      rangeStart: `${base}10`,
      rangeEnd: `${base}19`,
    });
    const after = (await operator().networksAdmin.providerNetworks({ limit: 200 })).items.find((r) => r.id === pn.id)!;
    expect(after).toMatchObject({ gateway: `${base}1`, gatewayMac: "52:54:00:aa:bb:cc", rangeStart: `${base}10`, rangeEnd: `${base}19`, total: 10 });
    expect(after.usableReason).toBeNull();
    const got = await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id });
    expect(got.address).toBe(`${base}10`);
  });
});

describe("floating IPs", () => {
  it("allocates the lowest free address (never the gateway), audited; exhausted is a clear error that changes nothing", async () => {
    const pn = await providerNetwork(29); // .1 gateway, .2–.6 free: 5 addresses
    const base = pn.cidr.replace(/0\/29$/, "");
    const got = [];
    for (let i = 0; i < 5; i++) got.push((await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id })).address);
    expect(got).toEqual([2, 3, 4, 5, 6].map((n) => `${base}${n}`));
    const err = await failure(member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain(`Provider network ${pn.name} has no free addresses (all 5 are in use)`);
    const rows = await fx.db.select().from(s.providerAddresses).where(eq(s.providerAddresses.providerNetworkId, pn.id));
    expect(rows).toHaveLength(5);
    const audits = await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, rows[0]!.id));
    expect(audits.map((a) => a.action)).toEqual(["floating_ip.allocate"]);
    expect(audits[0]!.tenantId).toBe(fx.tenant.id);

    const usage = await operator().networksAdmin.providerNetworkUsage({ id: pn.id });
    expect(usage).toMatchObject({ total: 5, used: 5, byTenant: [{ tenantSlug: t(), floating: 5, attached: 0, snat: 0 }] });
  });

  it("concurrent allocations from two tenants never share an address, and the losers are told the network is exhausted", async () => {
    const pn = await providerNetwork(28); // 14 usable minus the gateway: 13
    const other = await makeFixtures(fx.db);
    const calls = Array.from({ length: 20 }, (_, i) =>
      callerAs(i % 2 ? fx : other, "tenantMember")
        .floatingIps.allocate({ tenant: (i % 2 ? fx : other).tenant.slug, providerNetworkId: pn.id })
        .then(
          (r) => r.address,
          (e: Error) => e,
        ),
    );
    const results = await Promise.all(calls);
    const won = results.filter((r): r is string => typeof r === "string");
    const lost = results.filter((r): r is Error => r instanceof Error);
    expect(won).toHaveLength(13);
    expect(new Set(won).size).toBe(13);
    expect(won).not.toContain(pn.cidr.replace(/0\/28$/, "1"));
    for (const e of lost) expect(e.message).toContain("has no free addresses");
    const rows = await fx.db.select().from(s.providerAddresses).where(eq(s.providerAddresses.providerNetworkId, pn.id));
    expect(rows).toHaveLength(13);
    // The operator's view: used/total, by tenant.
    const usage = await operator().networksAdmin.providerNetworkUsage({ id: pn.id });
    expect(usage.used).toBe(13);
    expect(usage.byTenant.map((b) => b.floating).reduce((a, b) => a + b, 0)).toBe(13);
    expect(usage.byTenant).toHaveLength(2);
  });

  it("attach, move (one step), detach and release; the instance's floating IP is listed with it", async () => {
    const pn = await providerNetwork();
    const net = await network(fx);
    const pool = await insertPool(fx.db);
    const a = await server(net.subnetId, pool.id, "192.0.2.11");
    const b = await server(net.subnetId, pool.id, "192.0.2.12");
    const fip = await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id });

    expect((await member().floatingIps.get({ tenant: t(), id: fip.id })).onDpu).toBeNull();
    const att = await member().floatingIps.attach({ tenant: t(), id: fip.id, portId: a.port.id });
    // No overlay pass runs here: the attachment waits for the DPU (overlay.test.ts sees it applied by a real agent).
    expect((await member().floatingIps.get({ tenant: t(), id: fip.id })).onDpu).toEqual({ state: "pending", error: null, dpuName: a.dpu.name });
    expect(att).toMatchObject({ address: fip.address, fixedIp: a.ip, instanceName: a.inst.name });
    const listed = await member().floatingIps.list({ tenant: t(), instanceId: a.inst.id });
    expect(listed.items).toEqual([expect.objectContaining({ address: fip.address, instanceName: a.inst.name, fixedIp: a.ip, providerNetworkName: pn.name })]);
    const ports = await member().floatingIps.attachablePorts({ tenant: t() });
    expect(ports.find((p) => p.portId === a.port.id)).toMatchObject({ floatingIp: fip.address, fixedIp: a.ip });

    await member().floatingIps.move({ tenant: t(), id: fip.id, portId: b.port.id });
    expect((await member().floatingIps.get({ tenant: t(), id: fip.id })).instanceName).toBe(b.inst.name);
    expect((await member().floatingIps.list({ tenant: t(), instanceId: a.inst.id })).items).toEqual([]);

    await member().floatingIps.detach({ tenant: t(), id: fip.id });
    expect((await member().floatingIps.get({ tenant: t(), id: fip.id })).portId).toBeNull();
    await member().floatingIps.release({ tenant: t(), id: fip.id });
    expect(await fx.db.select().from(s.providerAddresses).where(eq(s.providerAddresses.id, fip.id))).toEqual([]);
    const audits = await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, fip.id));
    expect(audits.map((x) => x.action).sort()).toEqual(
      ["floating_ip.allocate", "floating_ip.attach", "floating_ip.move", "floating_ip.detach", "floating_ip.release"].sort(),
    );
  });

  it("refuses with clear errors and changes nothing: another tenant's port or address, already attached, a port with one, no instance, bad input", async () => {
    const pn = await providerNetwork();
    const net = await network(fx);
    const pool = await insertPool(fx.db);
    const a = await server(net.subnetId, pool.id, "192.0.2.21");
    const b = await server(net.subnetId, pool.id, "192.0.2.22");
    const one = await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id });
    const two = await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id });
    await member().floatingIps.attach({ tenant: t(), id: one.id, portId: a.port.id });
    const snapshot = async () =>
      (await fx.db.select().from(s.providerAddresses).where(eq(s.providerAddresses.providerNetworkId, pn.id))).map((r) => [r.id, r.portId]).sort();
    const before = await snapshot();

    // Already attached: attach again is refused (move is the verb).
    const again = await failure(member().floatingIps.attach({ tenant: t(), id: one.id, portId: b.port.id }));
    expect(again.code).toBe("CONFLICT");
    expect(again.message).toContain("already attached");
    // A port that has one already.
    const taken = await failure(member().floatingIps.attach({ tenant: t(), id: two.id, portId: a.port.id }));
    expect(taken.code).toBe("CONFLICT");
    expect(taken.message).toContain(`already has floating IP ${one.address}`);
    expect(fieldOf(taken)).toBe("portId");
    // Moving onto its own port; detaching an unattached one.
    expect((await failure(member().floatingIps.move({ tenant: t(), id: one.id, portId: a.port.id }))).message).toContain("already attached to that port");
    expect((await failure(member().floatingIps.detach({ tenant: t(), id: two.id }))).message).toContain("is not attached");
    expect((await failure(member().floatingIps.move({ tenant: t(), id: two.id, portId: b.port.id }))).message).toContain("attach it instead");
    // A port that is no instance's NIC.
    const loose = await member().ports.create({ tenant: t(), subnetId: net.subnetId, name: uniq("loose") });
    const noInst = await failure(member().floatingIps.attach({ tenant: t(), id: two.id, portId: loose.id }));
    expect(noInst.code).toBe("PRECONDITION_FAILED");
    expect(noInst.message).toContain("not a NIC of an instance");

    // Another tenant: its port does not exist for us, our address does not exist for it.
    const other = await makeFixtures(fx.db);
    const theirNet = await network(other);
    const theirPort = await callerAs(other, "tenantMember").ports.create({ tenant: other.tenant.slug, subnetId: theirNet.subnetId, name: uniq("p") });
    const cross = await failure(member().floatingIps.attach({ tenant: t(), id: two.id, portId: theirPort.id }));
    expect(cross.code).toBe("NOT_FOUND");
    const them = callerAs(other, "tenantMember").floatingIps;
    for (const call of [
      () => them.release({ tenant: other.tenant.slug, id: one.id }),
      () => them.detach({ tenant: other.tenant.slug, id: one.id }),
      () => them.get({ tenant: other.tenant.slug, id: one.id }),
    ])
      expect((await failure(call())).code).toBe("NOT_FOUND");
    // Bad input.
    expect((await failure(member().floatingIps.allocate({ tenant: t(), providerNetworkId: "nope" } as never))).code).toBe("BAD_REQUEST");
    expect((await failure(member().floatingIps.allocate({ tenant: t(), providerNetworkId: crypto.randomUUID() }))).code).toBe("NOT_FOUND");

    expect(await snapshot()).toEqual(before);
    // The database itself refuses a second floating IP on one port (the unique index), whatever the application does.
    await expect(fx.db.update(s.providerAddresses).set({ portId: a.port.id }).where(eq(s.providerAddresses.id, two.id))).rejects.toThrow();
    // ...and one address twice in one network.
    await expect(
      fx.db.insert(s.providerAddresses).values({ tenantId: fx.tenant.id, providerNetworkId: pn.id, kind: "floating", address: one.address }),
    ).rejects.toThrow();
  });

  it("a VPC's router has one provider network: floating IPs of two networks, or a gateway elsewhere, are refused", async () => {
    const pn1 = await providerNetwork();
    const pn2 = await providerNetwork();
    const net = await network(fx);
    const pool = await insertPool(fx.db);
    const a = await server(net.subnetId, pool.id, "192.0.2.31");
    const b = await server(net.subnetId, pool.id, "192.0.2.32");
    const f1 = await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn1.id });
    const f2 = await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn2.id });
    await member().floatingIps.attach({ tenant: t(), id: f1.id, portId: a.port.id });
    const mixed = await failure(member().floatingIps.attach({ tenant: t(), id: f2.id, portId: b.port.id }));
    expect(mixed.message).toContain("all come from one provider network");
    const gw = await failure(member().vpcs.setExternalGateway({ tenant: t(), id: net.vpcId, providerNetworkId: pn2.id }));
    expect(gw.message).toContain(`Floating IP ${f1.address} of provider network ${pn1.name} is attached`);
    await member().vpcs.setExternalGateway({ tenant: t(), id: net.vpcId, providerNetworkId: pn1.id });
    expect(await member().vpcs.get({ tenant: t(), id: net.vpcId })).toMatchObject({ externalNetworkId: pn1.id, externalNetworkName: pn1.name });
    const viaGw = await failure(
      member()
        .floatingIps.move({ tenant: t(), id: f1.id, portId: b.port.id })
        .then(() => member().floatingIps.attach({ tenant: t(), id: f2.id, portId: a.port.id })),
    );
    expect(viaGw.message).toContain(`reaches the outside through provider network ${pn1.name}`);
    const noGw = await providerNetwork(24, { gateway: false });
    expect((await failure(member().vpcs.setExternalGateway({ tenant: t(), id: net.vpcId, providerNetworkId: noGw.id }))).message).toContain(
      "has no gateway yet",
    );
    // A provider network in use cannot be deleted, nor lose its gateway.
    const del = await failure(operator().networksAdmin.deleteProviderNetwork({ id: pn1.id }));
    expect(del.code).toBe("PRECONDITION_FAILED");
    expect(del.message).toContain("in use");
    expect((await failure(operator().networksAdmin.updateProviderNetwork({ id: pn1.id, gateway: "", gatewayMac: "" }))).message).toContain("in use");
    await member().vpcs.setExternalGateway({ tenant: t(), id: net.vpcId, providerNetworkId: null });
    expect((await member().vpcs.get({ tenant: t(), id: net.vpcId })).externalNetworkId).toBeNull();
  });
});

describe("the overlay's provider side (desiredOverlays router.external)", () => {
  it("SNAT on two DPUs (each its own address and MAC), a floating IP only on its port's DPU, a move changing both, a detach removing it", async () => {
    const pn = await providerNetwork();
    const base = pn.cidr.replace(/0\/24$/, "");
    const net = await network(fx);
    const pool = await insertPool(fx.db);
    const a = await server(net.subnetId, pool.id, "192.0.2.41");
    const b = await server(net.subnetId, pool.id, "192.0.2.42");
    const [vpc] = await fx.db.select().from(s.vpcs).where(eq(s.vpcs.id, net.vpcId));
    const vni = vpc!.vni;
    const specs = async () => {
      await syncSnatAddresses();
      const all = (await desiredOverlays()).filter((d) => d.vni === vni);
      expect(all).toHaveLength(2);
      // Exactly what the agent accepts: the spec parses to itself.
      for (const d of all) expect(OverlaySpecSchema.parse(d.spec)).toEqual(d.spec);
      const of = (dpuId: string) => all.find((d) => d.dpu.dpuId === dpuId)!;
      return { a: of(a.dpu.id), b: of(b.dpu.id) };
    };

    const plain = await specs();
    expect(plain.a.spec.router?.external).toBeUndefined();
    expect(plain.b.spec.router?.external).toBeUndefined();

    // SNAT: each DPU its own address of the network and its own MAC.
    await member().vpcs.setExternalGateway({ tenant: t(), id: net.vpcId, providerNetworkId: pn.id });
    const snat = await specs();
    const ea = snat.a.spec.router!.external!;
    const eb = snat.b.spec.router!.external!;
    expect(ea).toMatchObject({ vlanId: pn.vlanId, cidr: pn.cidr, gateway: `${base}1`, gatewayMac: "52:54:00:00:00:01", floatingIps: [] });
    expect(ea.snatIp).toMatch(new RegExp(`^${base.replace(/\./g, "\\.")}\\d+$`));
    expect(eb.snatIp).toMatch(new RegExp(`^${base.replace(/\./g, "\\.")}\\d+$`));
    expect(ea.snatIp).not.toBe(eb.snatIp);
    expect(ea.mac).toBe(providerMac(a.dpu.id, vni));
    expect(eb.mac).toBe(providerMac(b.dpu.id, vni));
    expect(ea.mac).not.toBe(eb.mac);
    expect(ea.mac).not.toBe(routerMac(vni));
    expect(ea.mac).toMatch(/^0a(:[0-9a-f]{2}){5}$/);
    expect((await operator().networksAdmin.providerNetworkUsage({ id: pn.id })).byTenant).toEqual([
      expect.objectContaining({ tenantSlug: t(), snat: 2, floating: 0 }),
    ]);
    // The same state computes the same specs (the hash is stable, the reconciler pushes nothing new).
    expect((await specs()).a.hash).toBe(snat.a.hash);

    // A floating IP on a's port: only a's DPU has it.
    const fip = await member().floatingIps.allocate({ tenant: t(), providerNetworkId: pn.id });
    await member().floatingIps.attach({ tenant: t(), id: fip.id, portId: a.port.id });
    const attached = await specs();
    expect(attached.a.spec.router!.external!.floatingIps).toEqual([{ ip: fip.address, fixedIp: a.ip }]);
    expect(attached.b.spec.router!.external!.floatingIps).toEqual([]);
    expect(attached.a.hash).not.toBe(snat.a.hash);
    expect(attached.b.hash).toBe(snat.b.hash);

    // Moved to b's port: both DPUs' specs change, in one step.
    await member().floatingIps.move({ tenant: t(), id: fip.id, portId: b.port.id });
    const moved = await specs();
    expect(moved.a.spec.router!.external!.floatingIps).toEqual([]);
    expect(moved.b.spec.router!.external!.floatingIps).toEqual([{ ip: fip.address, fixedIp: b.ip }]);
    expect(moved.a.hash).not.toBe(attached.a.hash);
    expect(moved.b.hash).not.toBe(attached.b.hash);

    // Without SNAT, only the DPU with a floating IP has a provider side; the SNAT addresses go back at once.
    await member().vpcs.setExternalGateway({ tenant: t(), id: net.vpcId, providerNetworkId: null });
    expect(
      await fx.db
        .select()
        .from(s.providerAddresses)
        .where(and(eq(s.providerAddresses.vpcId, net.vpcId))),
    ).toEqual([]);
    const fipOnly = await specs();
    expect(fipOnly.a.spec.router!.external).toBeUndefined();
    expect(fipOnly.b.spec.router!.external).toEqual(expect.objectContaining({ floatingIps: [{ ip: fip.address, fixedIp: b.ip }] }));
    expect(fipOnly.b.spec.router!.external!.snatIp).toBeUndefined();

    // Detached: gone from b, and no provider side is left.
    await member().floatingIps.detach({ tenant: t(), id: fip.id });
    const detached = await specs();
    expect(detached.a.spec.router!.external).toBeUndefined();
    expect(detached.b.spec.router!.external).toBeUndefined();
    expect(detached.b.hash).toBe(plain.b.hash);
  });

  it("a DPU that stops hosting a port of the VPC gives its SNAT address back", async () => {
    const pn = await providerNetwork();
    const net = await network(fx);
    const pool = await insertPool(fx.db);
    const a = await server(net.subnetId, pool.id, "192.0.2.51");
    const b = await server(net.subnetId, pool.id, "192.0.2.52");
    await member().vpcs.setExternalGateway({ tenant: t(), id: net.vpcId, providerNetworkId: pn.id });
    await syncSnatAddresses();
    const held = async () => (await fx.db.select().from(s.providerAddresses).where(eq(s.providerAddresses.vpcId, net.vpcId))).map((r) => r.dpuId).sort();
    expect(await held()).toEqual([a.dpu.id, b.dpu.id].sort());
    await fx.db.update(s.instances).set({ state: "deleted" }).where(eq(s.instances.id, b.inst.id));
    await syncSnatAddresses();
    expect(await held()).toEqual([a.dpu.id]);
  });
});
