// Turns every failure a procedure can meet (database, storage service, BMC, DPU agent, rule compiler) into an error a
// person can act on, never a bare 500 — in one place: `toTrpcError` is applied to every procedure by the base
// middleware in trpc.ts, so a router that forgets to catch still answers with the right code and the service's message.
// Our error classes are recognised by brand (server/lib/brand.ts), not `instanceof`: the custom server and Next's
// bundles hold separate copies of the modules, and errors cross between them through shared clients.
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { isBmcError } from "@/server/drivers/bmc/types";
import { isDpuAgentError } from "@/server/drivers/dpu-agent/client";
import { isStorageError } from "@/server/drivers/storage/client";
import { isRuleCompileError } from "@/server/domain/rule-compiler";
import { type DomainError, type DomainErrorKind, isDomainError } from "@/domain/errors";
import { errorBrand, hasBrand, setBrand } from "@/server/lib/brand";
import type { Logger } from "pino";
import { logger } from "@/server/lib/log";

/** A TRPCError from any copy of @trpc/server (tRPC itself recognises foreign copies by name the same way). */
export function isTrpcError(e: unknown): e is TRPCError {
  return e instanceof TRPCError || (e instanceof Error && e.name === "TRPCError" && typeof (e as { code?: unknown }).code === "string");
}

/** A field-level problem the form can show next to the field. */
export function fieldError(field: string, message: string, code: TRPCError["code"] = "CONFLICT"): TRPCError {
  return new TRPCError({ code, message, cause: new FieldErrorCause(field, message) });
}

const FIELD_ERROR_CAUSE = errorBrand("FieldErrorCause");
export class FieldErrorCause extends Error {
  constructor(
    public field: string,
    message: string,
  ) {
    super(message);
    this.name = "FieldErrorCause";
    setBrand(this, FIELD_ERROR_CAUSE);
  }
}
export function isFieldErrorCause(e: unknown): e is FieldErrorCause {
  return hasBrand(e, FIELD_ERROR_CAUSE);
}

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
}

function pgErrorOf(e: unknown): PgError | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    const c = cur as PgError & { cause?: unknown };
    if (typeof c.code === "string" && /^[0-9A-Z]{5}$/.test(c.code)) return c;
    cur = c.cause;
  }
  return undefined;
}

/** Per unique or exclusion constraint, the field error a violation becomes (CONFLICT unless `code` says otherwise). */
export type ConstraintFields = Record<string, { field: string; message: string; code?: TRPCError["code"] }>;

/**
 * Maps a Postgres error to a TRPCError. `uniques` names, per unique or exclusion constraint, the field and message
 * to show (e.g. pools_name_uq → name: "A pool with this name already exists"; subnets_no_overlap → cidr: "…overlaps…").
 */
export function mapDbError(e: unknown, uniques: ConstraintFields = {}): unknown {
  if (isTrpcError(e) || isDomainError(e)) return e;
  const pg = pgErrorOf(e);
  if (!pg) return e;
  const named = pg.constraint && (pg.code === "23505" || pg.code === "23P01") ? uniques[pg.constraint] : undefined;
  if (named) return fieldError(named.field, named.message, named.code);
  if (pg.code === "23505") return new TRPCError({ code: "CONFLICT", message: "That would duplicate an existing record." });
  if (pg.code === "23503") return new TRPCError({ code: "CONFLICT", message: "Other records still depend on this one; remove them first." });
  if (pg.code === "23514" || pg.code === "23P01")
    return new TRPCError({ code: "CONFLICT", message: `The change breaks a rule of the data (${pg.constraint ?? "constraint"}).` });
  if (pg.code?.startsWith("22")) return new TRPCError({ code: "BAD_REQUEST", message: "A value is out of range or malformed." });
  if (pg.code === "40001" || pg.code === "40P01") return new TRPCError({ code: "CONFLICT", message: "Another change happened at the same time; try again." });
  return e;
}

const STORAGE_RULE_CODES = new Set([
  "in_use",
  "has_dependent_clones",
  "volume_exported",
  "insufficient_capacity",
  "pool_full",
  "shrink_not_supported",
  "protocol_conflict",
  "cross_pool_clone",
]);

