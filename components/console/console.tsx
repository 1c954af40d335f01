"use client";
// The serial console in the browser: xterm.js on the console WebSocket (/api/console/<nodeId>, protocol in
// server/console/README.md). Fits its container, keeps scrollback, copy/paste (selection + Ctrl+Shift+C/V and
// buttons), screen-reader mode, the app's light/dark theme, a status badge with the reason, automatic
// reconnect with backoff, "Send break", "Download log", and a read-only indicator for operator viewers.
// xterm.js touches `window` when imported, so it is loaded only in the browser, inside useEffect.
import "@xterm/xterm/css/xterm.css";
import type { FitAddon } from "@xterm/addon-fit";
import type { ITheme, Terminal } from "@xterm/xterm";
import { useCallback, useEffect, useRef, useState } from "react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { bufferText, type ConsoleState, consoleUrl, FINAL_CLOSE_CODES, HANDOVER_CLOSE_CODE, parseControl, reconnectDelayMs } from "./protocol";

const LIGHT: ITheme = {
  background: "#ffffff",
  foreground: "#18181b",
  cursor: "#0284c7",
  selectionBackground: "#bae6fd",
  black: "#18181b",
  brightBlack: "#71717a",
  white: "#d4d4d8",
  brightWhite: "#f4f4f5",
};
const DARK: ITheme = {
  background: "#09090b",
  foreground: "#e4e4e7",
  cursor: "#38bdf8",
  selectionBackground: "#075985",
};

const isDark = () => document.documentElement.classList.contains("dark");

interface View {
  /** The browser ⇄ Anvil link and, once linked, Anvil ⇄ BMC as the server reports it. */
  state: ConsoleState;
  reason?: string;
  /** When the browser will try again (ms since epoch), while waiting to reconnect. */
  retryAt?: number;
  final?: boolean;
}

const badge: Record<ConsoleState, { tone: BadgeTone; label: string }> = {
  connecting: { tone: "sky", label: "Connecting" },
  connected: { tone: "green", label: "Connected" },
  reconnecting: { tone: "amber", label: "Reconnecting" },
  closed: { tone: "red", label: "Closed" },
};

/**
 * A node's console (operators), or an instance's (`instanceId`: the host it runs on at each connect, so the view
 * follows a recovery). `returnTo` is where "Sign in again" comes back to.
 */
