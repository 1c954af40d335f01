// Host traits against the real Postgres: an operator admin sets a host's traits (normalized, a malformed one refused
// with nothing changed, audited with what it replaced; DPUs refused) and a pool's required traits; a tenant reads the
// traits the pool's schedulable hosts offer; the scheduler (reserveNode) places an instance only on a host having the
// pool's and the instance's required traits, and instances.create refuses traits no host of the pool has, naming them.
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { seal } from "@/server/lib/secrets";
import { reserveNode } from "@/server/workflows/instances";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, insertHost, insertInstance, insertPool, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

/** An available host of the pool with an agent-equipped DPU: one the scheduler could pick. */
async function host(poolId: string, traits: string[] = [], name = uniq("host")) {
  const h = await insertHost(fx.db, { name, poolId, provisionState: "available", traits });
  await insertHost(fx.db, { name: uniq("dpu"), kind: "dpu", parentNodeId: h.id, agentUrl: "http://127.0.0.1:1", agentToken: seal("t") });
  return h;
}

const instance = async (poolId: string, requiredTraits: string[] = []) =>
  (await insertInstance(fx.db, { tenantId: fx.tenant.id, poolId, systemVolumeSizeGiB: 10, requiredTraits })).id;

const reserve = (poolId: string, instanceId: string) => fx.db.transaction((tx) => reserveNode(tx, poolId, instanceId));

describe("traits", () => {
  it("sets a host's traits normalized and audited; refuses a malformed one and DPUs, changing nothing", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const p = await insertPool(fx.db);
    const h = await host(p.id);
    const r = await admin.traits.setNode({ id: h.id, traits: ["custom-gpu", " CUSTOM_GPU", "hw cpu x86 avx2", ""] });
    expect(r.traits).toEqual(["CUSTOM_GPU", "HW_CPU_X86_AVX2"]);
    const [row] = await fx.db.select().from(s.nodes).where(eq(s.nodes.id, h.id));
    expect(row!.traits).toEqual(["CUSTOM_GPU", "HW_CPU_X86_AVX2"]);
    const [a] = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, h.id), eq(s.auditEvents.action, "node.set_traits")));
    expect(a!.details).toEqual({ traits: { from: [], to: ["CUSTOM_GPU", "HW_CPU_X86_AVX2"] } });

    const bad = await failure(admin.traits.setNode({ id: h.id, traits: ["CUSTOM_GPU", "GPU!"] }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(fieldOf(bad)).toBe("traits");
    expect(bad.message).toContain("is not a trait: letters, digits and underscores");
    expect((await failure(admin.traits.setNode({ id: h.id, traits: ["9LIVES"] }))).code).toBe("BAD_REQUEST");
    const [dpu] = await fx.db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, h.id));
    const e = await failure(admin.traits.setNode({ id: dpu!.id, traits: ["CUSTOM_GPU"] }));
    expect(e.code).toBe("PRECONDITION_FAILED");
    expect(e.message).toMatch(/is a DPU/);
    expect((await fx.db.select().from(s.nodes).where(eq(s.nodes.id, h.id)))[0]!.traits).toEqual(["CUSTOM_GPU", "HW_CPU_X86_AVX2"]);
    expect((await fx.db.select().from(s.nodes).where(eq(s.nodes.id, dpu!.id)))[0]!.traits).toEqual([]);
  });

  it("the scheduler takes only a host with the instance's traits, even when another sorts first", async () => {
    const p = (await insertPool(fx.db)).id;
    await host(p, [], "aaa-plain-" + uniq("h"));
    const gpu = await host(p, ["CUSTOM_GPU"], "zzz-gpu-" + uniq("h"));
    const wants = await instance(p, ["CUSTOM_GPU"]);
    expect((await reserve(p, wants))?.hostId).toBe(gpu.id);
    // The only GPU host is taken now: another GPU instance finds none, a plain one still gets the plain host.
    expect(await reserve(p, await instance(p, ["CUSTOM_GPU"]))).toBeNull();
    expect((await reserve(p, await instance(p)))?.hostId).not.toBe(gpu.id);
  });

  it("a pool's required traits keep hosts without them out of its flavour and of the scheduler", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const p = await insertPool(fx.db);
    await host(p.id, ["CUSTOM_OTHER"], "aaa-" + uniq("h"));
    const fast = await host(p.id, ["CUSTOM_NVME", "CUSTOM_GPU"], "zzz-" + uniq("h"));
    await admin.traits.setPool({ id: p.id, requiredTraits: ["custom_nvme"] });
    const [a] = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, p.id), eq(s.auditEvents.action, "pool.set_required_traits")));
    expect(a!.details).toEqual({ requiredTraits: { from: [], to: ["CUSTOM_NVME"] } });

    const member = callerAs(fx, "tenantMember");
    // Only the qualifying host's traits are on offer; the pool's own requirement is said apart.
    expect(await member.traits.ofPool({ tenant: fx.tenant.slug, poolId: p.id })).toEqual({
      required: ["CUSTOM_NVME"],
      available: ["CUSTOM_GPU", "CUSTOM_NVME"],
    });
    const flavor = (await member.instances.flavors({ tenant: fx.tenant.slug })).find((f) => f.poolId === p.id);
    expect(flavor).toMatchObject({ total: 1, available: 1, requiredTraits: ["CUSTOM_NVME"] });
    expect((await reserve(p.id, await instance(p.id)))?.hostId).toBe(fast.id);
    expect(await reserve(p.id, await instance(p.id))).toBeNull();
  });

  it("instances.create refuses traits no host of the pool has, naming them, and creates nothing", async () => {
    const p = await insertPool(fx.db);
    await host(p.id, ["CUSTOM_GPU"]);
    const member = callerAs(fx, "tenantMember");
    const name = uniq("srv");
    const e = await failure(
      member.instances.create({
        tenant: fx.tenant.slug,
        name,
        poolId: p.id,
        imageId: crypto.randomUUID(),
        subnetId: crypto.randomUUID(),
        requiredTraits: ["custom-gpu", "custom_fpga"],
      }),
    );
    expect(e.code).toBe("PRECONDITION_FAILED");
    expect(fieldOf(e)).toBe("requiredTraits");
    expect(e.message).toBe(`No host in pool ${p.name} has the traits CUSTOM_FPGA, CUSTOM_GPU.`);
    expect(await fx.db.select().from(s.instances).where(eq(s.instances.name, name))).toEqual([]);
  });
});
