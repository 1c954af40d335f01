#!/usr/bin/env bash
# The real-lab lane of `npm test` (scripts/test.sh runs it beside the main lane, in its own process group): the heavy
# vitest files (ANVIL_TEST_LANE=real: QEMU guests, the kill-at-each-step crash suite; the list is in
# vitest.config.ts), then — once the main lane's production build is there (test-results/.build-done; .build-failed
# ends this lane) — `npm run test:real`.
set -euo pipefail
cd "$(dirname "$0")/.."
lane_start=$(date +%s)
echo "== vitest: the heavy files (vitest.config.ts, ANVIL_TEST_LANE=real)"
ANVIL_TEST_LANE=real npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest-real.json
while [ ! -f test-results/.build-done ] && [ ! -f test-results/.build-failed ]; do sleep 2; done
[ -f test-results/.build-done ] || { echo "the production build failed (the main lane says why)"; exit 1; }
echo "== real lab (Playwright against Ceph, QEMU hosts and emulated DPUs: npm run test:real)"
PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright-real.json npx playwright test -c playwright.real.config.ts --reporter=list,json
echo "real-lab lane took $(( $(date +%s) - lane_start )) s"
