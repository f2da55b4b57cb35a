"""Protecting F&O and our users from each other, one module per mechanism.

- `breaker.py`: the shared back-off F&O asks for (429) and the circuit breaker, consulted around every F&O call.
- `single_flight.py`: one read for everyone who wants the same thing at the same moment, across processes.
- `rate_limit.py`: the one fixed-window counter behind every limit of the portal.
- `budget.py`: a user's budget of lookups that had to be read from F&O.
- `shared_cache.py`: two cache operations in one Redis round trip (the single-flight lock's taking and release).

All state lives in the Django cache, so with Redis every process and instance shares it; with the local-memory
cache it holds within one process.
"""
