// Helpers shared by the instance routers (instances.ts, instance-actions.ts, instance-recovery.ts): the NOT_FOUND every
// caller outside the tenant gets, the row lock a state change takes and the state-rule refusal.
import { TRPCError } from "@trpc/server";
import { and, eq, ne } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { instances } from "@/db/schema";
import { type InstanceAction, instanceCan } from "@/domain/instance-rules";
import type { Context } from "../trpc";

export const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "No such instance in this tenant." });

export const refuse = (action: InstanceAction, state: string) => {
  const v = instanceCan[action](state);
  if (!v.ok) throw new TRPCError({ code: "PRECONDITION_FAILED", message: v.reason });
};

/** Locks the tenant's instance row for a state change; NOT_FOUND for anything not the caller's tenant's. */
export async function lockInstance(tx: Tx, tenantId: string, id: string) {
  const [row] = await tx
    .select()
    .from(instances)
    .where(and(eq(instances.id, id), eq(instances.tenantId, tenantId), ne(instances.state, "deleted")))
    .for("update");
  if (!row) throw notFound();
  return row;
}

export type Ctx = Context & { principal: NonNullable<Context["principal"]>; tenant: { id: string; slug: string } };

