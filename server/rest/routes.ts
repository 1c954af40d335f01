// The public REST API v1: every route is a tRPC procedure (one implementation, two transports). A route names the
// procedure it calls; its request schema IS that procedure's input schema (path parameters, then query string for
// GET/DELETE, JSON body otherwise), so validation, authorization, messages and audit are the same as the web app's.
// Response shapes are in ./schemas.ts. Add a route: one line here; the OpenAPI document, the reference page, the
// generated client and the authorization test (which reuses the procedure's row of test/authz-table.ts) follow.
import type { z } from "zod";
import * as S from "./schemas";

export type Method = "get" | "post" | "patch" | "delete";

export interface RestRoute {
  method: Method;
  /** OpenAPI path template under /api/v1, e.g. "/tenants/{tenant}/instances/{id}". */
  path: string;
  /** The tRPC procedure (key of the authz table), e.g. "instances.get". */
  procedure: string;
  operationId: string;
  summary: string;
  tag: string;
  /** Success status: 200, 201 (created), 202 (long work started: the body names the operation to poll). */
  status: 200 | 201 | 202;
  output: z.ZodType;
  /** Path parameters renamed on their way into the procedure's input (e.g. {volumeId} stays volumeId). */
  rename?: Record<string, string>;
  /** Extra fixed input (e.g. a bulk node action given one node). */
  wrapIds?: boolean;
  /** Creates accept an Idempotency-Key header (a retried request returns the first response). */
  idempotent?: boolean;
}

const T = "/tenants/{tenant}";
const routes: RestRoute[] = [];
function add(
  method: Method,
  path: string,
  procedure: string,
  operationId: string,
  summary: string,
  output: z.ZodType,
  opts: Partial<Pick<RestRoute, "status" | "rename" | "wrapIds" | "idempotent" | "tag">> = {},
) {
  const tag = opts.tag ?? procedure.split(".")[0]!;
  routes.push({
    method,
    path,
    procedure,
    operationId,
    summary,
    tag,
    status: opts.status ?? (method === "post" && opts.idempotent ? 201 : 200),
    output,
    ...opts,
  });
}

// ── Tenant: instances ────────────────────────────────────────────────────────────────────────────────────────────
add("get", `${T}/pools/{poolId}/traits`, "traits.ofPool", "listPoolTraits", "Traits an instance in this pool can require", S.poolTraitChoice, {
  tag: "instances",
});
add("get", `${T}/instances`, "instances.list", "listInstances", "List instances (filter by state or name)", S.pageOf(S.instance));
add("post", `${T}/instances`, "instances.create", "createInstance", "Create an instance (long work: poll the operation)", S.accepted, {
  status: 202,
  idempotent: true,
});
add("get", `${T}/instances/{id}`, "instances.get", "getInstance", "Get an instance with its volumes and latest operation", S.instanceDetail);
add("delete", `${T}/instances/{id}`, "instances.delete", "deleteInstance", "Delete an instance (releases its host, disk and address)", S.accepted, {
  status: 202,
});
add("post", `${T}/instances/{id}/start`, "instances.start", "startInstance", "Power an instance on", S.accepted, { status: 202 });
add("post", `${T}/instances/{id}/stop`, "instances.stop", "stopInstance", "Shut an instance down (force: power off)", S.accepted, { status: 202 });
add("post", `${T}/instances/{id}/reboot`, "instances.reboot", "rebootInstance", "Reboot an instance", S.accepted, { status: 202 });
add("post", `${T}/instances/{id}/volumes`, "instances.attachVolume", "attachVolume", "Hot-attach a data volume", S.accepted, { status: 202 });
add("delete", `${T}/instances/{id}/volumes/{volumeId}`, "instances.detachVolume", "detachVolume", "Detach a data volume", S.accepted, { status: 202 });
add("get", `${T}/instances/{id}/nics`, "instances.nics", "listInstanceNics", "List an instance's NICs (primary first)", S.instanceNics);
add("post", `${T}/instances/{id}/nics`, "instances.addNic", "addInstanceNic", "Hot-add a NIC (subnet, optional fixed address, security groups)", S.accepted, {
  status: 202,
});
add("delete", `${T}/instances/{id}/nics/{portId}`, "instances.removeNic", "removeInstanceNic", "Hot-remove a NIC (not the primary)", S.accepted, {
  status: 202,
});
add("post", `${T}/instances/{id}/nics/{portId}/move`, "instances.moveNic", "moveInstanceNic", "Move a NIC to another subnet (new address)", S.accepted, {
  status: 202,
});
add("post", `${T}/instances/{id}/backup`, "instances.backup", "backupInstance", "Back the system disk up into a tenant image", S.accepted, {
  status: 202,
  idempotent: true,
});
add("post", `${T}/instances/{id}/rebuild`, "instances.rebuild", "rebuildInstance", "Rebuild onto a fresh system disk (same address and MAC)", S.accepted, {
  status: 202,
});
add(
  "post",
  `${T}/instances/{id}/rescue`,
  "instances.rescue",
  "rescueInstance",
  "Boot a rescue image with the system disk attached as a data disk",
  S.accepted,
  {
    status: 202,
  },
);
add("post", `${T}/instances/{id}/unrescue`, "instances.unrescue", "unrescueInstance", "Boot the instance's own system disk again after a rescue", S.accepted, {
  status: 202,
});
add("get", `${T}/instances/{id}/console`, "instances.get", "getInstanceConsole", "The WebSocket URL of the instance's serial console", S.consoleUrl);
add("get", `${T}/flavors`, "instances.flavors", "listFlavors", "Pools offered as flavours, with free hosts", S.flavors, { tag: "instances" });
add("get", `${T}/operations`, "tenantOperations.list", "listOperations", "Recent operations of the tenant", S.pageOf(S.operation), { tag: "operations" });
add("get", `${T}/operations/{id}`, "tenantOperations.get", "getOperation", "Poll an operation", S.operation, { tag: "operations" });

