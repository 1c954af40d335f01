"use client";
// Host traits on the node page (badges and an edit dialog) and the dialog itself, shared with a pool's required
// traits: traits are typed as a list (commas or spaces), normalized and checked as the server does (domain/traits.ts),
// so "custom-gpu" is saved as CUSTOM_GPU and a malformed one is a field error before anything is sent.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { type Resolver, type ResolverResult, useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { FormDialog, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { normalizeTraits } from "@/domain/traits";

export const splitTraits = (text: string) => text.split(/[\s,]+/).filter(Boolean);

export function TraitBadges({ traits, none }: { traits: readonly string[]; none: string }) {
  if (!traits.length) return <span className="text-sm text-zinc-500">{none}</span>;
  return (
    <span className="flex flex-wrap gap-1">
      {traits.map((t) => (
        <Badge key={t} tone="sky">
          {t}
        </Badge>
      ))}
    </span>
  );
}

type TraitsForm = { traits: string };

const traitsResolver: Resolver<TraitsForm> = async (v): Promise<ResolverResult<TraitsForm>> => {
  const r = normalizeTraits(splitTraits(v.traits));
  if (r.ok) return { values: v, errors: {} };
  return { values: {}, errors: { traits: { type: "traits", message: r.message } } };
};

/** Edits one list of traits (a host's, or a pool's required ones: the server's field error for those shows above). */
export function TraitsDialog({
  title,
  hint,
  initial,
  mutation,
  onSave,
  onClose,
}: {
  title: string;
  hint: string;
  initial: readonly string[];
  mutation: { isPending: boolean; error: unknown };
  onSave: (traits: string[]) => void;
  onClose: () => void;
}) {
  const form = useForm<TraitsForm>({ resolver: traitsResolver, defaultValues: { traits: initial.join(", ") } });
  return (
    <FormDialog
      title={title}
      form={form}
      fields={["traits"]}
      mutation={mutation}
      submitLabel="Save traits"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => {
        const r = normalizeTraits(splitTraits(v.traits));
        if (r.ok) onSave(r.traits);
      })}
    >
      <TextField name="traits" label="Traits" hint={hint} placeholder="CUSTOM_GPU, HW_CPU_X86_AVX512F" autoFocus />
    </FormDialog>
  );
}

export function NodeTraits({ node, changeReason }: { node: { id: string; name: string; traits: string[] }; changeReason: string | null }) {
  const trpc = useTRPC();
  const done = useDone();
  const [editing, setEditing] = useState(false);
  const m = useMutation(
    trpc.traits.setNode.mutationOptions({ onSuccess: () => done(`Traits of ${node.name} saved.`, trpc.nodes.pathFilter(), () => setEditing(false)) }),
  );
  return (
    <span className="flex flex-wrap items-center gap-2">
      <TraitBadges traits={node.traits} none="none" />
      <Button size="sm" disabledReason={changeReason} onClick={() => setEditing(true)}>
        Edit traits
      </Button>
      {editing ? (
        <TraitsDialog
          title={`Traits of ${node.name}`}
          hint="Commas or spaces between traits. Instances that require a trait are placed only on hosts having it."
          initial={node.traits}
          mutation={m}
          onSave={(traits) => m.mutate({ id: node.id, traits })}
          onClose={() => setEditing(false)}
        />
      ) : null}
    </span>
  );
}
