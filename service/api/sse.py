"""Server-Sent Events framing, and keep-alive comments while an answer is being worked on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

KEEPALIVE = ": keep-alive\n\n"  # an SSE comment: every client ignores it, but it is traffic


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


async def with_keepalive(events: Iterator[str], every: float) -> AsyncIterator[str]:
    """``events`` (a blocking iterator, stepped in worker threads), with a comment after each
    ``every`` seconds of silence.

    An LLM on a CPU can think for longer than a client, a proxy or the widget waits on a
    silent connection (the widget gives up after 30 s without a byte); a comment tells them
    the answer is still coming without changing what the stream says. ``every`` <= 0: none.
    """
    done = object()
    step: asyncio.Future | None = None
    try:
        while True:
            step = asyncio.ensure_future(run_in_threadpool(next, events, done))
            while every > 0 and not step.done():
                finished, _ = await asyncio.wait({step}, timeout=every)
                if not finished:
                    yield KEEPALIVE
            item = await step
            step = None
            if item is done:
                return
            yield item
    finally:
        # The client went away mid-step: close the iterator (stopping the LLM stream) once
        # that step returns; closing a generator while it runs in another thread would fail.
        close = getattr(events, "close", None)
        if close is not None:
            if step is None or step.done():
                close()
            else:
                step.add_done_callback(lambda _: close())
