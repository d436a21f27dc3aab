"""Log lines as text or as one JSON object each, every line carrying its request's ID.

The ID lives in a context variable set by ``service.api.access.RequestContext``; Starlette
runs sync routes and streaming iterators in worker threads with a copy of the context, so
lines logged anywhere while a request is served carry its ID. What is logged is chosen
here, not left to callers: the access line has the route template (never the raw path or
query), the status, the time and for asks whether they were answered; never a question,
document text, header or key.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

request_id: ContextVar[str | None] = ContextVar("citeqa_request_id", default=None)

ACCESS_LOGGER = "citeqa.access"
# Fields an access line may carry (LogRecord extras); anything else passed as extra is dropped.
ACCESS_FIELDS = ("method", "route", "status", "ms", "answerable", "mode")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or getattr(record, "request_id", None) or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or request_id.get(),
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config``: applied in every worker."""
    formatter = {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    handler = {"class": "logging.StreamHandler", "formatter": "citeqa", "filters": ["request_id"],
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"citeqa": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        # uvicorn's own loggers go through the root handler; its access log is replaced by
        # citeqa's (which knows the route template, the request ID and the outcome).
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level.upper()},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
