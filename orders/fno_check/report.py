"""What `fno_check` reports: one line per check, the token's claims (never the token), the companies seen."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckLine:
    section: str  # "token", "metadata", "read", "companies", "accounts"
    subject: str
    outcome: Outcome
    detail: str
    setting: str = ""  # the setting that would fix a failure
    latency_ms: int | None = None


@dataclass(frozen=True)
class TokenClaims:
    """What the IT team needs to see of the token: never the token itself."""

    audience: str
    tenant: str
    roles: tuple[str, ...]
    app_id: str


@dataclass(frozen=True)
class FnoCheckReport:
    started_at: datetime
    elapsed_ms: int
    environment: str
    lines: tuple[CheckLine, ...]
    token: TokenClaims | None = None
    companies: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[CheckLine, ...]:
        return tuple(line for line in self.lines if line.outcome is Outcome.FAIL)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "started_at": self.started_at.isoformat(),
            "elapsed_ms": self.elapsed_ms,
            "environment": self.environment,
            "token": asdict(self.token) if self.token else None,
            "companies": list(self.companies),
            "problems": len(self.problems),
            "lines": [{**asdict(line), "outcome": str(line.outcome)} for line in self.lines],
        }
