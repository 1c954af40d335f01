// The VXLAN overlay against the lab: each DPU's underlay address is recorded at inspect from its agent; two servers of
// one VPC on two DPUs make each DPU's agent hold the other's VTEP and both addresses (read through the agent's HTTP
// API); an agent that lost its overlay gets it back from the sweep; deleting one server removes its VTEP and address
// from the other DPU and the overlay from its own. The VPC's router: each DPU holds every subnet's gateway with the
// VNI's router MAC, and a subnet created or deleted in the VPC reaches the agents at once (no sweep runs here). The
// router's provider side: an external gateway gives each DPU its own SNAT address and MAC; a floating IP reaches only
// its port's DPU, and a move reaches both DPUs.
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { instanceInput, useEngineLab } from "@/test/engine";
import { callerAs } from "@/test/fixtures";
import { waitOperation } from "@/test/instance-lab";
import { catalog } from "./catalog";
import { getEngine } from "./engine";
import { agentFor } from "./instances";
import { providerMac } from "@/server/services/provider-addresses";
import { routerMac } from "./overlay";
import { enqueue } from "./start";

const db = useTestDb();
const { fx, L } = useEngineLab({
  executor: "overlay",
  hosts: 2,
  env: { ANVIL_OVERLAY_RETRY_MS: "100", ANVIL_OVERLAY_RETRY_MAX_MS: "400", ANVIL_OVERLAY_AGENT_TIMEOUT_MS: "2000" },
});
const tenant = () => callerAs(fx, "tenantMember");

interface Srv {
  id: string;
  portId: string;
  ip: string;
  mac: string;
  dpu: typeof s.nodes.$inferSelect;
}
const servers: Srv[] = [];
let vni = 0;

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Held = {
  vni: number;
  remoteIps: string[];
  neighbors: { ip: string; mac: string }[];
  router?: {
    mac: string;
    subnets: { cidr: string; gateway: string }[];
    external?: {
      mac: string;
      cidr: string;
      vlanId?: number;
      gateway: string;
      gatewayMac: string;
      snatIp?: string;
      floatingIps: { ip: string; fixedIp: string }[];
    };
  };
};
/** The overlay the server's DPU agent holds for the VPC's VNI (GET /v1/overlay/vxlan), or null. */
async function overlayOn(srv: Srv): Promise<Held | null> {
  const items = (await agentFor(srv.dpu).listOverlays()) as Held[];
  return items.find((o) => o.vni === vni) ?? null;
}
const sweep = async () => getEngine().result(await enqueue(catalog.overlayReconcile, ["sweep"]));

