"""Test settings: the real settings module, driven by the same environment, with a fixed key and fast hashing."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("D365_URL", "http://fno.test")
os.environ.setdefault("AUDIT_WRITE_MODE", "sync")


def _redis_url_for_this_worker(url: str) -> str:
    """Each pytest-xdist worker gets its own Redis database (15, 14, ... from the given one down): cache.clear()
    flushes a whole database, so workers must never share one. tests/processes.py keeps to database 10."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    database = int(number or 0) - int(worker[2:])
    if database <= 10:
        raise RuntimeError(f"too many pytest-xdist workers for {url}: worker {worker} would reach Redis database 10")
    return f"{base}/{database}"


# Once per worker: a subprocess that inherits the environment (manage.py with these settings) keeps the database.
if os.environ.get("REDIS_URL") and os.environ.get("TESTS_REDIS_WORKER") != os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["REDIS_URL"] = _redis_url_for_this_worker(os.environ["REDIS_URL"])
    os.environ["TESTS_REDIS_WORKER"] = os.environ.get("PYTEST_XDIST_WORKER", "")

from portal.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The hashed manifest needs collectstatic; tests render pages without it (tests/test_production.py builds it).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_AUTOREFRESH = True
