#!/usr/bin/env bash
# The server `npm run test:real` drives (playwright.real.config.ts): the production build with ANVIL_LAB=real —
# Ceph, QEMU hosts behind the Redfish BMC and emulated DPUs, started as their own process (sim/real/dev-lab.ts) so a
# killed BFF leaves them running and its restart adopts them. E2E_KEEP_DATA=1 (the spec's BFF restart) keeps the data
# folder and the running lab; otherwise a lab left by an earlier run is stopped and everything starts fresh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT="${PORT:-3299}"
export ANVIL_DATA_DIR=".data/e2e-real-${PORT}"
mkdir -p test-results
if [ "${E2E_KEEP_DATA:-}" != "1" ]; then
  manifest="$ANVIL_DATA_DIR/real-lab/lab.json"
  if [ -f "$manifest" ]; then
    pid=$(node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).pid) } catch {}' "$manifest")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" || true
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
  fi
  rm -rf "$ANVIL_DATA_DIR"
fi
[ -f .next/BUILD_ID ] || npx next build
export NODE_ENV=production ANVIL_LOGIN_RATE_MAX=1000
export ANVIL_LAB=real ANVIL_LAB_HOSTS="${ANVIL_LAB_HOSTS:-2}" ANVIL_SYNC_INTERVAL_S="${ANVIL_SYNC_INTERVAL_S:-5}"
export ANVIL_MGMT_ALLOW="127.0.0.0/8"
# The spec kills this process (SIGKILL, mid-create) by this pid and starts the script again with E2E_KEEP_DATA=1.
echo $$ > "test-results/real-bff-${PORT}.pid"
exec node --import tsx server.ts
