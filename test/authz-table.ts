// The authorization coverage table: every tRPC procedure × every kind of caller, with the expected outcome.
// server/api/authz.test.ts runs each cell for real and fails when a procedure has no row here.
// Later resources add their rows (and input fixtures) here.
import { nodeFixture, operationFixture, poolsFixture, rolloutFixture } from "./authz-fixtures";
import { apiTokenFixture, invitationFixture, memberFixture, sshKeyFixture, sshPublicKeyFixture, tenantFixture, userFixture } from "./authz-fixtures";
import { eq } from "drizzle-orm";
import * as netSchema from "@/db/schema";
import { freeProviderSlot, networkFixture, portFixture, providerNetworkFixture } from "./authz-fixtures";
import { floatingIpFixture, instancePortFixture, usableProviderNetworkFixture } from "./authz-fixtures";
import { diskPoolFixture, freeDiskFixture, imageFixture, logicalPoolFixture, snapshotFixture, storageFixture, volumeFixture } from "./authz-fixtures";
import { imageUrlFixture, instanceFixture, sessionFixture, webhookFixture } from "./authz-fixtures";
import type { Fixtures, Role } from "@/test/fixtures";

/** "ok" = allowed and succeeded. BAD_REQUEST / PRECONDITION_FAILED = allowed through authorization, then refused
 *  by input validation or a rule (used where success would need real hardware behind the fixture). */
export type Outcome = "ok" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_REQUEST" | "PRECONDITION_FAILED";
export interface AuthzRow {
  /** Input for one call; may create what the call consumes (called once per role). */
  input: (fx: Fixtures, role: Role) => unknown | Promise<unknown>;
  expect: Record<Role, Outcome>;
}

const anyone: Record<Role, Outcome> = {
  anonymous: "ok",
  operatorAdmin: "ok",
  operatorViewer: "ok",
  tenantAdmin: "ok",
  tenantMember: "ok",
  otherTenantMember: "ok",
};
const signedIn: Record<Role, Outcome> = { ...anyone, anonymous: "UNAUTHORIZED" };
/** Operator console reads: operators only; everyone else is told it does not exist. */
export const operatorRead: Record<Role, Outcome> = {
  anonymous: "UNAUTHORIZED",
  operatorAdmin: "ok",
  operatorViewer: "ok",
  tenantAdmin: "NOT_FOUND",
  tenantMember: "NOT_FOUND",
  otherTenantMember: "NOT_FOUND",
};
export const operatorWrite: Record<Role, Outcome> = { ...operatorRead, operatorViewer: "FORBIDDEN" };
/** Tenant portal reads of fx.tenant: its members; operators and other tenants get NOT_FOUND. */
export const tenantRead: Record<Role, Outcome> = {
  anonymous: "UNAUTHORIZED",
  operatorAdmin: "NOT_FOUND",
  operatorViewer: "NOT_FOUND",
  tenantAdmin: "ok",
  tenantMember: "ok",
  otherTenantMember: "NOT_FOUND",
};
export const tenantWrite: Record<Role, Outcome> = { ...tenantRead };
export const tenantAdminWrite: Record<Role, Outcome> = { ...tenantRead, tenantMember: "FORBIDDEN" };

