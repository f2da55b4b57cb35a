#!/usr/bin/env bash
# `make run`: the F&O simulator on SIM_PORT and the portal on PORT, with demo data. Ctrl-C stops both.
set -euo pipefail
PY=.venv/bin/python
PORT=${PORT:-8000}
SIM_PORT=${SIM_PORT:-8001}
export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
export D365_URL=${D365_URL:-http://127.0.0.1:$SIM_PORT}
# Links in e-mails and webhook payloads lead to this portal, whatever PORT is.
export PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}

# Watched orders are re-read every minute here (production default: 15), and e-mails go to this terminal.
export ORDERS_WATCH_INTERVAL_SECONDS=${ORDERS_WATCH_INTERVAL_SECONDS:-60}
export EMAIL_BACKEND=${EMAIL_BACKEND:-django.core.mail.backends.console.EmailBackend}
# Guest order tracking at /track/ (order number and delivery postal code, e.g. 92101 for usmf's demo orders).
export GUEST_TRACKING=${GUEST_TRACKING:-true}

$PY -m simulator --port "$SIM_PORT" &
SIM_PID=$!
WATCH_PID=""
trap 'kill $SIM_PID $WATCH_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$SIM_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

if $PY manage.py help seed_demo >/dev/null 2>&1; then
  $PY manage.py seed_demo
fi
# The watcher (python manage.py watch_orders): notifies watchers of changes to their orders.
$PY manage.py watch_orders &
WATCH_PID=$!
cat <<MSG

  The portal:        http://127.0.0.1:$PORT/
  Guest tracking:    http://127.0.0.1:$PORT/track/ (no account: order number and postal code, e.g. 92101)
  The F&O simulator: http://127.0.0.1:$SIM_PORT/data/
  The watcher runs beside them; its e-mails are printed here.
  Stop them all with Ctrl-C.

MSG
$PY manage.py runserver "127.0.0.1:$PORT"