// ── Tenant: storage ──────────────────────────────────────────────────────────────────────────────────────────────
add("get", `${T}/volumes`, "volumes.list", "listVolumes", "List volumes", S.pageOf(S.volume));
add("post", `${T}/volumes`, "volumes.create", "createVolume", "Create a volume (blank, from an image or a snapshot)", S.volume, { idempotent: true });
add("get", `${T}/volumes/{id}`, "volumes.get", "getVolume", "Get a volume", S.volume);
add("patch", `${T}/volumes/{id}`, "volumes.update", "updateVolume", "Rename or describe a volume", S.volume);
add("post", `${T}/volumes/{id}/resize`, "volumes.resize", "resizeVolume", "Grow a volume", S.volume);
add("delete", `${T}/volumes/{id}`, "volumes.delete", "deleteVolume", "Delete a volume (refused while attached)", S.deleted);
add("get", `${T}/snapshots`, "snapshots.list", "listSnapshots", "List snapshots", S.pageOf(S.snapshot));
add("post", `${T}/snapshots`, "snapshots.create", "createSnapshot", "Snapshot a volume", S.snapshot, { idempotent: true });
add("get", `${T}/snapshots/{id}`, "snapshots.get", "getSnapshot", "Get a snapshot", S.snapshot);
add("delete", `${T}/snapshots/{id}`, "snapshots.delete", "deleteSnapshot", "Delete a snapshot", S.deleted);
add("post", `${T}/snapshots/{id}/promote`, "snapshots.promote", "promoteSnapshot", "Make a tenant image of a snapshot", S.image, { idempotent: true });
add("get", `${T}/images`, "images.available", "listImages", "Images this tenant can boot (public and its own)", S.pageOf(S.image));
add("delete", `${T}/images/{id}`, "images.deleteOwn", "deleteImage", "Delete one of the tenant's own images", S.deleted);

