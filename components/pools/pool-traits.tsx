"use client";
// A pool's required traits: every host of the pool must have them to be scheduled (hosts without them count as
// none of the pool's flavour); edited in the shared traits dialog.
import { useMutation } from "@tanstack/react-query";
import { TraitsDialog } from "@/components/nodes/node-traits";
import { useTRPC } from "@/components/trpc";
import { useDone } from "@/components/ui/use-done";

export function PoolTraitsDialog({ pool, onClose }: { pool: { id: string; name: string; requiredTraits: string[] }; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const m = useMutation(
    trpc.traits.setPool.mutationOptions({ onSuccess: () => done(`Required traits of pool ${pool.name} saved.`, trpc.pools.pathFilter(), onClose) }),
  );
  return (
    <TraitsDialog
      title={`Required traits of pool ${pool.name}`}
      hint="Instances of this pool are placed only on its hosts having every one of these traits."
      initial={pool.requiredTraits}
      mutation={m}
      onSave={(requiredTraits) => m.mutate({ id: pool.id, requiredTraits })}
      onClose={onClose}
    />
  );
}
