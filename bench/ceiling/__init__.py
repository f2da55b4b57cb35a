"""The benchmark's ceiling: a minimal Django project (no middleware, no database, one view with a fixed JSON body)
that `make bench` runs under the portal's own gunicorn settings. What the portal adds to a cached answer is measured
against it."""
