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
# The load balancer ends TLS and sets X-Forwarded-*; trust it only from the addresses given.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # the portal logs one JSON line per request itself
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def child_exit(server, worker):
    # Prometheus multiprocess mode: drop the gauges of a worker that exited.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
