#!/usr/bin/env bash
# `make run`: the F&O simulator on SIM_PORT and the portal on PORT, with demo data. Ctrl-C stops both.
set -euo pipefail
PY=.venv/bin/python
PORT=${PORT:-8000}
SIM_PORT=${SIM_PORT:-8001}
export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
export D365_URL=${D365_URL:-http://127.0.0.1:$SIM_PORT}

$PY -m simulator --port "$SIM_PORT" &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$SIM_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

if $PY manage.py help seed_demo >/dev/null 2>&1; then
  $PY manage.py seed_demo
fi
cat <<MSG

  The portal:        http://127.0.0.1:$PORT/
  The F&O simulator: http://127.0.0.1:$SIM_PORT/data/
  Stop both with Ctrl-C.

MSG
$PY manage.py runserver "127.0.0.1:$PORT"
