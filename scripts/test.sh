#!/usr/bin/env bash
# `npm test`: everything, in the order a failure is cheapest to find —
# typecheck, lint, unit/integration tests (vitest, real Postgres, real lab processes and Debian peers),
# production build, then E2E in Debian's Chromium (Playwright). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
node scripts/ensure-deps.mjs
bash scripts/system-deps.sh
mkdir -p test-results

echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== lint"; npx biome lint --diagnostic-level=error .
echo "== format"; npx biome format . > test-results/format.log 2>&1 || { tail -40 test-results/format.log; echo "unformatted files: run npm run format"; exit 1; }
echo "== unit and integration tests"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
echo "== production build"; npx next build > test-results/next-build.log 2>&1 || { tail -50 test-results/next-build.log; exit 1; }
echo "== end-to-end tests (Playwright, Debian Chromium)"
PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright.json npx playwright test --reporter=list,json
echo "== real lab (Playwright against Ceph, QEMU hosts and emulated DPUs: npm run test:real)"
PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright-real.json npx playwright test -c playwright.real.config.ts --reporter=list,json

node -e '
const fs = require("fs");
const v = JSON.parse(fs.readFileSync("test-results/vitest.json", "utf8"));
const p = JSON.parse(fs.readFileSync("test-results/playwright.json", "utf8"));
const r = JSON.parse(fs.readFileSync("test-results/playwright-real.json", "utf8"));
const passed = v.numPassedTests + (p.stats.expected || 0) + (r.stats.expected || 0);
const failed = v.numFailedTests + (p.stats.unexpected || 0) + (r.stats.unexpected || 0);
const skipped = (v.numPendingTests || 0) + (v.numTodoTests || 0) + (p.stats.skipped || 0) + (r.stats.skipped || 0);
console.log(`\nvitest: ${v.numPassedTests} passed; playwright: ${p.stats.expected} passed; real lab: ${r.stats.expected} passed`);
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
if (failed > 0 || skipped > 0) process.exit(1);
'
echo "npm test took $(( $(date +%s) - start )) s"
