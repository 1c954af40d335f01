"use client";
// True once React has hydrated the page on the client. Controls whose handler lives only in JavaScript (sign in,
// sign out, the tenant switcher) stay disabled until then: a click that lands first would otherwise do nothing (or, for
// a form, submit natively), where a disabled control tells the person — and a browser test's auto-wait — to wait.
import { useSyncExternalStore } from "react";

const subscribe = () => () => {};

export function useHydrated(): boolean {
  // The server snapshot (false) is used for the server render and hydration; the client snapshot (true) after that.
  return useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
}
