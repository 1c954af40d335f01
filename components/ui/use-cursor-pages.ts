"use client";
// Cursor paging state for server-side lists: a stack of cursors (previous/next) that resets when the
// filter or sort changes.
import { useCallback, useEffect, useState } from "react";

export function useCursorPages(resetKey: string) {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: resetKey is the trigger, not a value we read
  useEffect(() => setStack([null]), [resetKey]);
  const cursor = stack[stack.length - 1] ?? null;
  const next = useCallback((c: string | null | undefined) => c && setStack((s) => [...s, c]), []);
  const prev = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  return { cursor, pageIndex: stack.length - 1, next, prev, hasPrev: stack.length > 1 };
}

/** Debounces a value (for search boxes that query the server). */
export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
