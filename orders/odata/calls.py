"""What a caller hands the client for one lookup, and what it hears back about each exchange.

Every call runs against a `Deadline`: the token, each attempt and each body chunk spend the same budget.
A `CallGuard` (breaker, shared back-off) may refuse a call before it is sent, and a `CallRecord` reports
every HTTP exchange, sent or failed, to whoever logs and counts them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from .errors import ODataError


class CallGuard(Protocol):
    """Decides whether a call may go to F&O now (breaker, shared back-off) and learns from its outcome."""

    def before_call(self, entity_set: str) -> None: ...

    def after_call(self, entity_set: str, error: ODataError | None) -> None: ...


class Deadline:
    """The whole time budget of one lookup, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass(frozen=True)
class CallRecord:
    """One HTTP exchange with F&O, for logs, metrics and the staff view.

    `request_id` is the portal's reference code of the lookup (many exchanges share it);
    `client_request_id` is the GUID sent to F&O for this exchange alone, and `activity_id`
    is F&O's `ms-dyn-aid` from its answer ("" when it sent none or never answered).
    """

    entity_set: str
    url: str
    status: int | None
    outcome: str
    latency_ms: float
    request_id: str
    attempt: int
    client_request_id: str = ""
    activity_id: str = ""