// ── Tenant: networks ─────────────────────────────────────────────────────────────────────────────────────────────
add("get", `${T}/vpcs`, "vpcs.list", "listVpcs", "List VPCs", S.pageOf(S.vpc));
add("post", `${T}/vpcs`, "vpcs.create", "createVpc", "Create a VPC (gets a default security group)", S.vpc, { idempotent: true });
add("get", `${T}/vpcs/{id}`, "vpcs.get", "getVpc", "Get a VPC", S.vpc);
add("patch", `${T}/vpcs/{id}`, "vpcs.update", "updateVpc", "Rename or describe a VPC", S.vpc);
add("delete", `${T}/vpcs/{id}`, "vpcs.delete", "deleteVpc", "Delete an empty VPC", S.deleted);
add("get", `${T}/subnets`, "subnets.list", "listSubnets", "List subnets (filter by VPC)", S.pageOf(S.subnet));
add("post", `${T}/subnets`, "subnets.create", "createSubnet", "Create a subnet in a VPC", S.subnet, { idempotent: true });
add("get", `${T}/subnets/{id}`, "subnets.get", "getSubnet", "Get a subnet", S.subnet);
add("patch", `${T}/subnets/{id}`, "subnets.update", "updateSubnet", "Change a subnet's name, DNS servers, reserved ranges or IPv6 range", S.subnet);
add("delete", `${T}/subnets/{id}`, "subnets.delete", "deleteSubnet", "Delete an empty subnet", S.deleted);
add(
  "post",
  `${T}/vpcs/{id}/external-gateway`,
  "vpcs.setExternalGateway",
  "setVpcExternalGateway",
  "Set or clear the VPC's provider network (SNAT, floating IPs)",
  S.vpcExternalGateway,
);
add("get", `${T}/ports`, "ports.list", "listPorts", "List ports (MAC + address)", S.pageOf(S.port));
add("post", `${T}/ports`, "ports.create", "createPort", "Create a port on a subnet", S.port, { idempotent: true });
add("get", `${T}/ports/{id}`, "ports.get", "getPort", "Get a port", S.port);
add("patch", `${T}/ports/{id}`, "ports.update", "updatePort", "Change a port's name or security groups", S.port);
add("delete", `${T}/ports/{id}`, "ports.delete", "deletePort", "Delete a port", S.deleted);
add("get", `${T}/floating-ips`, "floatingIps.list", "listFloatingIps", "List floating IPs (filter by instance or port)", S.pageOf(S.floatingIp));
add("get", `${T}/floating-ip-networks`, "floatingIps.networks", "listFloatingIpNetworks", "Provider networks to allocate from", S.floatingIpNetworks, {
  tag: "floatingIps",
});
add("post", `${T}/floating-ips`, "floatingIps.allocate", "allocateFloatingIp", "Allocate a floating IP from a provider network", S.floatingIp, {
  idempotent: true,
});
add("get", `${T}/floating-ips/{id}`, "floatingIps.get", "getFloatingIp", "Get a floating IP", S.floatingIp);
add("post", `${T}/floating-ips/{id}/attach`, "floatingIps.attach", "attachFloatingIp", "Attach a floating IP to an instance NIC (portId)", S.floatingIpChange);
add("post", `${T}/floating-ips/{id}/move`, "floatingIps.move", "moveFloatingIp", "Move an attached floating IP to another NIC in one step", S.floatingIpChange);
add("post", `${T}/floating-ips/{id}/detach`, "floatingIps.detach", "detachFloatingIp", "Detach a floating IP (it stays allocated)", S.floatingIpChange);
add("delete", `${T}/floating-ips/{id}`, "floatingIps.release", "releaseFloatingIp", "Release a floating IP (detaching it first)", S.deleted);
add("get", `${T}/security-groups`, "securityGroups.list", "listSecurityGroups", "List security groups", S.pageOf(S.securityGroup));
add("post", `${T}/security-groups`, "securityGroups.create", "createSecurityGroup", "Create a security group in a VPC", S.securityGroup, { idempotent: true });
add("get", `${T}/security-groups/{id}`, "securityGroups.get", "getSecurityGroup", "Get a security group with its rules", S.securityGroupDetail);
add("patch", `${T}/security-groups/{id}`, "securityGroups.update", "updateSecurityGroup", "Rename or describe a security group", S.securityGroup);
add("delete", `${T}/security-groups/{id}`, "securityGroups.delete", "deleteSecurityGroup", "Delete a security group", S.deleted);
add("post", `${T}/security-groups/{groupId}/rules`, "securityGroups.addRule", "addSecurityRule", "Add a rule", S.securityRule, {
  idempotent: true,
  tag: "securityGroups",
});
add("delete", `${T}/security-rules/{id}`, "securityGroups.deleteRule", "deleteSecurityRule", "Delete a rule", S.deleted, { tag: "securityGroups" });

// ── Signed-in user ───────────────────────────────────────────────────────────────────────────────────────────────
add("get", "/ssh-keys", "sshKeys.list", "listSshKeys", "Your SSH public keys", S.pageOf(S.sshKey));
add("post", "/ssh-keys", "sshKeys.add", "addSshKey", "Add an SSH public key", S.sshKey, { idempotent: true });
add("delete", "/ssh-keys/{id}", "sshKeys.delete", "deleteSshKey", "Delete an SSH key", S.deleted);