export const authzTable: Record<string, AuthzRow> = {
  "session.me": { input: () => undefined, expect: anyone },
  "session.switchTenant": {
    input: (fx) => ({ tenant: fx.tenant.slug }),
    expect: { ...signedIn, operatorAdmin: "NOT_FOUND", operatorViewer: "NOT_FOUND", otherTenantMember: "NOT_FOUND" },
  },

  "pools.list": { input: () => ({}), expect: operatorRead },
  "pools.get": { input: async (fx) => ({ id: (await poolsFixture(fx)).id }), expect: operatorRead },
  "pools.create": { input: () => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, resourceClass: "bm.test" }), expect: operatorWrite },
  "pools.update": { input: async (fx) => ({ id: (await poolsFixture(fx)).id, description: "changed" }), expect: operatorWrite },
  "pools.delete": { input: async (fx) => ({ id: (await poolsFixture(fx)).id }), expect: operatorWrite },

  "audit.list": { input: () => ({}), expect: operatorRead },

  "nodes.list": { input: () => ({ q: "authz" }), expect: operatorRead },
  "nodes.get": { input: async (fx) => ({ id: (await nodeFixture(fx)).id }), expect: operatorRead },
  "nodes.overview": { input: () => undefined, expect: operatorRead },
  "nodes.enroll": {
    // Authorized callers get through to the BMC probe, which finds nothing on a closed port.
    input: () => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, driver: "redfish", address: "http://127.0.0.1:1", username: "u", password: "p" }),
    expect: { ...operatorWrite, operatorAdmin: "BAD_REQUEST" },
  },
  "nodes.enrollBulk": {
    input: () => ({ csv: "name,driver,bmc_address,bmc_username,bmc_password\nauthz-bulk,redfish,http://127.0.0.1:1,u,p\n" }),
    expect: operatorWrite,
  },
  "nodes.probe": { input: () => ({ driver: "redfish", address: "http://127.0.0.1:1", username: "u", password: "p" }), expect: operatorWrite },
  "nodes.transition": { input: async (fx) => ({ id: (await nodeFixture(fx)).id, event: "provide" }), expect: operatorWrite },
  "nodes.inspect": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id] }), expect: operatorWrite },
  "nodes.power": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id], action: "on" }), expect: operatorWrite },
  "nodes.setBootDevice": {
    input: async (fx) => ({ id: (await nodeFixture(fx)).id, device: "disk" }),
    expect: { ...operatorWrite, operatorAdmin: "PRECONDITION_FAILED" },
  },
  "nodes.setMaintenance": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id], on: true, reason: "authz" }), expect: operatorWrite },
  "nodes.moveToPool": { input: async (fx) => ({ ids: [(await nodeFixture(fx)).id], poolId: (await poolsFixture(fx)).id }), expect: operatorWrite },
  "nodes.setUnderlayIp": {
    input: async (fx) => ({
      id: (await nodeFixture(fx, { kind: "dpu" })).id,
      underlayIp: `198.18.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`,
    }),
    expect: operatorWrite,
  },
  "nodes.delete": { input: async (fx) => ({ id: (await nodeFixture(fx)).id }), expect: operatorWrite },
  "nodes.runStep": { input: async (fx) => ({ id: (await nodeFixture(fx)).id, step: "power_on" }), expect: operatorWrite },
  // Authorized callers get through to the host's BMC, which does not answer on the fixture's closed port.
  "nodeBios.get": {
    input: async (fx) => ({ id: (await nodeFixture(fx)).id }),
    expect: { ...operatorRead, operatorAdmin: "PRECONDITION_FAILED", operatorViewer: "PRECONDITION_FAILED" },
  },
  "nodeBios.set": {
    input: async (fx) => ({ id: (await nodeFixture(fx)).id, attributes: { SysProfile: "PerfOptimized" } }),
    expect: { ...operatorWrite, operatorAdmin: "PRECONDITION_FAILED" },
  },
  "eventDelivery.get": { input: async (fx) => ({ id: (await nodeFixture(fx)).id }), expect: operatorRead },
  "traits.setNode": { input: async (fx) => ({ id: (await nodeFixture(fx)).id, traits: ["custom-gpu"] }), expect: operatorWrite },
  "traits.setPool": { input: async (fx) => ({ id: (await poolsFixture(fx)).id, requiredTraits: ["CUSTOM_GPU"] }), expect: operatorWrite },
  "traits.ofPool": { input: async (fx) => ({ tenant: fx.tenant.slug, poolId: (await poolsFixture(fx)).id }), expect: tenantRead },
  "nodes.firmwareUpdate": {
    input: async (fx) => ({ id: (await nodeFixture(fx, { kind: "dpu", powerState: "on" })).id, imageUri: "http://127.0.0.1:1/bf.bfb" }),
    expect: operatorWrite,
  },
  // The fixture's BMC is a closed port: an admin gets past authorization and the probe refuses the credentials.
  "dpuBmc.setCredentials": {
    input: async (fx) => ({
      id: (await nodeFixture(fx, { kind: "dpu", bmcCredentials: null, bmcCredentialsFingerprint: null })).id,
      username: "u",
      password: "p",
    }),
    expect: { ...operatorWrite, operatorAdmin: "BAD_REQUEST" },
  },
  "nodes.virtualMediaBoot": {
    input: async (fx) => ({ id: (await nodeFixture(fx)).id, imageUrl: "http://127.0.0.1:1/rescue.iso" }),
    expect: operatorWrite,
  },
  "rollouts.list": { input: () => ({}), expect: operatorRead },
  "rollouts.get": { input: async (fx) => ({ id: (await rolloutFixture(fx, "running")).id }), expect: operatorRead },
  "rollouts.start": {
    // A host without DPUs: the run skips it (nothing reaches a BMC).
    input: async (fx) => ({ imageUri: "http://127.0.0.1:1/dpu.bfb", maxUnavailable: 1, instancePolicy: "skip", hostIds: [(await nodeFixture(fx)).id] }),
    expect: operatorWrite,
  },
  "rollouts.pause": { input: async (fx) => ({ id: (await rolloutFixture(fx, "running")).id }), expect: operatorWrite },
  "rollouts.resume": { input: async (fx) => ({ id: (await rolloutFixture(fx, "paused")).id }), expect: operatorWrite },
  "rollouts.abort": { input: async (fx) => ({ id: (await rolloutFixture(fx, "running")).id }), expect: operatorWrite },
  "events.list": { input: () => ({}), expect: operatorRead },
  "operations.list": { input: () => ({}), expect: operatorRead },
  "operations.get": { input: async (fx) => ({ id: (await operationFixture(fx)).id }), expect: operatorRead },
  // The fixture is a node operation: admins get past the guard and are told it is not retried / aborted from here.
  "operations.retry": { input: async (fx) => ({ id: (await operationFixture(fx)).id }), expect: { ...operatorWrite, operatorAdmin: "PRECONDITION_FAILED" } },
  "operations.abort": { input: async (fx) => ({ id: (await operationFixture(fx)).id }), expect: { ...operatorWrite, operatorAdmin: "PRECONDITION_FAILED" } },

  // Tenancy: operators run tenants and users; tenant admins run their members; everyone signed in has own tokens/keys.
  "tenants.list": { input: () => ({ q: "authz" }), expect: operatorRead },
  "tenants.get": { input: (fx) => ({ id: fx.tenant.id }), expect: operatorRead },
  "tenants.members": { input: (fx) => ({ id: fx.tenant.id }), expect: operatorRead },
  "tenants.create": { input: () => ({ slug: `authz-${crypto.randomUUID().slice(0, 8)}`, name: "Authz tenant" }), expect: operatorWrite },
  "tenants.rename": { input: async (fx) => ({ id: (await tenantFixture(fx)).id, name: "Renamed" }), expect: operatorWrite },
  "tenants.suspend": { input: async (fx) => ({ id: (await tenantFixture(fx)).id }), expect: operatorWrite },
  "tenants.resume": { input: async (fx) => ({ id: (await tenantFixture(fx, "suspended")).id }), expect: operatorWrite },
  "tenants.delete": { input: async (fx) => ({ id: (await tenantFixture(fx)).id }), expect: operatorWrite },
  "tenants.addMember": {
    input: async (fx) => ({
      id: (await tenantFixture(fx)).id,
      email: `authz-${crypto.randomUUID().slice(0, 8)}@test.local`,
      name: "Invited",
      role: "tenant-admin",
    }),
    expect: operatorWrite,
  },
  "tenants.removeMember": {
    input: async (fx) => {
      const t = await tenantFixture(fx);
      await memberFixture(fx, t.id, "tenant-admin");
      return { id: t.id, userId: (await memberFixture(fx, t.id)).id };
    },
    expect: operatorWrite,
  },
  "tenants.setMemberRole": {
    input: async (fx) => {
      const t = await tenantFixture(fx);
      return { id: t.id, userId: (await memberFixture(fx, t.id)).id, role: "tenant-admin" };
    },
    expect: operatorWrite,
  },
  "users.list": { input: () => ({ q: "authz" }), expect: operatorRead },
  "users.get": { input: (fx) => ({ id: fx.principals.tenantMember.userId }), expect: operatorRead },
  "users.create": { input: () => ({ email: `authz-${crypto.randomUUID().slice(0, 8)}@test.local`, name: "Created" }), expect: operatorWrite },
  "users.resetPassword": { input: async (fx) => ({ id: (await userFixture(fx)).id }), expect: operatorWrite },
  "users.setDisabled": { input: async (fx) => ({ id: (await userFixture(fx)).id, disabled: true }), expect: operatorWrite },
  "users.signOutEverywhere": { input: async (fx) => ({ id: (await userFixture(fx)).id }), expect: operatorWrite },
  "users.setPlatformRole": { input: async (fx) => ({ id: (await userFixture(fx)).id, role: "operator-viewer" }), expect: operatorWrite },
  "members.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "members.add": {
    input: (fx) => ({ tenant: fx.tenant.slug, email: `authz-${crypto.randomUUID().slice(0, 8)}@test.local`, name: "Invited" }),
    expect: tenantAdminWrite,
  },
  "members.remove": { input: async (fx) => ({ tenant: fx.tenant.slug, userId: (await memberFixture(fx)).id }), expect: tenantAdminWrite },
  "members.setRole": {
    input: async (fx) => ({ tenant: fx.tenant.slug, userId: (await memberFixture(fx)).id, role: "tenant-member" }),
    expect: tenantAdminWrite,
  },
  // Invitations: tenant admins list and revoke their tenant's; the invitee (any signed-in user, by address) answers.
  "invitations.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantAdminWrite },
  "invitations.revoke": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await invitationFixture(fx, undefined, fx.tenant.id)).id }),
    expect: tenantAdminWrite,
  },
  "invitations.mine": { input: () => ({}), expect: signedIn },
  "invitations.accept": {
    input: async (fx, role) => ({ id: role === "anonymous" ? crypto.randomUUID() : (await invitationFixture(fx, fx.principals[role].email)).id }),
    expect: signedIn,
  },
  "invitations.decline": {
    input: async (fx, role) => ({ id: role === "anonymous" ? crypto.randomUUID() : (await invitationFixture(fx, fx.principals[role].email)).id }),
    expect: signedIn,
  },
  // The caller's own sign-in security and sessions (a session of someone else is NOT_FOUND, like a missing one).
  "account.security": { input: () => undefined, expect: signedIn },
  "account.sessions": { input: () => ({}), expect: signedIn },
  "account.revokeSession": {
    input: async (fx, role) => ({ id: role === "anonymous" ? crypto.randomUUID() : (await sessionFixture(fx, fx.principals[role].userId)).id }),
    expect: signedIn,
  },
  "account.revokeOtherSessions": { input: () => undefined, expect: signedIn },
  "quotas.get": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "quotas.set": { input: async (fx) => ({ tenantId: (await tenantFixture(fx)).id, limits: { vpcs: 7 } }), expect: operatorWrite },
  "apiTokens.list": { input: () => ({}), expect: signedIn },
  "apiTokens.create": {
    // Each caller asks for a scope it holds: operators their platform role, tenant users their own tenant.
    input: (fx, role) => {
      const name = `authz-${crypto.randomUUID().slice(0, 8)}`;
      if (role === "operatorAdmin" || role === "operatorViewer")
        return { name, expiresInDays: 30, scope: { kind: "platform", role: role === "operatorAdmin" ? "operator-admin" : "operator-viewer" } };
      const tenant = role === "otherTenantMember" ? fx.otherTenant.slug : fx.tenant.slug;
      return { name, expiresInDays: 30, scope: { kind: "tenant", tenant, role: "tenant-member" } };
    },
    expect: signedIn,
  },
  "apiTokens.revoke": {
    input: async (fx, role) => ({ id: role === "anonymous" ? "none" : (await apiTokenFixture(fx, fx.principals[role].userId)).id }),
    expect: signedIn,
  },
  "sshKeys.list": { input: () => ({}), expect: signedIn },
  "sshKeys.add": { input: async () => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, publicKey: await sshPublicKeyFixture() }), expect: signedIn },
  "sshKeys.delete": {
    input: async (fx, role) => ({ id: role === "anonymous" ? crypto.randomUUID() : (await sshKeyFixture(fx, fx.principals[role].userId)).id }),
    expect: signedIn,
  },

  // Networking: tenant members create and edit networking objects; deleting a VPC needs a tenant admin.
  "vpcs.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "vpcs.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).vpc.id }), expect: tenantRead },
  "vpcs.create": {
    input: async (fx) => {
      await networkFixture(fx); // raises the tenant's network quotas
      return { tenant: fx.tenant.slug, name: `authz-${crypto.randomUUID().slice(0, 8)}`, cidr: "10.20.0.0/16" };
    },
    expect: tenantWrite,
  },
  "vpcs.update": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).vpc.id, description: "changed" }), expect: tenantWrite },
  "vpcs.delete": {
    input: async (fx) => {
      const net = await networkFixture(fx);
      await fx.db.delete(netSchema.subnets).where(eq(netSchema.subnets.id, net.subnet.id));
      return { tenant: fx.tenant.slug, id: net.vpc.id };
    },
    expect: tenantAdminWrite,
  },
  "subnets.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "subnets.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).subnet.id }), expect: tenantRead },
  "subnets.create": {
    input: async (fx) => ({ tenant: fx.tenant.slug, vpcId: (await networkFixture(fx)).vpc.id, name: "second", cidr: "10.0.2.0/24" }),
    expect: tenantWrite,
  },
  "subnets.update": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).subnet.id, dnsServers: ["10.0.1.2"] }),
    expect: tenantWrite,
  },
  "subnets.delete": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).subnet.id }), expect: tenantWrite },
  "securityGroups.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "securityGroups.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).group.id }), expect: tenantRead },
  "securityGroups.affectedPorts": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await portFixture(fx)).group.id }), expect: tenantRead },
  "securityGroups.rulesStatus": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await portFixture(fx)).group.id }), expect: tenantRead },
  "securityGroups.create": { input: async (fx) => ({ tenant: fx.tenant.slug, vpcId: (await networkFixture(fx)).vpc.id, name: "web" }), expect: tenantWrite },
  "securityGroups.update": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).group.id, description: "changed" }),
    expect: tenantWrite,
  },
  "securityGroups.delete": {
    input: async (fx) => {
      const net = await networkFixture(fx);
      const [g] = await fx.db.insert(netSchema.securityGroups).values({ tenantId: fx.tenant.id, vpcId: net.vpc.id, name: "doomed" }).returning();
      return { tenant: fx.tenant.slug, id: g!.id };
    },
    expect: tenantWrite,
  },
  "securityGroups.addRule": {
    input: async (fx) => ({
      tenant: fx.tenant.slug,
      groupId: (await networkFixture(fx)).group.id,
      direction: "ingress",
      ethertype: "ipv4",
      protocol: "tcp",
      portMin: 443,
      portMax: 443,
      remoteCidr: "0.0.0.0/0",
    }),
    expect: tenantWrite,
  },
  "securityGroups.deleteRule": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).rule.id }), expect: tenantWrite },
  "ports.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "ports.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await portFixture(fx)).port.id }), expect: tenantRead },
  "ports.rules": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await portFixture(fx)).port.id }), expect: tenantRead },
  "ports.create": {
    input: async (fx) => ({ tenant: fx.tenant.slug, subnetId: (await networkFixture(fx)).subnet.id, name: `authz-${crypto.randomUUID().slice(0, 8)}` }),
    expect: tenantWrite,
  },
  "ports.update": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await portFixture(fx)).port.id, description: "changed" }), expect: tenantWrite },
  "ports.delete": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await portFixture(fx)).port.id }), expect: tenantWrite },
  "floatingIps.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "floatingIps.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await floatingIpFixture(fx)).fip.id }), expect: tenantRead },
  "floatingIps.networks": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "floatingIps.attachablePorts": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "floatingIps.allocate": {
    input: async (fx) => ({ tenant: fx.tenant.slug, providerNetworkId: (await usableProviderNetworkFixture(fx)).id }),
    expect: tenantWrite,
  },
  "floatingIps.attach": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await floatingIpFixture(fx)).fip.id, portId: (await instancePortFixture(fx)).port.id }),
    expect: tenantWrite,
  },
  "floatingIps.move": {
    input: async (fx) => {
      const from = await instancePortFixture(fx);
      return { tenant: fx.tenant.slug, id: (await floatingIpFixture(fx, from.port.id)).fip.id, portId: (await instancePortFixture(fx)).port.id };
    },
    expect: tenantWrite,
  },
  "floatingIps.detach": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await floatingIpFixture(fx, (await instancePortFixture(fx)).port.id)).fip.id }),
    expect: tenantWrite,
  },
  "floatingIps.release": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await floatingIpFixture(fx)).fip.id }), expect: tenantWrite },
  "vpcs.setExternalGateway": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await networkFixture(fx)).vpc.id, providerNetworkId: (await usableProviderNetworkFixture(fx)).id }),
    expect: tenantWrite,
  },
  "networksAdmin.providerNetworkUsage": { input: async (fx) => ({ id: (await providerNetworkFixture(fx)).id }), expect: operatorRead },
  "networksAdmin.overview": { input: () => undefined, expect: operatorRead },
  "networksAdmin.vpcs": { input: () => ({}), expect: operatorRead },
  "networksAdmin.subnets": { input: () => ({}), expect: operatorRead },
  "networksAdmin.providerNetworks": { input: () => ({}), expect: operatorRead },
  "networksAdmin.createProviderNetwork": {
    input: async (fx) => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, ...(await freeProviderSlot(fx)) }),
    expect: operatorWrite,
  },
  "networksAdmin.updateProviderNetwork": {
    input: async (fx) => ({ id: (await providerNetworkFixture(fx)).id, description: "changed" }),
    expect: operatorWrite,
  },
  "networksAdmin.deleteProviderNetwork": { input: async (fx) => ({ id: (await providerNetworkFixture(fx)).id }), expect: operatorWrite },
  "networksAdmin.tenantPolicy": { input: (fx) => ({ tenantSlug: fx.tenant.slug }), expect: operatorRead },
  "networksAdmin.setTenantPolicy": { input: (fx) => ({ tenantSlug: fx.otherTenant.slug, allowPublicCidrs: false }), expect: operatorWrite },

  // Storage (operator): the service is a real lab storage service (authz-fixtures storageFixture).
  "storage.overview": {
    input: async (fx) => {
      await storageFixture(fx);
      return undefined;
    },
    expect: operatorRead,
  },
  "storage.createDiskPool": {
    input: async (fx) => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, diskIds: [(await freeDiskFixture(fx)).id] }),
    expect: operatorWrite,
  },
  "storage.updateDiskPool": {
    input: async (fx) => ({ id: (await diskPoolFixture(fx)).id, name: `authz-${crypto.randomUUID().slice(0, 8)}` }),
    expect: operatorWrite,
  },
  "storage.deleteDiskPool": { input: async (fx) => ({ id: (await diskPoolFixture(fx)).id }), expect: operatorWrite },
  "storage.createLogicalPool": {
    input: async (fx) => ({
      name: `authz-${crypto.randomUUID().slice(0, 8)}`,
      diskPoolId: (await storageFixture(fx).then((x) => x.storage.getLogicalPool(x.logicalPoolId))).diskPoolId,
      redundancy: { type: "replica", copies: 2 },
    }),
    expect: operatorWrite,
  },
  "storage.updateLogicalPool": { input: async (fx) => ({ id: (await logicalPoolFixture(fx)).id, overcommitRatio: 2 }), expect: operatorWrite },
  "storage.deleteLogicalPool": { input: async (fx) => ({ id: (await logicalPoolFixture(fx)).id }), expect: operatorWrite },
  "storage.volumes": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: operatorRead },
  "storage.volume": { input: async (fx) => ({ id: (await volumeFixture(fx)).id }), expect: operatorRead },
  "storage.snapshots": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: operatorRead },
  "storage.targets": {
    input: async (fx) => {
      await storageFixture(fx);
      return {};
    },
    expect: operatorRead,
  },
  // Storage (tenant): volumes, snapshots, images.
  "volumes.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "volumes.usage": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "volumes.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await volumeFixture(fx)).id }), expect: tenantRead },
  "volumes.create": {
    input: async (fx) => {
      await storageFixture(fx);
      return { tenant: fx.tenant.slug, name: `authz-${crypto.randomUUID().slice(0, 8)}`, sizeGiB: 1 };
    },
    expect: tenantWrite,
  },
  "volumes.update": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await volumeFixture(fx)).id, description: "changed" }), expect: tenantWrite },
  "volumes.resize": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await volumeFixture(fx)).id, sizeGiB: 2 }), expect: tenantWrite },
  "volumes.delete": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await volumeFixture(fx)).id }), expect: tenantWrite },
  "snapshots.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "snapshots.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await snapshotFixture(fx)).id }), expect: tenantRead },
  "snapshots.create": {
    input: async (fx) => ({ tenant: fx.tenant.slug, volumeId: (await volumeFixture(fx)).id, name: `authz-${crypto.randomUUID().slice(0, 8)}` }),
    expect: tenantWrite,
  },
  "snapshots.delete": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await snapshotFixture(fx)).id }), expect: tenantWrite },
  "snapshots.promote": {
    input: async (fx) => ({
      tenant: fx.tenant.slug,
      id: (await snapshotFixture(fx)).id,
      name: `authz-${crypto.randomUUID().slice(0, 8)}`,
      os: "authz-os",
      version: "1",
    }),
    expect: tenantWrite,
  },
  "images.list": { input: () => ({}), expect: operatorRead },
  "images.osList": { input: () => undefined, expect: operatorRead },
  "images.get": { input: async (fx) => ({ id: (await imageFixture(fx)).id }), expect: operatorRead },
  "images.available": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "images.createFromSnapshot": {
    input: async (fx) => ({ snapshotId: (await snapshotFixture(fx)).id, name: `authz-${crypto.randomUUID().slice(0, 8)}`, os: "authz-os", version: "1" }),
    expect: operatorWrite,
  },
  "images.importFromUrl": {
    input: async (fx) => ({ ...(await imageUrlFixture(fx)), name: `authz-${crypto.randomUUID().slice(0, 8)}`, os: "authz-os", version: "1" }),
    expect: operatorWrite,
  },
  "images.clone": { input: async (fx) => ({ id: (await imageFixture(fx)).id, name: `authz-${crypto.randomUUID().slice(0, 8)}` }), expect: operatorWrite },
  "images.update": { input: async (fx) => ({ id: (await imageFixture(fx)).id, description: "changed" }), expect: operatorWrite },
  "images.delete": { input: async (fx) => ({ id: (await imageFixture(fx)).id }), expect: operatorWrite },
  "images.deleteOwn": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await imageFixture(fx, "tenant")).id }), expect: tenantWrite },
  // Webhooks: a tenant's admins manage its webhooks; operator admins the platform's (viewers may look). Creates name a
  // loopback URL, which the delivery policy refuses (BAD_REQUEST past authorization): no test ever posts anywhere.
  "webhooks.events": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantAdminWrite },
  "webhooks.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantAdminWrite },
  "webhooks.create": {
    input: (fx) => ({
      tenant: fx.tenant.slug,
      name: `authz-${crypto.randomUUID().slice(0, 8)}`,
      url: "https://127.0.0.1:9/hook",
      events: ["instance.state_changed"],
    }),
    expect: { ...tenantAdminWrite, tenantAdmin: "BAD_REQUEST" },
  },
  "webhooks.update": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await webhookFixture(fx, fx.tenant.id)).id, enabled: false }),
    expect: tenantAdminWrite,
  },
  "webhooks.delete": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await webhookFixture(fx, fx.tenant.id)).id }), expect: tenantAdminWrite },
  "webhooks.deliveries": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await webhookFixture(fx, fx.tenant.id)).id }), expect: tenantAdminWrite },
  "webhooks.test": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await webhookFixture(fx, fx.tenant.id)).id }), expect: tenantAdminWrite },
  "webhooks.redeliver": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await webhookFixture(fx, fx.tenant.id)).id, deliveryId: crypto.randomUUID() }),
    expect: { ...tenantAdminWrite, tenantAdmin: "NOT_FOUND" },
  },
  "platformWebhooks.events": { input: () => ({}), expect: operatorRead },
  "platformWebhooks.list": { input: () => ({}), expect: operatorRead },
  "platformWebhooks.create": {
    input: () => ({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, url: "https://127.0.0.1:9/hook", events: ["node.fault"] }),
    expect: { ...operatorWrite, operatorAdmin: "BAD_REQUEST" },
  },
  "platformWebhooks.update": { input: async (fx) => ({ id: (await webhookFixture(fx, null)).id, enabled: false }), expect: operatorWrite },
  "platformWebhooks.delete": { input: async (fx) => ({ id: (await webhookFixture(fx, null)).id }), expect: operatorWrite },
  "platformWebhooks.deliveries": { input: async (fx) => ({ id: (await webhookFixture(fx, null)).id }), expect: operatorRead },
  "platformWebhooks.test": { input: async (fx) => ({ id: (await webhookFixture(fx, null)).id }), expect: operatorWrite },
  "platformWebhooks.redeliver": {
    input: async (fx) => ({ id: (await webhookFixture(fx, null)).id, deliveryId: crypto.randomUUID() }),
    expect: { ...operatorWrite, operatorAdmin: "NOT_FOUND" },
  },
  // A tenant's own operations (the resource REST clients poll); another tenant's operation is NOT_FOUND like a missing one.
  "tenantOperations.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "tenantOperations.get": {
    input: async (fx) => {
      const [op] = await fx.db
        .insert(netSchema.operations)
        .values({ kind: "instance.create", targetType: "instance", tenantId: fx.tenant.id, steps: [] })
        .returning();
      return { tenant: fx.tenant.slug, id: op!.id };
    },
    expect: tenantRead,
  },
  "instances.list": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "instances.get": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }), expect: tenantRead },
  "instances.rulesStatus": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }), expect: tenantRead },
  "instances.adminList": { input: () => ({}), expect: operatorRead },
  // Authorized callers get past the guard and are refused by a rule (a pool without hosts; an instance still creating).
  "instances.flavors": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "instances.create": {
    input: async (fx) => ({
      tenant: fx.tenant.slug,
      name: `authz-${crypto.randomUUID().slice(0, 8)}`,
      poolId: (await instanceFixture(fx)).poolId,
      imageId: crypto.randomUUID(),
      subnetId: crypto.randomUUID(),
    }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.delete": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.start": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.stop": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.attachVolume": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id, volumeId: crypto.randomUUID() }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.detachVolume": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id, volumeId: crypto.randomUUID() }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.nics": { input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }), expect: tenantRead },
  // An instance still creating: NIC changes wait until it is running or stopped.
  "instances.addNic": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id, subnetId: crypto.randomUUID() }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.removeNic": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id, portId: crypto.randomUUID() }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.moveNic": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id, portId: crypto.randomUUID(), subnetId: crypto.randomUUID() }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.backup": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id, imageName: `authz-${crypto.randomUUID().slice(0, 8)}` }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.rebuild": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id, imageId: (await imageFixture(fx)).id }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  // Rescue needs a running instance, unrescue a rescued one: the fixture is still creating.
  "instances.rescue": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.unrescue": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  "instances.recover": { input: async (fx) => ({ id: (await instanceFixture(fx)).id }), expect: { ...operatorWrite, operatorAdmin: "PRECONDITION_FAILED" } },
  "instances.reboot": {
    input: async (fx) => ({ tenant: fx.tenant.slug, id: (await instanceFixture(fx)).id }),
    expect: { ...tenantWrite, tenantAdmin: "PRECONDITION_FAILED", tenantMember: "PRECONDITION_FAILED" },
  },
  // A tenant's home and activity log (reads of fx.tenant only).
  "activity.home": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
  "activity.log": { input: (fx) => ({ tenant: fx.tenant.slug, action: "vpc.create" }), expect: tenantRead },
  "activity.operations": { input: (fx) => ({ tenant: fx.tenant.slug, status: "failed" }), expect: tenantRead },
  "activity.facets": { input: (fx) => ({ tenant: fx.tenant.slug }), expect: tenantRead },
};
