// Tenant members: tenant admins manage their own tenant's members here; operators reach the same rules through
// tenants.addMember/removeMember/setMemberRole. Tenant admins invite by e-mail (inviteMember): the person joins only
// when they accept (server/api/routers/invitations.ts), and the answer never says whether the address has an account
// — except that a name given for an address without one creates that account here, with a temporary password shown
// once, and it joins at once (it is new and made by this tenant). Operators, who administer users platform-wide, add
// directly (addMemberDirect). The last tenant admin can't be removed or demoted.
import { z } from "zod";
import { memberAddSchema, tenantRoleInput } from "@/db/validation/tenancy";
import { createTRPCRouter, tenantProcedure } from "../trpc";
import { adminCount, inviteMember, listMembers, memberListInput, memberUniques, removeMember, setMemberRole } from "@/server/services/members";
import { transact } from "../transact";

export const membersRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(memberListInput)
    .query(async ({ ctx, input }) => {
      const res = await listMembers(ctx.db, ctx.tenant.id, input);
      return { ...res, adminCount: await adminCount(ctx.db, ctx.tenant.id), myRole: ctx.tenantRole };
    }),

  add: tenantProcedure("tenant-admin", { write: true })
    .input(memberAddSchema)
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, (tx) => inviteMember(tx, ctx, ctx.tenant, input), memberUniques);
    }),

  remove: tenantProcedure("tenant-admin")
    .input(z.object({ userId: z.string().min(1).max(100) }))
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, (tx) => removeMember(tx, ctx, ctx.tenant, input.userId));
    }),

  setRole: tenantProcedure("tenant-admin")
    .input(z.object({ userId: z.string().min(1).max(100), role: tenantRoleInput }))
    .mutation(async ({ ctx, input }) => {
      return transact(ctx.db, (tx) => setMemberRole(tx, ctx, ctx.tenant, input.userId, input.role));
    }),
});
