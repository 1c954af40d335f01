#!/usr/bin/env bash
# The server Playwright tests against: the production build, a fresh data folder (fresh embedded Postgres,
# demo data seeded), a generous login rate limit (the suite signs in many times from one address).
set -euo pipefail
cd "$(dirname "$0")/.."
export ANVIL_DATA_DIR=".data/e2e-${PORT:-3199}"
rm -rf "$ANVIL_DATA_DIR"
[ -f .next/BUILD_ID ] || npx next build
export NODE_ENV=production ANVIL_LOGIN_RATE_MAX=1000 PORT="${PORT:-3199}"
# A lab of 21 hosts with DPUs: 16 enrolled and ready, 5 left for the tests to enroll, the last one's DPU behind its
# host's BMC (BMC cascade: no DPU BMC address in its row; e2e/dpu-bmc.spec.ts). Its manifest (BMC URLs, credentials,
# agent tokens, the Redfish admin URL for fault injection) is written for the specs to read.
export ANVIL_LAB="${ANVIL_LAB:-21}" ANVIL_LAB_ENROLL="${ANVIL_LAB_ENROLL:-16}" ANVIL_LAB_CASCADE="${ANVIL_LAB_CASCADE:-1}" ANVIL_LAB_MANIFEST=test-results/lab.json
export ANVIL_SYNC_INTERVAL_S="${ANVIL_SYNC_INTERVAL_S:-5}"
# The lab is on loopback, which the management-network policy refuses unless allowed; nothing else is.
export ANVIL_MGMT_ALLOW="127.0.0.0/8"
# The webhook spec's receiver runs on loopback over plain HTTP (e2e/webhooks.spec.ts); production refuses both.
export ANVIL_WEBHOOK_ALLOW="127.0.0.0/8" ANVIL_WEBHOOK_ALLOW_HTTP=1
# A lab OpenID Connect provider beside Anvil for the single sign-on spec (e2e/sso.spec.ts), exiting with this process
# (its --parent-pid is ours, which server.ts keeps through exec); its ANVIL_OIDC_* settings are in the file it writes
# once it listens on a free port.
mkdir -p test-results
OIDC_ENV="test-results/oidc-${PORT}.env"
rm -f "$OIDC_ENV"
npx tsx scripts/oidc-dev-provider.ts --anvil-url "http://localhost:${PORT}" --parent-pid $$ --write-env "$OIDC_ENV" >test-results/oidc-provider.log 2>&1 &
for _ in $(seq 1 150); do [ -s "$OIDC_ENV" ] && break; sleep 0.2; done
[ -s "$OIDC_ENV" ] || { echo "the lab OpenID Connect provider did not start (test-results/oidc-provider.log)" >&2; exit 1; }
# shellcheck disable=SC1090
source "$OIDC_ENV"
exec npx tsx server.ts
