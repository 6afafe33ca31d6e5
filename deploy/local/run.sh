#!/usr/bin/env bash
# `make run`: the service in the foreground on the local Kafka and database.
#
# Without real TikTok credentials in the environment, the TikTok Shop simulator is started
# beside it and the service is pointed at it, with a demo shop that has a few products and
# orders, and the platform's warehouse `wh-main` mapped to the simulator's default sales
# warehouse (so README's stock and price examples apply). The admin token is made once and kept
# in .local/admin-token. Everything the demo needs is written to .local/run.env (`make demo`
# reads it). LOCAL_DIR moves .local elsewhere, as for services.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL=${LOCAL_DIR:-$ROOT/.local}
PY=$ROOT/.venv/bin/python
SIM_PORT=${SIM_PORT:-8900}
cd "$ROOT"
mkdir -p "$LOCAL/logs"

set -a
eval "$("$ROOT/deploy/local/services.sh" env)"
set +a

if [[ -z ${ADMIN_API_TOKEN:-} ]]; then
  [[ -s $LOCAL/admin-token ]] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$LOCAL/admin-token"
  ADMIN_API_TOKEN=$(cat "$LOCAL/admin-token")
fi
export ADMIN_API_TOKEN

sim_pid=""
if [[ -z ${TIKTOK_APP_KEY:-} ]]; then
  # Every simulated shop starts with this sales warehouse as its default.
  sales_warehouse=$("$PY" -c 'from simulator.catalog import DEFAULT_SALES_WAREHOUSE as w; print(w)')
  export TIKTOK_APP_KEY=demo-app-key TIKTOK_APP_SECRET=demo-app-secret \
    TIKTOK_ACCESS_TOKEN=demo-access-token TIKTOK_SHOP_ID=demo-shop \
    TIKTOK_API_BASE_URL=http://127.0.0.1:$SIM_PORT TIKTOK_AUTH_BASE_URL=http://127.0.0.1:$SIM_PORT \
    TIKTOK_CATEGORY_ID=${TIKTOK_CATEGORY_ID:-600001} TIKTOK_DEFAULT_INVENTORY=${TIKTOK_DEFAULT_INVENTORY:-10} \
    TIKTOK_SHIPPING_PROVIDER_ID=${TIKTOK_SHIPPING_PROVIDER_ID:-sim-carrier} \
    TIKTOK_WAREHOUSE_MAP=${TIKTOK_WAREHOUSE_MAP:-wh-main:$sales_warehouse} \
    PUBLIC_WEBHOOK_URL=${PUBLIC_WEBHOOK_URL:-http://127.0.0.1:${INGRESS_PORT:-8080}/tiktok-shop/webhooks}
  SIM_DEMO_PRODUCTS=${SIM_DEMO_PRODUCTS:-12} SIM_DEMO_ORDERS=${SIM_DEMO_ORDERS:-8} \
    SIM_DEMO_WEBHOOK_URL=http://127.0.0.1:${INGRESS_PORT:-8080}/tiktok-shop/webhooks \
    "$PY" -m simulator --port "$SIM_PORT" --log-level warning >"$LOCAL/logs/simulator.log" 2>&1 &
  sim_pid=$!
  trap '[[ -n $sim_pid ]] && kill $sim_pid 2>/dev/null || true' EXIT
  echo "TikTok Shop simulator on http://127.0.0.1:$SIM_PORT (no real credentials set; log: $LOCAL/logs/simulator.log)"
  echo "  platform warehouses: $TIKTOK_WAREHOUSE_MAP (TIKTOK_WAREHOUSE_MAP)"
fi

env | grep -E '^(TIKTOK_|ADMIN_API_TOKEN|KAFKA_BOOTSTRAP_SERVERS|MONGODB_URI|INGRESS_|ADMIN_|PUBLIC_WEBHOOK_URL|RECONCILE_)' >"$LOCAL/run.env"
cat <<MSG
admin token: $ADMIN_API_TOKEN
  admin API: curl -H "Authorization: Bearer $ADMIN_API_TOKEN" http://127.0.0.1:${ADMIN_PORT:-8081}/admin/tiktok-shop/stats
  admin page: http://127.0.0.1:${ADMIN_PORT:-8081}/admin/tiktok-shop/ui/
  webhooks:  http://127.0.0.1:${INGRESS_PORT:-8080}/tiktok-shop/webhooks   (try: make demo)
MSG
"$PY" -m service all
