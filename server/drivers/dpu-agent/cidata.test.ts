// Tests of the cidata renderer: its output passes the agent's own schema (the same parse PUT /v1/cidata does)
// and says the MAC-matched static address, default route, DNS and SSH keys the instance needs.
import { describe, expect, it } from "vitest";
import { CidataSpecSchema } from "@/agent/schemas";
import { dpuHostNqn, renderCidata } from "./cidata";

const base = {
  instanceId: "i-0a1b2c",
  hostname: "web-1",
  userData: "#cloud-config\npackages: [nginx]\n",
  sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG user@host"],
  mac: "02:AB:00:00:00:01",
  address: "10.0.0.5",
  subnetCidr: "10.0.0.0/24",
  gateway: "10.0.0.1",
  dns: ["10.0.0.2"],
};

describe("renderCidata", () => {
  it("renders a seed the agent accepts, with the static address on the port's MAC", () => {
    const spec = CidataSpecSchema.parse(renderCidata(base));
    const eth = spec.networkConfig?.network.ethernets?.eth0;
    expect(eth?.match?.macaddress).toBe("02:ab:00:00:00:01");
    expect(eth?.addresses).toEqual(["10.0.0.5/24"]);
    expect(eth?.routes).toEqual([{ to: "default", via: "10.0.0.1" }]);
    expect(eth?.nameservers?.addresses).toEqual(["10.0.0.2"]);
    expect(spec.metaData["instance-id"]).toBe("i-0a1b2c");
    expect(spec.metaData["public-keys"]).toEqual(base.sshPublicKeys);
    expect(spec.userData).toBe(base.userData);
  });

  it("omits the route and DNS when the subnet has none, and works for IPv6", () => {
    const spec = CidataSpecSchema.parse(renderCidata({ ...base, gateway: null, dns: [], sshPublicKeys: [], address: "fd00::5", subnetCidr: "fd00::/64" }));
    const eth = spec.networkConfig?.network.ethernets?.eth0;
    expect(eth?.routes).toBeUndefined();
    expect(eth?.nameservers).toBeUndefined();
    expect(eth?.addresses).toEqual(["fd00::5/64"]);
    expect(spec.metaData["public-keys"]).toBeUndefined();
  });

  it("names a DPU's initiator with a valid NQN the agent accepts", () => {
    const nqn = dpuHostNqn("5f0c6a1e-0000-4000-8000-000000000001");
    expect(nqn).toMatch(/^nqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+:.+$/);
  });
});