// ── Operators ────────────────────────────────────────────────────────────────────────────────────────────────────
add("get", "/nodes", "nodes.list", "listNodes", "List nodes (hosts; DPUs with includeChildren)", S.pageOf(S.node));
add("post", "/nodes", "nodes.enroll", "enrollNode", "Enroll a host by its BMC (and its DPU's)", S.deleted.meta({ id: "Enrolled" }), { idempotent: true });
add("get", "/nodes/{id}", "nodes.get", "getNode", "Get a node with its DPU children", S.node);
add("post", "/nodes/{id}/inspect", "nodes.inspect", "inspectNode", "Inspect a node (inventory, DPU discovery)", S.nodeResults, { wrapIds: true });
add("post", "/nodes/{id}/power", "nodes.power", "powerNode", "Power a node on, off, or reset it", S.nodeResults, { wrapIds: true });
add("post", "/nodes/{id}/boot-device", "nodes.setBootDevice", "setBootDevice", "Set the next boot device", S.deleted.meta({ id: "BootDeviceResult" }));
add("post", "/nodes/{id}/maintenance", "nodes.setMaintenance", "setMaintenance", "Put a node in or out of maintenance", S.nodeResults, { wrapIds: true });
add("get", "/nodes/{id}/bios", "nodeBios.get", "getNodeBios", "A host's BIOS attributes: current, pending (next reboot) and registry", S.nodeBios, {
  tag: "nodes",
});
add(
  "patch",
  "/nodes/{id}/bios",
  "nodeBios.set",
  "setNodeBios",
  "Store BIOS attributes on a host's BMC (checked against its registry; they apply at the next reboot)",
  S.actionMessage,
  { tag: "nodes" },
);
add("post", "/nodes/{id}/traits", "traits.setNode", "setNodeTraits", "Set a node's traits (replaces them)", S.nodeTraits, { tag: "nodes" });
add(
  "post",
  "/nodes/{id}/virtual-media-boot",
  "nodes.virtualMediaBoot",
  "virtualMediaBoot",
  "Boot a host once from an ISO through Redfish virtual media (long work)",
  S.accepted,
  { status: 202 },
);
add(
  "post",
  "/nodes/{id}/dpu-bmc-credentials",
  "dpuBmc.setCredentials",
  "setDpuBmcCredentials",
  "Give a DPU its own BMC credentials (probed before saving)",
  S.dpuBmcCredentials,
  { tag: "nodes" },
);
add("get", "/rollouts", "rollouts.list", "listRollouts", "List rolling DPU OS updates, newest first", S.pageOf(S.rollout));
add("post", "/rollouts", "rollouts.start", "startRollout", "Start a rolling DPU OS update over a pool or a selection of hosts", S.rolloutRef, {
  idempotent: true,
});
add("get", "/rollouts/{id}", "rollouts.get", "getRollout", "Get a rollout with each host's progress", S.rolloutDetail);
add("post", "/rollouts/{id}/pause", "rollouts.pause", "pauseRollout", "Pause a rollout (hosts updating finish; nothing new starts)", S.rolloutRef);
add("post", "/rollouts/{id}/resume", "rollouts.resume", "resumeRollout", "Resume a paused rollout (failed hosts are tried again)", S.rolloutRef);
add("post", "/rollouts/{id}/abort", "rollouts.abort", "abortRollout", "Abort a rollout (hosts not started are skipped)", S.rolloutRef);
add("post", "/pools/{id}/required-traits", "traits.setPool", "setPoolTraits", "Set the traits every host of a pool must have", S.poolTraits, { tag: "pools" });
add("get", "/pools", "pools.list", "listPools", "List pools", S.pageOf(S.pool));
add("post", "/pools", "pools.create", "createPool", "Create a pool", S.pool, { idempotent: true });
add("get", "/pools/{id}", "pools.get", "getPool", "Get a pool", S.pool);
add("patch", "/pools/{id}", "pools.update", "updatePool", "Change a pool", S.pool);
add("delete", "/pools/{id}", "pools.delete", "deletePool", "Delete an empty pool", S.deleted);
add("get", "/tenants", "tenants.list", "listTenants", "List tenants", S.pageOf(S.tenant));
add("post", "/tenants", "tenants.create", "createTenant", "Create a tenant", S.tenant, { idempotent: true });
add("get", "/tenants/{id}", "tenants.get", "getTenant", "Get a tenant with its quota and usage", S.tenant);
add("post", "/tenants/{id}/suspend", "tenants.suspend", "suspendTenant", "Suspend a tenant", S.tenant);
add("post", "/tenants/{id}/resume", "tenants.resume", "resumeTenant", "Resume a tenant", S.tenant);
add("get", "/users", "users.list", "listUsers", "List users", S.pageOf(S.user));
add("post", "/users", "users.create", "createUser", "Create a user (a temporary password is returned once)", S.deleted.meta({ id: "UserCreated" }), {
  idempotent: true,
});
add("get", "/users/{id}", "users.get", "getUser", "Get a user", S.user);

export const restRoutes: readonly RestRoute[] = routes;

/** "/tenants/{tenant}/instances/{id}" → its parameter names, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** Matches a concrete path (under /api/v1) to a route; parameters decoded. */
export function matchRoute(method: string, path: string): { route: RestRoute; params: Record<string, string> } | { allowed: Method[] } | null {
  const allowed: Method[] = [];
  const parts = path.split("/").filter(Boolean);
  for (const route of routes) {
    const tpl = route.path.split("/").filter(Boolean);
    if (tpl.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < tpl.length && ok; i++) {
      const m = /^\{(\w+)\}$/.exec(tpl[i]!);
      if (m) {
        let v: string;
        try {
          v = decodeURIComponent(parts[i]!);
        } catch {
          ok = false;
          break;
        }
        params[m[1]!] = v;
      } else ok = tpl[i] === parts[i];
    }
    if (!ok) continue;
    if (route.method === method.toLowerCase()) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : null;
}
