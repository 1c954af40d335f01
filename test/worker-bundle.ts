// The worker processes of the kill-at-each-step tests (test/instance-worker.ts: a second Anvil process running the
// workflow engine) start from one esbuild bundle of it, built once per test process, instead of through tsx's loader:
// the crash suite starts a few hundred of them, and a bundled start takes about half the CPU (no per-file transform
// and resolution; measured: 0.9 s against 2.1 s of CPU to load the engine's dependencies). npm packages stay external,
// so the bundle lives inside the tree (node_modules/.cache/anvil/) where Node finds them; `--conditions=react-server`
// as for tsx, so `server-only` resolves to its empty module. Workflow and step names are explicit strings, so the
// bundle's renaming of local functions changes nothing the engine records.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let built: Promise<string> | undefined;

/** The node arguments that start a worker (the bundle is built on the first call and removed at this process's exit). */
export async function workerArgs(): Promise<string[]> {
  built ??= (async () => {
    const dir = path.join(root, "node_modules", ".cache", "anvil");
    mkdirSync(dir, { recursive: true });
    const outfile = path.join(dir, `instance-worker-${process.pid}.mjs`);
    await build({
      entryPoints: [path.join(root, "test", "instance-worker.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      conditions: ["react-server"],
      alias: { "@": root },
      outfile,
      logLevel: "warning",
    });
    process.once("exit", () => rmSync(outfile, { force: true }));
    return outfile;
  })();
  return ["--conditions=react-server", await built];
}
