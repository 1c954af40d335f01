// Test helper: a console stream's output as text (latin1), its close reason, and a way to wait for a substring.
import type { ConsoleCloseReason, ConsoleStream } from "../server/console/types";

/** Watches `stream`; `waitFor` gives up after `ms` (default `defaultMs`) naming what it saw. */
export function watchConsole(stream: ConsoleStream, defaultMs = 5000) {
  let text = "";
  const closed = new Promise<ConsoleCloseReason>((r) => stream.once("close", r));
  stream.on("data", (d: Buffer) => {
    text += d.toString("latin1");
  });
  return {
    text: () => text,
    closed,
    async waitFor(needle: string, ms = defaultMs) {
      const end = Date.now() + ms;
      while (!text.includes(needle)) {
        if (Date.now() > end) throw new Error(`Console output never showed ${JSON.stringify(needle)}; got ${JSON.stringify(text)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
