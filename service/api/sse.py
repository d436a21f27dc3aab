"""Server-Sent Events framing."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel


def sse_event(event: str | None, data: Any) -> str:
    """One SSE message; ``data`` is JSON-encoded, so it never spans lines."""
    if isinstance(data, BaseModel):
        payload = data.model_dump_json()
    elif isinstance(data, list) and data and isinstance(data[0], BaseModel):
        payload = "[" + ",".join(d.model_dump_json() for d in data) + "]"
    elif isinstance(data, str) and event is None:
        payload = data  # OpenAI's "[DONE]" sentinel is sent bare
    else:
        payload = json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


def wants_stream(flag: bool, accept: str | None) -> bool:
    return flag or "text/event-stream" in (accept or "").lower()


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
