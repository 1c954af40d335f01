#!/usr/bin/env node
// The `anvil` command (npm bin): runs cli/main.ts through tsx, so the CLI is the TypeScript source (no build step).
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("../cli/main.ts", import.meta.url);
await main();
