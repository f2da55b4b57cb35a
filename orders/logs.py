"""One JSON object per log line, so the IT team's log pipeline can index the reference code, user and latency."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from orders.log_paths import path_for_log

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
            # customer input stay out of the logs. Method and path are enough to find the line. Its message
            # ("Method Not Allowed (PUT): /watches/stop/<token>/") holds the path too: a token in it goes as well.
            path = str(request.path)
            logged = path_for_log(path, getattr(request, "resolver_match", None))
            entry["request"] = f"{getattr(request, 'method', '')} {logged[:200]}"
            if logged != path:
                entry["message"] = str(entry["message"]).replace(path, logged)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
