"""One JSON object per log line, so the IT team's log pipeline can index the reference code, user and latency."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        request = entry.get("request")
        if request is not None and hasattr(request, "path"):
            # django.request attaches the request, whose repr holds the query string: search text and other
            # customer input stay out of the logs. Method and path are enough to find the line.
            entry["request"] = f"{getattr(request, 'method', '')} {str(request.path)[:200]}"
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
