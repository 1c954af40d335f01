"use client";
// Live hardware events in the browser: listens to /api/events/stream (Server-Sent Events; app/api/events/stream) and
// refetches the events lists and node queries when any node got new events, so the Events page and a node's page
// show a fault within a second without reload. The pages keep their own polling as the fallback (a stream that
// cannot connect — a proxy that buffers, a replica going away — only makes them as slow as before).
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useTRPC } from "@/components/trpc";

/** At most one refetch per this long, however busy the fleet (a bulk enroll or a sync pass writes many events): the
 *  first notification refetches at once, later ones within the window share one refetch at its end. */
const MIN_GAP_MS = 1000;

export function useLiveHardwareEvents(): void {
  const trpc = useTRPC();
  const qc = useQueryClient();
  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const src = new EventSource("/api/events/stream");
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const refetch = () => {
      timer = null;
      last = Date.now();
      void qc.invalidateQueries(trpc.events.pathFilter());
      void qc.invalidateQueries(trpc.nodes.pathFilter());
    };
    src.addEventListener("events", () => {
      timer ??= setTimeout(refetch, Math.max(0, last + MIN_GAP_MS - Date.now()));
    });
    return () => {
      if (timer) clearTimeout(timer);
      src.close();
    };
  }, [qc, trpc]);
}
