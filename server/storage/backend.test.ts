// Which storage backend the environment selects: the HTTP storage service by default, Ceph RBD with ANVIL_STORAGE=ceph
// (and a clear refusal naming the missing variables).
import { afterEach, describe, expect, it } from "vitest";
import { attachProtocol, cephMonitors, getStorage, storageConfig } from "./backend";

const KEYS = [
  "ANVIL_STORAGE",
  "ANVIL_STORAGE_URL",
  "ANVIL_STORAGE_TOKEN",
  "ANVIL_CEPH_MON",
  "ANVIL_CEPH_USER",
  "ANVIL_CEPH_KEYRING",
  "ANVIL_CEPH_NETNS",
  "ANVIL_CEPH_POOL",
  "ANVIL_STORAGE_POOL",
];
const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
const set = (env: Record<string, string>) => {
  for (const k of KEYS) delete process.env[k];
  Object.assign(process.env, env);
};

describe("storage backend selection", () => {
  it("keeps the HTTP storage service as the default", () => {
    set({ ANVIL_STORAGE_URL: "http://127.0.0.1:1", ANVIL_STORAGE_TOKEN: "t" });
    expect(storageConfig()).toEqual({ kind: "http", url: "http://127.0.0.1:1", token: "t", pool: undefined });
  });

  it("selects Ceph with ANVIL_STORAGE=ceph and builds a Ceph client from it", async () => {
    set({ ANVIL_STORAGE: "ceph", ANVIL_CEPH_MON: "127.0.0.1:1", ANVIL_CEPH_USER: "anvil", ANVIL_CEPH_KEYRING: "/nonexistent/keyring", ANVIL_CEPH_POOL: "rbd" });
    expect(storageConfig()).toEqual({ kind: "ceph", mon: "127.0.0.1:1", user: "anvil", keyring: "/nonexistent/keyring", netns: undefined, pool: "rbd" });
    // The Ceph client refuses disk pool creation without calling Ceph: proof it is the Ceph driver, not the HTTP one.
    await expect(getStorage().createDiskPool({ name: "x", diskIds: [] })).rejects.toThrow(/Ceph manages its devices itself/);
  });

  it("names the missing Ceph settings", () => {
    set({ ANVIL_STORAGE: "ceph", ANVIL_CEPH_MON: "127.0.0.1:6789" });
    expect(() => storageConfig()).toThrow(/ANVIL_CEPH_USER, ANVIL_CEPH_KEYRING/);
  });
});

describe("how DPUs attach the backend's volumes", () => {
  it("is NVMe/TCP from the storage service and RBD from Ceph", () => {
    set({ ANVIL_STORAGE_URL: "http://127.0.0.1:1", ANVIL_STORAGE_TOKEN: "t" });
    expect(attachProtocol()).toBe("nvme-tcp");
    set({ ANVIL_STORAGE: "ceph", ANVIL_CEPH_MON: "127.0.0.1:3300", ANVIL_CEPH_USER: "admin", ANVIL_CEPH_KEYRING: "/k" });
    expect(attachProtocol()).toBe("rbd");
  });

  it("gives the agent one host:port per monitor from any mon setting Ceph writes", () => {
    expect(cephMonitors("127.0.0.1:3300")).toEqual(["127.0.0.1:3300"]);
    expect(cephMonitors("[v2:127.0.0.1:3300,v1:127.0.0.1:6789]")).toEqual(["127.0.0.1:3300"]);
    expect(cephMonitors("[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] [v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0]")).toEqual(["10.0.0.1:3300", "10.0.0.2:3300"]);
    expect(cephMonitors("a:3300, b:3300,a:3300")).toEqual(["a:3300", "b:3300"]);
    expect(cephMonitors("[v1:10.0.0.3:6789]")).toEqual(["10.0.0.3:6789"]);
  });
});