/**
 * A failed storage-service call as an error a person can act on. The service's message is kept (it names the pool,
 * the sizes, what depends on what); its field is renamed to the form field it belongs to (`fields`, e.g.
 * sizeBytes → sizeGiB) so the form can show it inline. "In use" refusals become PRECONDITION_FAILED.
 * Anything that is not a storage error is returned unchanged.
 */
export function storageError(e: unknown, fields: Record<string, string> = {}, prefix = "Storage service"): unknown {
  if (isTrpcError(e) || !isStorageError(e)) return e;
  const message = `${prefix}: ${e.message}`;
  if (e.status === 0 || e.status >= 500 || e.status === 429 || e.status === 401 || e.status === 403) {
    // Not the caller's fault and not fixable in the form: say what happened and that it is the service.
    return new TRPCError({ code: "BAD_GATEWAY", message: `${message} (the storage service did not do it; try again or tell an operator)` });
  }
  if (e.status === 404) return new TRPCError({ code: "NOT_FOUND", message });
  const code: TRPCError["code"] =
    STORAGE_RULE_CODES.has(e.code) || e.status === 409 || e.status === 422 ? (e.code === "name_taken" ? "CONFLICT" : "PRECONDITION_FAILED") : "BAD_REQUEST";
  const field = e.field ? (fields[e.field] ?? e.field) : undefined;
  return field ? fieldError(field, message, code) : new TRPCError({ code, message });
}

const DOMAIN_CODES: Record<DomainErrorKind, TRPCError["code"]> = {
  not_found: "NOT_FOUND",
  conflict: "CONFLICT",
  precondition: "PRECONDITION_FAILED",
  forbidden: "FORBIDDEN",
  invalid: "BAD_REQUEST",
};

/** A service's refusal (domain/errors.ts) as the tRPC error of its kind; one with a field becomes a field error. */
function domainToTrpc(e: DomainError): TRPCError {
  const code = DOMAIN_CODES[e.kind];
  return e.field ? fieldError(e.field, e.message, code) : new TRPCError({ code, message: e.message, cause: e });
}

/** BMC errors that say the node's setup is wrong (credentials, certificate, capability, management-network policy). */
const BMC_REFUSALS = new Set<string>(["auth", "tls", "unsupported", "forbidden"]);

/**
 * The one mapping from anything a procedure threw to a TRPCError, or undefined when it is a real server fault
 * (a bug: that one stays a 500 and is logged with its stack).
 */
export function toTrpcError(e: unknown): TRPCError | undefined {
  if (isTrpcError(e)) return e;
  if (isDomainError(e)) return domainToTrpc(e);
  if (isStorageError(e)) return storageError(e) as TRPCError;
  if (isBmcError(e)) {
    const message = `BMC ${e.address}: ${e.message}`;
    if (e.code === "invalid") return new TRPCError({ code: "BAD_REQUEST", message, cause: e });
    if (BMC_REFUSALS.has(e.code)) return new TRPCError({ code: "PRECONDITION_FAILED", message, cause: e });
    return new TRPCError({ code: "BAD_GATEWAY", message: `${message} (the BMC did not do it; try again or check the node)`, cause: e });
  }
  if (isDpuAgentError(e)) {
    if (e.status === 404) return new TRPCError({ code: "NOT_FOUND", message: e.message, cause: e });
    if (e.status === 0 || e.status >= 500)
      return new TRPCError({ code: "BAD_GATEWAY", message: `${e.message} (the DPU agent did not do it; try again or tell an operator)`, cause: e });
    return new TRPCError({ code: "PRECONDITION_FAILED", message: e.message, cause: e });
  }
  if (isRuleCompileError(e)) return new TRPCError({ code: "PRECONDITION_FAILED", message: e.message, cause: e });
  const db = mapDbError(e);
  if (db !== e && isTrpcError(db)) return db;
  return undefined;
}

/**
 * Logs a failed procedure: a client error (4xx) as one short line (what was refused and why — its stack says nothing
 * about the caller's mistake and floods the log); a server error (5xx) with its cause and stack.
 */
export function logTrpcError(error: TRPCError, path: string | undefined, log: Pick<Logger, "info" | "error"> = logger): void {
  const status = getHTTPStatusCodeFromError(error);
  if (status >= 500) log.error({ err: error.cause ?? error, path, code: error.code }, "tRPC procedure failed");
  else log.info({ path, code: error.code, status, reason: error.message.slice(0, 300) }, "tRPC request refused");
}
