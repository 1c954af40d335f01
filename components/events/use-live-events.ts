"use client";
// Live hardware events in the browser: listens to /api/events/stream (Server-Sent Events; app/api/events/stream) and
// refetches the events lists and node queries when any node got new events, so the Events page and a node's page
// show a fault within a second without reload. The pages keep their own polling as the fallback (a stream that
// cannot connect — a proxy that buffers, a replica going away — only makes them as slow as before).
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useTRPC } from "@/components/trpc";

/** Notifications closer together than this share one refetch (a bulk enroll writes events for many nodes). */
const COALESCE_MS = 300;

export function useLiveHardwareEvents(): void {
  const trpc = useTRPC();
  const qc = useQueryClient();
  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const src = new EventSource("/api/events/stream");
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refetch = () => {
      timer = null;
      void qc.invalidateQueries(trpc.events.pathFilter());
      void qc.invalidateQueries(trpc.nodes.pathFilter());
    };
    src.addEventListener("events", () => {
      timer ??= setTimeout(refetch, COALESCE_MS);
    });
    return () => {
      if (timer) clearTimeout(timer);
      src.close();
    };
  }, [qc, trpc]);
}
