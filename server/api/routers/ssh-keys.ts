// SSH public keys of the signed-in user (provisioning puts them on servers): add, list, delete.
// Keys are validated by decoding them (domain/ssh-keys.ts); a duplicate key or name is a field error.
// Adding and deleting need a signed-in session: a key reaches servers in every tenant of the user, so a token
// scoped to one tenant must not be able to plant one.
import { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { sshKeys } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { sshKeyAddSchema } from "@/db/validation/tenancy";
import { parseSshPublicKey } from "@/domain/ssh-keys";
import { audit } from "@/server/services/audit";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { authedProcedure, createTRPCRouter } from "../trpc";
import { transact } from "../transact";
import { insertRow } from "../updates";

const uniques = {
  ssh_keys_user_fp_uq: { field: "publicKey", message: "You have already added this key." },
  ssh_keys_user_name_uq: { field: "name", message: "You already have a key with this name." },
};

const sessionOnly = authedProcedure.use(({ ctx, next }) => {
  if (ctx.principal.tokenScope)
    throw new TRPCError({ code: "FORBIDDEN", message: "API tokens can't add or delete SSH keys; sign in to the console to do this." });
  return next();
});

export const sshKeysRouter = createTRPCRouter({
  list: authedProcedure.input(pageInput.pick({ cursor: true, limit: true }).default({ limit: 50 })).query(async ({ ctx, input }) => {
    const query = ctx.db
      .select({
        ...columnsOf(sshKeys, "id", "name", "keyType", "bits", "comment", "fingerprint", "createdAt"),
      })
      .from(sshKeys);
    return listPage(query, { ...input, dir: "asc" }, { sort: { createdAt: sshKeys.createdAt }, id: sshKeys.id }, eq(sshKeys.userId, ctx.principal.userId));
  }),

  add: sessionOnly.input(sshKeyAddSchema).mutation(async ({ ctx, input }) => {
    const parsed = parseSshPublicKey(input.publicKey);
    if (!parsed.ok) throw fieldError("publicKey", parsed.reason, "BAD_REQUEST");
    const k = parsed.key;
    return transact(
      ctx.db,
      async (tx) => {
        const key = {
          userId: ctx.principal.userId,
          name: input.name,
          publicKey: k.publicKey,
          keyType: k.type,
          bits: k.bits,
          comment: k.comment,
          fingerprint: k.fingerprint,
        };
        return insertRow(tx, ctx, sshKeys, key, { type: "ssh_key", verb: "add", details: { type: k.type, fingerprint: k.fingerprint } });
      },
      uniques,
    );
  }),

  delete: sessionOnly.input(z.object({ id: z.uuid() })).mutation(({ ctx, input }) =>
    ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .delete(sshKeys)
        .where(and(eq(sshKeys.id, input.id), eq(sshKeys.userId, ctx.principal.userId)))
        .returning();
      if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "You have no SSH key with that id." });
      await audit(tx, ctx, {
        action: "ssh_key.delete",
        targetType: "ssh_key",
        targetId: row.id,
        targetName: row.name,
        details: { fingerprint: row.fingerprint },
      });
      return { id: row.id };
    }),
  ),
});
