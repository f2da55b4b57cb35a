"""gunicorn settings; every value can be overridden from the environment (GUNICORN_*) or the command line."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Threads let one worker wait on F&O for several requests at once; lookups are I/O-bound.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 8))
# A request never needs longer than D365_TIMEOUT_SECONDS plus rendering; gunicorn kills workers stuck far beyond.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# The portal is imported once, in the master, and each worker forked from it: a recycled worker (max_requests) starts
# at once instead of importing Django and the portal again. Safe because importing the portal opens no connection and
# starts no thread (tests/orders/test_lookup_cost.py); each worker opens its own on first use. A new release needs a
# restart, not a HUP.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no")
# The load balancer ends TLS and sets X-Forwarded-*; gunicorn trusts X-Forwarded-Proto only from these addresses
# (comma-separated: the balancer's, never "*" unless only the balancer can reach this port). Set it together with
# DJANGO_TRUSTED_PROXY_COUNT, the number of proxies that append to X-Forwarded-For (1 for one balancer): the portal
# reads the client's address from that header, for sign-in lock-outs, logs and the audit (README, Deployment).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # the portal logs one JSON line per request itself
# If it is turned on: no query string, Referer, header, or path that holds a token (portal/gunicorn_logging.py).
logger_class = "portal.gunicorn_logging.RedactingLogger"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-reference}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def child_exit(server, worker):
    # Prometheus multiprocess mode: drop the gauges of a worker that exited.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
