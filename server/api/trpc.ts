// tRPC context and the procedure builders every router uses:
//   publicProcedure, authedProcedure, operatorProcedure(minRole), tenantProcedure(minRole).
// Scope is resolved here, once, not in each query. A resource the caller may not see is NOT_FOUND.
// Every procedure starts from `baseProcedure`: its errors go through the one mapping (errors.ts toTrpcError) and its
// raw input is refused when any string in it could not be stored (server/api/input-text.ts).
import "server-only";
import { initTRPC, TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import superjson from "superjson";
import { z, ZodError } from "zod";
import { type Db, getDb } from "@/db/client";
import * as s from "@/db/schema";
import { getAuth } from "@/server/auth/auth";
import { type Principal, resolveApiToken } from "@/server/auth/principal";
import { observeTrpc } from "@/server/lib/metrics";
import { requestIdFrom } from "@/server/lib/request-id";
import { fieldError, isFieldErrorCause, toTrpcError } from "./errors";
import { findUnstorableText } from "./input-text";

export type PlatformRole = (typeof s.platformRole.enumValues)[number];
export type TenantRole = (typeof s.tenantRole.enumValues)[number];

export interface Context {
  db: Db;
  principal: Principal | null;
  requestId: string;
  headers: Headers;
}

export async function createContext(opts: { headers: Headers }): Promise<Context> {
  const db = getDb();
  const requestId = requestIdFrom(opts.headers);
  let principal: Principal | null = null;
  const authz = opts.headers.get("authorization");
  if (authz?.startsWith("Bearer ")) {
    principal = await resolveApiToken(db, authz.slice(7).trim());
  } else {
    const session = await getAuth().api.getSession({ headers: opts.headers });
    if (session?.user) {
      const u = session.user as typeof session.user & { platformRole?: PlatformRole | null; disabled?: boolean };
      if (!u.disabled)
        principal = {
          userId: u.id,
          email: u.email,
          name: u.name,
          platformRole: u.platformRole ?? null,
          sessionId: session.session.id,
          tokenScope: null,
        };
    }
  }
  return { db, principal, requestId, headers: opts.headers };
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    let fieldErrors: Record<string, string[]> | undefined;
    if (error.cause instanceof ZodError) {
      fieldErrors = {};
      for (const issue of error.cause.issues) {
        const key = issue.path.join(".") || "_";
        fieldErrors[key] = [...(fieldErrors[key] ?? []), issue.message];
      }
    } else if (isFieldErrorCause(error.cause)) {
      fieldErrors = { [error.cause.field]: [error.cause.message] };
    }
    // An input error names the fields in its message too, for API clients without a form.
    const message =
      error.cause instanceof ZodError && fieldErrors
        ? `Invalid input: ${Object.entries(fieldErrors)
            .map(([k, v]) => `${k}: ${v.join(", ")}`)
            .join("; ")}`
        : error.code === "INTERNAL_SERVER_ERROR"
          ? "Something went wrong on the server; it has been logged."
          : shape.message;
    return { ...shape, message, data: { ...shape.data, stack: undefined, fieldErrors } };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
/** Whatever a procedure throws leaves it as the TRPCError a person can act on (a real fault stays a 500). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    const mapped = toTrpcError(result.error.cause);
    if (mapped) throw mapped;
  }
  return result;
});

/**
 * Strings Postgres cannot store (a NUL character, half of a UTF-16 surrogate pair) are refused before any procedure
 * sees them, naming the field — so a new procedure is covered without doing anything.
 */
const refuseUnstorableText = t.middleware(async ({ getRawInput, next }) => {
  const bad = findUnstorableText(await getRawInput());
  if (bad) throw fieldError(bad.path, `Invalid input: ${bad.path}: ${bad.problem}`, "BAD_REQUEST");
  return next();
});

/** Latency of every call by procedure path and result code (after the error mapping), for /metrics. */
const measure = t.middleware(async ({ path, next }) => {
  const t0 = performance.now();
  const result = await next();
  observeTrpc(path, result.ok ? "OK" : result.error.code, (performance.now() - t0) / 1000);
  return result;
});

const baseProcedure = t.procedure.use(measure).use(mapErrors).use(refuseUnstorableText);
export const publicProcedure = baseProcedure;

export const authedProcedure = baseProcedure.use(({ ctx, next }) => {
  if (!ctx.principal) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

const platformRank: Record<PlatformRole, number> = { "operator-viewer": 1, "operator-admin": 2 };

/** Operator console procedures. Non-operators get NOT_FOUND (the console does not exist for them). */
export function operatorProcedure(minRole: PlatformRole) {
  return authedProcedure.use(({ ctx, next }) => {
    const role = ctx.principal.tokenScope ? ctx.principal.tokenScope.platformRole : ctx.principal.platformRole;
    if (!role) throw new TRPCError({ code: "NOT_FOUND", message: "Not found." });
    if (platformRank[role] < platformRank[minRole])
      throw new TRPCError({ code: "FORBIDDEN", message: "Operator viewers can look but not change anything; ask an operator admin." });
    return next({ ctx: { ...ctx, platformRole: role } });
  });
}

const tenantRank: Record<TenantRole, number> = { "tenant-member": 1, "tenant-admin": 2 };
export const tenantInput = z.object({ tenant: z.string().min(1).max(63) });

/**
 * Tenant portal procedures: the input names the tenant by slug; the caller must be a member.
 * Non-members (operators included) get NOT_FOUND. A suspended tenant's members may read but not write
 * (write procedures pass `{ write: true }`).
 */
export function tenantProcedure(minRole: TenantRole, opts: { write?: boolean } = {}) {
  return authedProcedure.input(tenantInput).use(async ({ ctx, input, next }) => {
    const [row] = await ctx.db
      .select({ tenant: s.tenants, role: s.memberships.role })
      .from(s.tenants)
      .innerJoin(s.memberships, and(eq(s.memberships.tenantId, s.tenants.id), eq(s.memberships.userId, ctx.principal.userId)))
      .where(eq(s.tenants.slug, input.tenant));
    const scope = ctx.principal.tokenScope;
    if (!row || (scope && scope.tenantId !== row.tenant.id)) throw new TRPCError({ code: "NOT_FOUND", message: "Not found." });
    const role: TenantRole = scope?.tenantRole && tenantRank[scope.tenantRole] < tenantRank[row.role] ? scope.tenantRole : row.role;
    if (tenantRank[role] < tenantRank[minRole])
      throw new TRPCError({ code: "FORBIDDEN", message: "Only tenant admins can do this; ask one of your tenant's admins." });
    if (opts.write && row.tenant.state === "suspended")
      throw new TRPCError({ code: "FORBIDDEN", message: `Tenant ${row.tenant.name} is suspended: nothing new can be created until an operator resumes it.` });
    return next({ ctx: { ...ctx, tenant: row.tenant, tenantRole: role } });
  });
}