describe("the VXLAN overlay", () => {
  it("records each DPU's underlay address at inspect, as its agent reports it", async () => {
    const dpus = await db
      .select()
      .from(s.nodes)
      .where(and(eq(s.nodes.kind, "dpu"), eq(s.nodes.poolId, L.poolId)));
    expect(dpus).toHaveLength(2);
    for (const d of dpus) {
      expect(d.underlayIpSource).toBe("agent");
      expect((await agentFor(d).health()).underlayIp).toBe(d.underlayIp);
    }
    expect(new Set(dpus.map((d) => d.underlayIp)).size).toBe(2);
  });

  it("two servers of one VPC on two DPUs: each DPU gets the other's VTEP and both addresses", async () => {
    const [vpc] = await db.select().from(s.vpcs).where(eq(s.vpcs.id, L.vpcId));
    vni = vpc!.vni;
    for (let i = 0; i < 2; i++) {
      const r = await tenant().instances.create(instanceInput(fx, L));
      expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
      const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, r.id));
      const [port] = await db.select().from(s.ports).where(eq(s.ports.id, inst!.portId!));
      const [alloc] = await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.portId, port!.id));
      const [dpu] = await db
        .select()
        .from(s.nodes)
        .where(and(eq(s.nodes.parentNodeId, inst!.nodeId!), eq(s.nodes.kind, "dpu")));
      servers.push({ id: r.id, portId: port!.id, ip: alloc!.address.replace(/\/\d+$/, ""), mac: port!.mac, dpu: dpu! });
    }
    const [a, b] = servers as [Srv, Srv];
    expect(a.dpu.id).not.toBe(b.dpu.id);
    const neighbors = [a, b].map((x) => ({ ip: x.ip, mac: x.mac })).sort((x, y) => (x.ip < y.ip ? -1 : 1));
    for (const [me, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const o = await waitFor(
        `overlay on ${me.dpu.name}`,
        () => overlayOn(me),
        (v) => v?.remoteIps.length === 1,
      );
      expect(o!.remoteIps).toEqual([other.dpu.underlayIp]);
      expect(o!.neighbors).toEqual(neighbors);
    }
    const rows = await db.select().from(s.dpuOverlays).where(eq(s.dpuOverlays.vni, vni));
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.appliedHash).toBe(r.desiredHash);
  });

  it("gives every DPU of the VNI the VPC's router; a subnet created or deleted in the VPC reaches them at once", async () => {
    expect(servers).toHaveLength(2);
    expect(routerMac(0x123456)).toBe("02:a4:e1:12:34:56");
    expect(routerMac(vni)).toMatch(/^02:a4:e1:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    const first = await tenant().subnets.get({ tenant: fx.tenant.slug, id: L.subnetId } as never);
    const one = [{ cidr: first.cidr, gateway: first.gateway }];
    for (const me of servers) expect((await overlayOn(me))?.router).toEqual({ mac: routerMac(vni), subnets: one });

    const second = await tenant().subnets.create({
      tenant: fx.tenant.slug,
      vpcId: L.vpcId,
      name: uniq("db"),
      cidr: "10.1.32.0/24",
      gateway: "10.1.32.254",
    } as never);
    const both = [...one, { cidr: "10.1.32.0/24", gateway: "10.1.32.254" }];
    for (const me of servers) {
      const o = await waitFor(
        `the second subnet's gateway on ${me.dpu.name}`,
        () => overlayOn(me),
        (v) => v?.router?.subnets.length === 2,
      );
      expect(o!.router).toEqual({ mac: routerMac(vni), subnets: both });
    }
    const rows = await db.select().from(s.dpuOverlays).where(eq(s.dpuOverlays.vni, vni));
    for (const r of rows) expect(r.appliedHash).toBe(r.desiredHash);

    await tenant().subnets.delete({ tenant: fx.tenant.slug, id: second.id } as never);
    for (const me of servers)
      await waitFor(
        `the second subnet's gateway gone from ${me.dpu.name}`,
        () => overlayOn(me),
        (v) => v?.router?.subnets.length === 1 && v.router.subnets[0]!.gateway === first.gateway,
      );
  });

  it("the router's provider side reaches the agents: each DPU its own SNAT address and MAC, a floating IP only on its port's DPU, moved in one step", async () => {
    const [a, b] = servers as [Srv, Srv];
    const t = fx.tenant.slug;
    const pn = await callerAs(fx, "operatorAdmin").networksAdmin.createProviderNetwork({
      name: uniq("pn"),
      cidr: "100.127.250.0/24",
      vlanId: 2950,
      gateway: "100.127.250.1",
      gatewayMac: "52:54:00:fe:00:01",
    });
    await tenant().vpcs.setExternalGateway({ tenant: t, id: L.vpcId, providerNetworkId: pn.id } as never);
    const ext = async (me: Srv, ok: (e: NonNullable<Held["router"]>["external"]) => boolean, what: string) =>
      (await waitFor(
        `${what} on ${me.dpu.name}`,
        () => overlayOn(me),
        (v) => ok(v?.router?.external),
      ))!.router!.external;
    const ea = (await ext(a, (e) => !!e?.snatIp, "a SNAT address"))!;
    const eb = (await ext(b, (e) => !!e?.snatIp, "a SNAT address"))!;
    expect(ea).toMatchObject({ mac: providerMac(a.dpu.id, vni), cidr: "100.127.250.0/24", vlanId: 2950, gateway: "100.127.250.1", floatingIps: [] });
    expect(eb.mac).toBe(providerMac(b.dpu.id, vni));
    expect(ea.snatIp).not.toBe(eb.snatIp);

    const fip = (await tenant().floatingIps.allocate({ tenant: t, providerNetworkId: pn.id } as never)) as { id: string; address: string };
    await tenant().floatingIps.attach({ tenant: t, id: fip.id, portId: a.portId } as never);
    await ext(a, (e) => e?.floatingIps.length === 1, "the floating IP");
    // Its progress, as the tenant sees it: applied on the port's DPU once the agent accepted it.
    const onDpu = await waitFor(
      "the attachment applied",
      async () => ((await tenant().floatingIps.get({ tenant: t, id: fip.id } as never)) as { onDpu: { state: string; dpuName: string } | null }).onDpu,
      (v) => v?.state === "applied",
    );
    expect(onDpu!.dpuName).toBe(a.dpu.name);
    expect((await overlayOn(a))!.router!.external!.floatingIps).toEqual([{ ip: fip.address, fixedIp: a.ip }]);
    expect((await overlayOn(b))!.router!.external!.floatingIps).toEqual([]);

    await tenant().floatingIps.move({ tenant: t, id: fip.id, portId: b.portId } as never);
    await ext(b, (e) => e?.floatingIps.length === 1, "the moved floating IP");
    await ext(a, (e) => e?.floatingIps.length === 0, "the floating IP gone");
    expect((await overlayOn(b))!.router!.external!.floatingIps).toEqual([{ ip: fip.address, fixedIp: b.ip }]);

    // Detached and no gateway: no provider side left anywhere; the address goes back.
    await tenant().floatingIps.detach({ tenant: t, id: fip.id } as never);
    await tenant().vpcs.setExternalGateway({ tenant: t, id: L.vpcId, providerNetworkId: null } as never);
    for (const me of servers) await ext(me, (e) => e === undefined, "no provider side");
    await tenant().floatingIps.release({ tenant: t, id: fip.id } as never);
    const rows = await db.select().from(s.dpuOverlays).where(eq(s.dpuOverlays.vni, vni));
    for (const r of rows) expect(r.appliedHash).toBe(r.desiredHash);
  });

  it("an agent that lost the overlay (a restart without its journal) gets it back from the sweep", async () => {
    const a = servers[0]!;
    await agentFor(a.dpu).deleteOverlay(vni);
    expect(await overlayOn(a)).toBeNull();
    const pass = (await sweep()) as { drifted: number; applied: number };
    expect(pass.drifted).toBe(1);
    expect((await overlayOn(a))?.remoteIps).toEqual([servers[1]!.dpu.underlayIp]);
  });

  it("an operator's underlay address overrides the agent's and reaches the other DPU; bad addresses are refused", async () => {
    const [a, b] = servers as [Srv, Srv];
    const op = callerAs(fx, "operatorAdmin");
    for (const [bad, msg] of [
      ["10.0.0", /not an IP address/],
      ["127.0.0.1", /loopback/],
      [a.dpu.underlayIp!, /already the underlay address of DPU/],
    ] as const)
      await expect(op.nodes.setUnderlayIp({ id: b.dpu.id, underlayIp: bad })).rejects.toThrow(msg);
    await expect(op.nodes.setUnderlayIp({ id: b.dpu.parentNodeId!, underlayIp: "198.51.100.7" })).rejects.toThrow(/Only a DPU/);
    expect(await op.nodes.setUnderlayIp({ id: b.dpu.id, underlayIp: "198.51.100.7" })).toMatchObject({ underlayIpSource: "operator" });
    await waitFor(
      "the new VTEP on the other DPU",
      () => overlayOn(a),
      (v) => v?.remoteIps[0] === "198.51.100.7",
    );
    // Inspection leaves an operator's address alone.
    const { recordUnderlayIps } = await import("./nodes");
    await recordUnderlayIps(b.dpu.parentNodeId!);
    const [row] = await db.select().from(s.nodes).where(eq(s.nodes.id, b.dpu.id));
    expect(row).toMatchObject({ underlayIp: "198.51.100.7", underlayIpSource: "operator" });
  });

  it("deleting one server removes its VTEP and address from the other DPU, and the overlay from its own", async () => {
    const [a, b] = servers as [Srv, Srv];
    const r = await tenant().instances.delete({ tenant: fx.tenant.slug, id: b.id } as never);
    expect((await waitOperation(db, (r as { operationId: string }).operationId)).status).toBe("succeeded");
    const o = await waitFor(
      `overlay on ${a.dpu.name} after the delete`,
      () => overlayOn(a),
      (v) => v?.remoteIps.length === 0,
    );
    expect(o!.neighbors).toEqual([{ ip: a.ip, mac: a.mac }]);
    await waitFor(
      `overlay gone from ${b.dpu.name}`,
      () => overlayOn(b),
      (v) => v === null,
    );
    const rows = await db.select().from(s.dpuOverlays).where(eq(s.dpuOverlays.vni, vni));
    expect(rows.map((x) => x.dpuId)).toEqual([a.dpu.id]);
  });
});
