#!/usr/bin/env bash
# The real-lab lane of `npm test` (scripts/test.sh runs it beside the main lane, in its own process group): the
# production build (marked done by test-results/.build-done, which the main lane's E2E waits for), then the vitest
# files that boot QEMU guests or run Ceph, then `npm run test:real`. Arguments: those vitest files.
set -euo pipefail
cd "$(dirname "$0")/.."
lane_start=$(date +%s)
echo "== production build"
npx next build > test-results/next-build.log 2>&1 || { tail -50 test-results/next-build.log; exit 1; }
touch test-results/.build-done
echo "== vitest: real-lab files ($*)"
npx vitest run "$@" --reporter=default --reporter=json --outputFile.json=test-results/vitest-real.json
echo "== real lab (Playwright against Ceph, QEMU hosts and emulated DPUs: npm run test:real)"
PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright-real.json npx playwright test -c playwright.real.config.ts --reporter=list,json
echo "real-lab lane took $(( $(date +%s) - lane_start )) s"
