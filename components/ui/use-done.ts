"use client";
// What a successful change does next, said once: a success toast, the lists it touched refetched, then
// (usually) the dialog closed.
import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useToast } from "./toast";

export type Invalidate = Parameters<QueryClient["invalidateQueries"]>[0];

export function useDone() {
  const qc = useQueryClient();
  const toast = useToast();
  return useCallback(
    async (message: string | null, invalidate: Invalidate | Invalidate[], then?: () => void) => {
      if (message) toast("success", message);
      await Promise.all((Array.isArray(invalidate) ? invalidate : [invalidate]).map((f) => qc.invalidateQueries(f)));
      then?.();
    },
    [qc, toast],
  );
}
