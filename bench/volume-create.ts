// Volume create-from-image latency through the BFF: N concurrent tenant requests (default 100) to
// volumes.create with an imageId, called in-process on the real tRPC router (createCaller) with a real Postgres
// (embedded) and the lab storage service, so each request does the quota transaction, the thin clone on the
// storage service (idempotency key = row id) and the state update. Prints p50/p95/max and throughput; asserts
// nothing. The storage service runs in this process too (its CPU is counted).
//   npx tsx bench/volume-create.ts [concurrency=100] [latency=zero|realistic]
import fs from "node:fs";
import { allowServerOnlyOutsideNext } from "../server/console/register";
import { benchDataDir, benchPostgres } from "./_setup";

const n = Number(process.argv[2] ?? 100);
const latency = (process.argv[3] ?? "zero") as "zero" | "realistic";
const dir = benchDataDir("volumes");
Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? "test" });
allowServerOnlyOutsideNext();

const pg = await benchPostgres(dir);
const { getDb, closeDb } = await import("../db/client");
const s = await import("../db/schema");
const { startTestStorage } = await import("@/test/storage");
const { getStorage, defaultLogicalPoolId } = await import("../server/storage/backend");
const { buildImage } = await import("../server/storage/images");
const { withSampleImage } = await import("../server/storage/sample-image");
const { createCaller } = await import("../server/api/root");
const svc = await startTestStorage({ latency });
const db = getDb();

try {
  const [tenant] = await db.insert(s.tenants).values({ slug: "bench", name: "Bench" }).returning();
  const userId = crypto.randomUUID();
  await db.insert(s.users).values({ id: userId, email: "bench@test.local", name: "bench" });
  await db.insert(s.memberships).values({ tenantId: tenant!.id, userId, role: "tenant-member" });
  await db.insert(s.quotas).values({ tenantId: tenant!.id, volumes: n + 10, volumeGiB: (n + 10) * 20 });
  const image = await withSampleImage(64 * 1024 * 1024, async (build) =>
    buildImage({ db, principal: null, requestId: "bench" }, { name: "ubuntu-24.04", os: "ubuntu", version: "24.04", visibility: "public" }, build, {
      sizeBytes: 10 * 1024 ** 3,
      logicalPoolId: await defaultLogicalPoolId(),
    }),
  );
  const caller = createCaller({
    db,
    principal: { userId, email: "bench@test.local", name: "bench", platformRole: null, sessionId: null, tokenScope: null },
    requestId: "bench",
    headers: new Headers(),
  });
  // Warm-up: connections to Postgres and the storage service.
  for (let i = 0; i < 3; i++) await caller.volumes.create({ tenant: "bench", name: `warm-${i}`, sizeGiB: 10, imageId: image.id });

  const times: number[] = [];
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const t = performance.now();
      await caller.volumes.create({ tenant: "bench", name: `vm-${i}`, sizeGiB: 20, imageId: image.id });
      times.push(performance.now() - t);
    }),
  );
  const wall = performance.now() - t0;
  const failed = results.filter((r) => r.status === "rejected");
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(1);
  const onService = (await getStorage().listVolumes({ limit: 1000 })).items.filter((v) => v.sourceSnapshotId === image.storageSnapshotId).length;
  console.log(`volume create-from-image, ${n} concurrent requests through the tRPC router (storage latency profile: ${latency})`);
  console.log(`  ok ${times.length}, failed ${failed.length}${failed.length ? ` (first: ${(failed[0] as PromiseRejectedResult).reason?.message})` : ""}`);
  console.log(`  latency p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${times[times.length - 1]?.toFixed(1)} ms`);
  console.log(`  wall ${wall.toFixed(0)} ms, ${(times.length / (wall / 1000)).toFixed(0)} creates/s; thin clones on the service: ${onService}`);
} finally {
  await getStorage().close();
  await svc.close();
  await closeDb();
  await pg.stop({ immediate: true });
  fs.rmSync(dir, { recursive: true, force: true });
}
