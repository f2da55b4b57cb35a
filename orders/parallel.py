"""One pool of threads for the F&O reads a request makes side by side (an order's documents beside its header, the
parts of a split list). Each read runs in a copy of the request's context, so its call joins that request's
capture, audit and log lines."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_pool = ThreadPoolExecutor(max_workers=24, thread_name_prefix="fno-read")


def read_alongside(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
    return _pool.submit(contextvars.copy_context().run, fn, *args, **kwargs)
