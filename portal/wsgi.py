import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()
# The URLconf and every view module it names, imported now rather than by each worker's first request: under
# gunicorn's preload_app the master imports them once and every worker, recycled ones too, starts with them.
_loaded = get_resolver().url_patterns
