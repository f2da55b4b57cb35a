"""One pool of threads for the F&O reads a request makes side by side (an order's documents beside its header, the
parts of a split list). Each read sees the request's context variables, so its call joins that request's capture,
audit and log lines."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_pool = ThreadPoolExecutor(max_workers=24, thread_name_prefix="fno-read")
# asgiref's thread-tagged storage: what Django keeps per thread (a cache client and its connection, the active
# translation). Another thread's is invisible anyway, so it is not carried over.
_PER_THREAD = "asgiref.local"


def read_alongside(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
    return _pool.submit(_in_context_of, contextvars.copy_context(), fn, args, kwargs)


def _in_context_of(request: contextvars.Context, fn: Callable[..., T], args: Any, kwargs: Any) -> T:
    """Run `fn` in this pool thread with the request's context variables set, then put the thread's own back.

    Not `request.run(fn)`: in a throw-away copy of the request's context, Django would build a new cache client
    for every read; in the thread's own context each pool thread builds one and keeps it.
    """
    tokens = [(var, var.set(value)) for var, value in request.items() if var.name != _PER_THREAD]
    try:
        return fn(*args, **kwargs)
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