export function SerialConsole({ nodeId, instanceId, nodeName, returnTo }: { nodeId?: string; instanceId?: string; nodeName: string; returnTo?: string }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const wsRef = useRef<WebSocket | null>(null);
  const readOnlyRef = useRef(false);
  const [view, setView] = useState<View>({ state: "connecting" });
  const [readOnly, setReadOnly] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [screenReader, setScreenReader] = useState(false);
  // Read when the terminal is created (it may be toggled before xterm.js has loaded).
  const screenReaderRef = useRef(false);

  const sendBytes = useCallback((text: string) => {
    const ws = wsRef.current;
    if (readOnlyRef.current || !ws || ws.readyState !== WebSocket.OPEN) return;
    // A big paste goes in 16 KiB frames: the proxy refuses frames over 64 KiB.
    const bytes = new TextEncoder().encode(text);
    for (let at = 0; at < bytes.length; at += 16 * 1024) ws.send(bytes.subarray(at, at + 16 * 1024));
  }, []);

  useEffect(() => {
    let disposed = false;
    let attempt = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let term: Terminal | undefined;
    let fit: FitAddon | undefined;
    let resizeObs: ResizeObserver | undefined;
    let themeObs: MutationObserver | undefined;

    const sendResize = () => {
      const ws = wsRef.current;
      if (term && ws?.readyState === WebSocket.OPEN && !readOnlyRef.current) ws.send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
    };

    const connect = () => {
      if (disposed || !term) return;
      setView((v) => ({ state: attempt === 0 ? "connecting" : "reconnecting", reason: v.reason }));
      const ws = new WebSocket(consoleUrl(window.location, instanceId ? { instanceId } : (nodeId ?? "")));
      ws.binaryType = "arraybuffer";
      wsRef.current = ws;
      ws.onmessage = (ev) => {
        if (typeof ev.data !== "string") {
          term?.write(new Uint8Array(ev.data as ArrayBuffer));
          return;
        }
        const msg = parseControl(ev.data);
        if (!msg) return;
        if (msg.type === "hello") {
          attempt = 0;
          readOnlyRef.current = msg.readOnly;
          setReadOnly(msg.readOnly);
          if (term) term.options.disableStdin = msg.readOnly;
          // The server replays its scrollback next; start clean so a reconnect does not show it twice.
          term?.reset();
          sendResize();
        } else if (msg.type === "status") {
          setView({ state: msg.state, reason: msg.reason, final: msg.code !== undefined && FINAL_CLOSE_CODES.has(msg.code) });
        } else if (msg.type === "error") {
          setNotice(msg.reason);
        }
      };
      ws.onclose = (ev) => {
        if (wsRef.current === ws) wsRef.current = null;
        if (disposed) return;
        if (FINAL_CLOSE_CODES.has(ev.code)) {
          setView((v) => ({ state: "closed", reason: v.state === "closed" && v.reason ? v.reason : ev.reason || `Closed (code ${ev.code})`, final: true }));
          return;
        }
        // A handover: look again straight away (an instance's console finds its current host, or learns it is gone).
        const delay = ev.code === HANDOVER_CLOSE_CODE && attempt === 0 ? 250 : reconnectDelayMs(attempt++);
        if (ev.code === HANDOVER_CLOSE_CODE) attempt++;
        setView((v) => ({
          state: "reconnecting",
          reason: ev.reason || (v.state === "closed" ? v.reason : undefined) || "Lost the connection to Anvil",
          retryAt: Date.now() + delay,
        }));
        retryTimer = setTimeout(connect, delay);
      };
    };

    void (async () => {
      const [{ Terminal: XTerm }, { FitAddon: Fit }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
      if (disposed || !hostRef.current) return;
      term = new XTerm({
        scrollback: 10_000,
        convertEol: false,
        cursorBlink: true,
        fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace',
        fontSize: 14,
        theme: isDark() ? DARK : LIGHT,
        screenReaderMode: screenReaderRef.current,
      });
      fit = new Fit();
      term.loadAddon(fit);
      term.open(hostRef.current);
      fit.fit();
      termRef.current = term;
      term.onData((d) => sendBytes(d));
      // Ctrl+Shift+C / Ctrl+Shift+V: copy the selection / paste (plain Ctrl+C stays an interrupt for the server).
      term.attachCustomKeyEventHandler((e) => {
        if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
        if (e.code === "KeyC") {
          const sel = term?.getSelection();
          if (sel) void navigator.clipboard?.writeText(sel);
          return false;
        }
        if (e.code === "KeyV") {
          void navigator.clipboard?.readText().then((t) => term?.paste(t));
          return false;
        }
        return true;
      });
      resizeObs = new ResizeObserver(() => {
        fit?.fit();
        sendResize();
      });
      resizeObs.observe(hostRef.current);
      themeObs = new MutationObserver(() => {
        if (term) term.options.theme = isDark() ? DARK : LIGHT;
      });
      themeObs.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
      term.focus();
      connect();
    })();

    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      resizeObs?.disconnect();
      themeObs?.disconnect();
      wsRef.current?.close(1000);
      wsRef.current = null;
      term?.dispose();
      termRef.current = null;
    };
  }, [nodeId, instanceId, sendBytes]);

  useEffect(() => {
    screenReaderRef.current = screenReader;
    if (termRef.current) termRef.current.options.screenReaderMode = screenReader;
  }, [screenReader]);

  // Re-render once a second while a retry countdown is shown.
  const [, tick] = useState(0);
  useEffect(() => {
    if (!view.retryAt) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [view.retryAt]);

  const linked = view.state === "connected";
  const writeReason = readOnly
    ? "Read-only: operator viewers can watch the console but not type or send a break"
    : !linked
      ? "The console is not connected"
      : null;
  const b = badge[view.state];
  const retryIn = view.retryAt ? Math.max(0, Math.ceil((view.retryAt - Date.now()) / 1000)) : null;

  return (
    <div className="flex min-h-0 flex-1 flex-col gap-3">
      <div className="flex flex-wrap items-center gap-2">
        <span role="status" aria-live="polite" className="flex items-center gap-2">
          <Badge tone={b.tone}>{b.label}</Badge>
          {view.reason && view.state !== "connected" ? (
            <span className="text-sm text-zinc-600 dark:text-zinc-400">
              {view.reason}
              {retryIn !== null && view.state === "reconnecting" ? ` — retrying in ${retryIn} s` : ""}
            </span>
          ) : null}
        </span>
        {readOnly ? (
          <Badge tone="violet" title="Operator viewers see the output; what you type is not sent">
            Read-only
          </Badge>
        ) : null}
        <span className="flex-1" />
        <Button
          size="sm"
          disabledReason={writeReason}
          onClick={() => {
            wsRef.current?.send(JSON.stringify({ type: "break" }));
            termRef.current?.focus();
          }}
        >
          Send break
        </Button>
        <Button
          size="sm"
          onClick={() => {
            const sel = termRef.current?.getSelection();
            if (!sel) return setNotice("Select text in the console first (drag with the mouse), then copy.");
            void navigator.clipboard?.writeText(sel).then(
              () => setNotice(null),
              () => setNotice("The browser refused clipboard access; use Ctrl+Shift+C."),
            );
          }}
        >
          Copy
        </Button>
        <Button
          size="sm"
          disabledReason={writeReason}
          onClick={() => {
            void navigator.clipboard?.readText().then(
              (t) => termRef.current?.paste(t),
              () => setNotice("The browser refused clipboard access; use Ctrl+Shift+V."),
            );
          }}
        >
          Paste
        </Button>
        <Button
          size="sm"
          onClick={() => {
            const term = termRef.current;
            if (!term) return;
            const blob = new Blob([bufferText(term.buffer.active)], { type: "text/plain" });
            const a = document.createElement("a");
            a.href = URL.createObjectURL(blob);
            a.download = `${nodeName}-console-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`;
            a.click();
            URL.revokeObjectURL(a.href);
          }}
        >
          Download log
        </Button>
        <label className="flex items-center gap-1.5 text-sm text-zinc-700 dark:text-zinc-300">
          <input type="checkbox" checked={screenReader} onChange={(e) => setScreenReader(e.target.checked)} />
          Screen reader mode
        </label>
      </div>
      {notice ? (
        <p
          role="alert"
          className="rounded border border-amber-300 bg-amber-50 px-3 py-1.5 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
        >
          {notice}{" "}
          <button type="button" className="underline" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </p>
      ) : null}
      <section
        aria-label={`Serial console of ${nodeName}`}
        className="min-h-0 flex-1 overflow-hidden rounded-md border border-zinc-300 bg-white p-1 dark:border-zinc-700 dark:bg-zinc-950"
      >
        <div ref={hostRef} className="h-full w-full" data-testid="console-terminal" />
      </section>
      {view.final && view.state === "closed" && /sign in/i.test(view.reason ?? "") ? (
        <a href={`/login?next=${encodeURIComponent(returnTo ?? `/ops/nodes/${nodeId}/console`)}`} className="text-sm text-sky-700 underline dark:text-sky-400">
          Sign in again
        </a>
      ) : null}
    </div>
  );
}
