"""Domain errors. Selectors translate OData errors into these with `raise ... from exc`."""

from __future__ import annotations


class OrderNotFound(Exception):
    """Not there, or not yours: the two are indistinguishable on purpose."""


class InvalidLookup(ValueError):
    """Input that can never name an order (bad characters, absurd length); it never reaches F&O."""


class OrdersUnavailable(Exception):
    """F&O could not answer. `kind` picks the wording and the status code; no stale copy was available."""

    def __init__(self, kind: str, *, retry_after: float | None = None, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.retry_after = retry_after
        self.detail = detail

    @property
    def status_code(self) -> int:
        return {"timeout": 504, "bad_answer": 502}.get(self.kind, 503)


class LookupBudgetExceeded(Exception):
    """This user has asked for more orders than the cache could answer, too fast: F&O is shared by every customer."""

    def __init__(self, *, retry_after: float, budget: str = "", shared: bool = False) -> None:
        super().__init__(f"lookup budget used up; retry in {retry_after:.0f} s")
        self.retry_after = retry_after
        self.budget = budget
        # The budget every guest shares (GUEST_TRACKING_READS_PER_MINUTE) is used up, not this guest's own.
        self.shared = shared


class LimitsUnavailable(Exception):
    """A limit that must hold could not be counted (the shared cache is down): refused rather than let through."""


class GuestLinkInvalid(Exception):
    """A guest tracking link that was not made by this portal, or was changed."""


class GuestLinkExpired(GuestLinkInvalid):
    """A guest tracking link older than GUEST_LINK_DAYS."""
