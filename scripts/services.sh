#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1, and that the portal's role exists.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

psql_admin() { psql -h 127.0.0.1 -U postgres -d postgres -tAc "$1"; }
if [ "$(psql_admin "select 1 from pg_roles where rolname='portal'")" != "1" ]; then
  psql_admin "create role portal login createdb"
fi
if [ "$(psql_admin "select 1 from pg_database where datname='portal'")" != "1" ]; then
  psql_admin "create database portal owner portal"
fi
echo "PostgreSQL and Redis are ready"
