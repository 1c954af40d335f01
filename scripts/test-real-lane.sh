#!/usr/bin/env bash
# The real-lab lane of `npm test` (scripts/test.sh runs it beside the main lane, in its own process group): the
# production build (test-results/.build-done when made, .build-failed when not: the main lane's E2E waits for one of
# them), the heavy vitest files (ANVIL_TEST_LANE=real: QEMU guests; the list is in vitest.config.ts), then
# `npm run test:real`.
set -euo pipefail
cd "$(dirname "$0")/.."
lane_start=$(date +%s)
echo "== production build"
npx next build > test-results/next-build.log 2>&1 || { touch test-results/.build-failed; tail -50 test-results/next-build.log; exit 1; }
touch test-results/.build-done
echo "== vitest: the heavy files (vitest.config.ts, ANVIL_TEST_LANE=real)"
ANVIL_TEST_LANE=real npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest-real.json
echo "== real lab (Playwright against Ceph, QEMU hosts and emulated DPUs: npm run test:real)"
PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright-real.json npx playwright test -c playwright.real.config.ts --reporter=list,json
echo "real-lab lane took $(( $(date +%s) - lane_start )) s"
