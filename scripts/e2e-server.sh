#!/usr/bin/env bash
# The server Playwright tests against: the production build, a fresh data folder (fresh embedded Postgres,
# demo data seeded), a generous login rate limit (the suite signs in many times from one address).
set -euo pipefail
cd "$(dirname "$0")/.."
export ANVIL_DATA_DIR=.data/e2e
rm -rf "$ANVIL_DATA_DIR"
[ -f .next/BUILD_ID ] || npx next build
export NODE_ENV=production ANVIL_LOGIN_RATE_MAX=1000 PORT="${PORT:-3199}"
exec npx tsx server.ts
