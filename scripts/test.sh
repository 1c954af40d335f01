#!/usr/bin/env bash
# `npm test`: everything — typecheck, lint, unit/integration tests (vitest, real Postgres, real lab processes and
# Debian peers), production build, E2E in Debian's Chromium (Playwright), and the real lab (Ceph, QEMU hosts,
# emulated DPUs). Installs what it needs first.
#
# Two lanes after the static checks, so the whole run fits CI's budget on two cores: the real-lab lane (the
# production build, the heavy vitest files — QEMU guests; the list is in vitest.config.ts — then `npm run test:real`)
# and the main lane (every other vitest file, then E2E against the build) each keep a core busy. The real-lab lane
# (scripts/test-real-lane.sh) writes to test-results/lane-real.log, printed when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
node scripts/ensure-deps.mjs
bash scripts/system-deps.sh
mkdir -p test-results
rm -f test-results/.build-done test-results/.build-failed test-results/vitest*.json test-results/playwright*.json

echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== lint"; npx biome lint --diagnostic-level=error .
echo "== format"; npx biome format . > test-results/format.log 2>&1 || { tail -40 test-results/format.log; echo "unformatted files: run npm run format"; exit 1; }

echo "== real-lab lane started (the production build, the heavy vitest files, npm run test:real): test-results/lane-real.log"
setsid bash scripts/test-real-lane.sh > test-results/lane-real.log 2>&1 &
real_lane=$!
trap 'kill -TERM -- "-$real_lane" 2>/dev/null || true' EXIT

main_rc=0
echo "== unit and integration tests (vitest; the heavy files run in the real-lab lane: vitest.config.ts)"
ANVIL_TEST_LANE=main npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json || main_rc=$?

while [ ! -f test-results/.build-done ] && [ ! -f test-results/.build-failed ] && kill -0 "$real_lane" 2>/dev/null; do sleep 2; done
[ -f test-results/.build-done ] || { echo "the production build failed (test-results/next-build.log)"; main_rc=1; }
if [ "$main_rc" = 0 ]; then
  echo "== end-to-end tests (Playwright, Debian Chromium)"
  PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright.json npx playwright test --reporter=list,json || main_rc=$?
fi

real_rc=0
wait "$real_lane" || real_rc=$?
trap - EXIT
echo "== real-lab lane (test-results/lane-real.log)"
cat test-results/lane-real.log
[ "$main_rc" = 0 ] || { echo "main lane failed"; exit "$main_rc"; }
[ "$real_rc" = 0 ] || { echo "real-lab lane failed"; exit "$real_rc"; }

node -e '
const fs = require("fs");
const read = (f) => JSON.parse(fs.readFileSync(`test-results/${f}`, "utf8"));
const v = [read("vitest.json"), read("vitest-real.json")];
const p = read("playwright.json");
const r = read("playwright-real.json");
const vp = v.reduce((n, x) => n + x.numPassedTests, 0);
const passed = vp + (p.stats.expected || 0) + (r.stats.expected || 0);
const failed = v.reduce((n, x) => n + x.numFailedTests, 0) + (p.stats.unexpected || 0) + (r.stats.unexpected || 0);
const skipped = v.reduce((n, x) => n + (x.numPendingTests || 0) + (x.numTodoTests || 0), 0) + (p.stats.skipped || 0) + (r.stats.skipped || 0);
console.log(`\nvitest: ${vp} passed; playwright: ${p.stats.expected} passed; real lab: ${r.stats.expected} passed`);
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
if (failed > 0 || skipped > 0) process.exit(1);
'
echo "npm test took $(( $(date +%s) - start )) s"
