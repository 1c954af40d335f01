// Whether a module runs as the process's entry script (`tsx sim/lab.ts`) or is imported: the lab's command-line
// tools start only in the first case. Symlinks are resolved on both sides (npm bin links, /tmp mounts).
import fs from "node:fs";
import { fileURLToPath } from "node:url";

/** True when the module whose `import.meta.url` this is was the script node was started with. */
export function isEntryScript(moduleUrl: string): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return fs.realpathSync(arg) === fs.realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
