// Turns a failed storage-service call into an error a person can act on. The service's message is kept (it
// names the pool, the sizes, what depends on what); its field is renamed to the form field it belongs to
// (e.g. sizeBytes → sizeGiB) so the form can show it inline. "In use" refusals become PRECONDITION_FAILED.
import { TRPCError } from "@trpc/server";
import { StorageError } from "@/server/drivers/storage/client";
import { fieldError } from "../api/errors";

const RULE_CODES = new Set(["in_use", "has_dependent_clones", "volume_exported", "insufficient_capacity", "pool_full", "shrink_not_supported", "protocol_conflict", "cross_pool_clone"]);

export function storageError(e: unknown, fields: Record<string, string> = {}, prefix = "Storage service"): unknown {
  if (e instanceof TRPCError || !(e instanceof StorageError)) return e;
  const message = `${prefix}: ${e.message}`;
  if (e.status === 0 || e.status >= 500 || e.status === 429 || e.status === 401 || e.status === 403) {
    // Not the caller's fault and not fixable in the form: say what happened and that it is the service.
    return new TRPCError({ code: "BAD_GATEWAY", message: `${message} (the storage service did not do it; try again or tell an operator)` });
  }
  if (e.status === 404) return new TRPCError({ code: "NOT_FOUND", message });
  const code: TRPCError["code"] = RULE_CODES.has(e.code) || e.status === 409 || e.status === 422 ? (e.code === "name_taken" ? "CONFLICT" : "PRECONDITION_FAILED") : "BAD_REQUEST";
  const field = e.field ? (fields[e.field] ?? e.field) : undefined;
  return field ? fieldError(field, message, code) : new TRPCError({ code, message });
}
