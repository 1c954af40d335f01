// The application router: one sub-router per resource (server/api/routers/<resource>.ts).
import { auditRouter } from "./routers/audit";
import { eventsRouter } from "./routers/events";
import { nodesRouter } from "./routers/nodes";
import { dpuBmcRouter } from "./routers/dpu-bmc";
import { eventDeliveryRouter } from "./routers/event-delivery";
import { nodeBiosRouter } from "./routers/node-bios";
import { traitsRouter } from "./routers/traits";
import { operationsRouter } from "./routers/operations";
import { poolsRouter } from "./routers/pools";
import { rolloutsRouter } from "./routers/rollouts";
import { sessionRouter } from "./routers/session";
import { apiTokensRouter } from "./routers/api-tokens";
import { invitationsRouter } from "./routers/invitations";
import { membersRouter } from "./routers/members";
import { quotasRouter } from "./routers/quotas";
import { sshKeysRouter } from "./routers/ssh-keys";
import { tenantsRouter } from "./routers/tenants";
import { usersRouter } from "./routers/users";
import { networksAdminRouter } from "./routers/networks-admin";
import { portsRouter } from "./routers/ports";
import { securityGroupsRouter } from "./routers/security-groups";
import { subnetsRouter } from "./routers/subnets";
import { vpcsRouter } from "./routers/vpcs";
import { floatingIpsRouter } from "./routers/floating-ips";
import { imagesRouter } from "./routers/images";
import { snapshotsRouter } from "./routers/snapshots";
import { storageRouter } from "./routers/storage";
import { volumesRouter } from "./routers/volumes";
import { instanceActionProcedures } from "./routers/instance-actions";
import { instanceNicProcedures } from "./routers/instance-nics";
import { instanceRecoveryProcedures } from "./routers/instance-recovery";
import { instanceRescueProcedures } from "./routers/instance-rescue";
import { instanceProcedures } from "./routers/instances";
import { tenantOperationsRouter } from "./routers/tenant-operations";
import { platformWebhooksRouter, webhooksRouter } from "./routers/webhooks";
import { activityRouter } from "./routers/activity";
import { accountRouter } from "./routers/account";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  pools: poolsRouter,
  rollouts: rolloutsRouter,
  audit: auditRouter,
  nodes: nodesRouter,
  dpuBmc: dpuBmcRouter,
  nodeBios: nodeBiosRouter,
  traits: traitsRouter,
  events: eventsRouter,
  eventDelivery: eventDeliveryRouter,
  operations: operationsRouter,
  tenants: tenantsRouter,
  users: usersRouter,
  members: membersRouter,
  invitations: invitationsRouter,
  quotas: quotasRouter,
  apiTokens: apiTokensRouter,
  sshKeys: sshKeysRouter,
  vpcs: vpcsRouter,
  subnets: subnetsRouter,
  securityGroups: securityGroupsRouter,
  ports: portsRouter,
  floatingIps: floatingIpsRouter,
  networksAdmin: networksAdminRouter,
  storage: storageRouter,
  volumes: volumesRouter,
  snapshots: snapshotsRouter,
  images: imagesRouter,
  // One router over several files: its own procedures, volumes/backup/rebuild, operator recovery, NICs, rescue.
  instances: createTRPCRouter({
    ...instanceProcedures,
    ...instanceActionProcedures,
    ...instanceRecoveryProcedures,
    ...instanceNicProcedures,
    ...instanceRescueProcedures,
  }),
  activity: activityRouter,
  tenantOperations: tenantOperationsRouter,
  webhooks: webhooksRouter,
  platformWebhooks: platformWebhooksRouter,
  account: accountRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
